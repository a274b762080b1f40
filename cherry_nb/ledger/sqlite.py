"""`SQLiteLedger`: the embedded usage store, a SQLite file next to the config file.

* Off the request path: `record()` only puts the record on a queue (no lock, no
  disk); one writer thread drains it in batches, each batch one transaction, waking
  about twice per batch rather than once per record.
* Several processes (`cherry-nb serve --workers N`) write the same file: WAL lets
  readers and one writer work at once, and a busy timeout makes writers queue for
  the write lock instead of failing.
* Bounded: the writer deletes records older than `retention_days` and beyond
  `max_rows` (oldest first), at its first write and then every `prune_interval`.
* Flushed on `close()` and at interpreter exit; a batch that cannot be written is
  retried, then dropped with a logged warning — never raised at a request.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import fields
from operator import attrgetter
from pathlib import Path
from typing import Any

from .._exceptions import LedgerError
from .base import Ledger
from .query import FIELDS, check_filters
from .records import UsageRecord

LEDGER_FILE = "usage.sqlite"
DEFAULT_RETENTION_DAYS = 90.0
DEFAULT_MAX_ROWS = 1_000_000
WRITE_ATTEMPTS = 3

log = logging.getLogger("cherry_nb.ledger")

_COLUMNS = ", ".join(FIELDS)
_INSERT = f"INSERT INTO usage ({_COLUMNS}) VALUES ({', '.join('?' for _ in FIELDS)})"
_STREAM = FIELDS.index("stream")
_ROW = attrgetter(*FIELDS)  # a record's values in column order (astuple copies deeply: 4x)


def ledger_path(config_file: Path) -> Path:
    """Where the ledger of a config file lives: `usage.sqlite` in the same directory."""
    return Path(config_file).parent / LEDGER_FILE


def _sql_type(annotation: object) -> str:
    text = str(annotation)
    if "float" in text:
        return "REAL"
    if "int" in text or "bool" in text:
        return "INTEGER"
    return "TEXT"


_SQL_TYPES = {f.name: _sql_type(f.type) for f in fields(UsageRecord)}


class _Flush:
    """A marker on the queue: set once everything queued before it is written."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


class SQLiteLedger(Ledger):
    """A SQLite (WAL) usage ledger written by one background thread per process."""

    def __init__(
        self,
        path: Path | str,
        *,
        retention_days: float | None = DEFAULT_RETENTION_DAYS,
        max_rows: int | None = DEFAULT_MAX_ROWS,
        batch_size: int = 500,
        batch_wait: float = 0.2,
        prune_interval: float = 600.0,
        busy_timeout: float = 30.0,
    ) -> None:
        self.path = Path(path)
        self.retention_days = retention_days
        self.max_rows = max_rows
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.prune_interval = prune_interval
        self.busy_timeout = busy_timeout
        self.dropped = 0  # records lost to write failures (each one logged)
        self.batches = 0  # transactions written: how well records are batched
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._hurry = threading.Event()  # set while a flush or close marker is queued
        self._markers = 0
        self._markers_lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"<SQLiteLedger {self.path}>"

    # ---- writing ----------------------------------------------------------------------

    def record(self, record: UsageRecord) -> None:
        if self._writer is None:
            self._start()
        if not self._closed:
            self._queue.put(record)

    def flush(self, timeout: float | None = None) -> bool:
        if self._writer is None or not self._writer.is_alive():
            return True
        marker = _Flush()
        self._send_marker(marker)
        return marker.done.wait(timeout)

    def close(self) -> None:
        with self._start_lock:
            if self._closed:
                return
            self._closed = True
            writer = self._writer
        atexit.unregister(self.close)
        if writer is not None:
            self._send_marker(_STOP)
            writer.join(self.busy_timeout + 5)

    def _send_marker(self, marker: object) -> None:
        """Queue a flush or stop marker and wake the writer for it (and keep it awake
        until it has taken every marker queued)."""
        with self._markers_lock:
            self._markers += 1
            self._queue.put(marker)
            self._hurry.set()

    def _took_marker(self) -> None:
        with self._markers_lock:
            self._markers -= 1
            if not self._markers:
                self._hurry.clear()

    def _start(self) -> None:
        with self._start_lock:
            if self._writer is not None or self._closed:
                return
            self._writer = threading.Thread(target=self._run, name="cherry-nb-ledger", daemon=True)
            self._writer.start()
            atexit.register(self.close)

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        last_prune = float("-inf")
        stopping = False
        while not stopping:
            batch, markers, stopping = self._next_batch()
            if batch:
                try:
                    if connection is None:
                        connection = _connect(self.path, self.busy_timeout)
                    self._write(connection, batch)
                    if time.monotonic() - last_prune >= self.prune_interval:
                        self._prune(connection)
                        last_prune = time.monotonic()
                except Exception as error:  # the writer must outlive any one batch
                    self.dropped += len(batch)
                    log.warning(
                        "cherry_nb: %d usage record(s) could not be written to %s: %s",
                        len(batch),
                        self.path,
                        error,
                    )
                    if connection is not None:
                        connection.close()
                        connection = None
            for marker in markers:
                marker.done.set()
        if connection is not None:
            connection.close()

    def _next_batch(self) -> tuple[list[UsageRecord], list[_Flush], bool]:
        """Wait for a record, let more gather for `batch_wait` seconds (unless a full batch
        is already queued, or a flush or close is asked for), then take what is queued.

        The writer wakes about twice per batch, not once per record: on a busy gateway a
        wake per record (a thread switch and a GIL hand-over each) cost the serving thread
        more than the writing itself (bench/README.md).
        """
        batch: list[UsageRecord] = []
        markers: list[_Flush] = []
        item = self._queue.get()
        if isinstance(item, UsageRecord) and self._queue.qsize() < self.batch_size:
            self._hurry.wait(self.batch_wait)
        while True:
            if item is _STOP:
                self._took_marker()
                return batch, markers, True
            if isinstance(item, _Flush):
                self._took_marker()
                markers.append(item)
                return batch, markers, False
            batch.append(item)
            if len(batch) >= self.batch_size:
                return batch, markers, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, markers, False

    def _write(self, connection: sqlite3.Connection, batch: list[UsageRecord]) -> None:
        rows = [_ROW(record) for record in batch]
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with _transaction(connection):
                    connection.executemany(_INSERT, rows)
                self.batches += 1
                return
            except sqlite3.OperationalError:  # locked beyond the busy timeout, disk full
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(0.1 * 2**attempt)

    def _prune(self, connection: sqlite3.Connection) -> None:
        with _transaction(connection):
            if self.retention_days is not None:
                cutoff = time.time() - self.retention_days * 86400
                connection.execute("DELETE FROM usage WHERE time < ?", (cutoff,))
            if self.max_rows is not None:
                connection.execute(
                    "DELETE FROM usage WHERE id <= "
                    "(SELECT id FROM usage ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (self.max_rows,),
                )

    # ---- reading ----------------------------------------------------------------------

    def query(
        self,
        since: float | None = None,
        until: float | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> list[UsageRecord]:
        conditions: list[str] = []
        values: list[Any] = []
        for name, value in check_filters(filters).items():
            if value is None:
                conditions.append(f"{name} IS NULL")
            else:
                conditions.append(f"{name} = ?")
                values.append(value)
        if since is not None:
            conditions.append("time >= ?")
            values.append(since)
        if until is not None:
            conditions.append("time < ?")
            values.append(until)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        sql = f"SELECT {_COLUMNS} FROM usage{where} ORDER BY time, id"
        self.flush(timeout=self.busy_timeout)
        if not self.path.exists():
            return []
        try:
            connection = sqlite3.connect(self.path, timeout=self.busy_timeout)
            try:
                rows = connection.execute(sql, values).fetchall()
            finally:
                connection.close()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return []  # made by a writer that has not written yet
            raise LedgerError(f"Cannot read the usage ledger {self.path}: {error}.") from None
        except sqlite3.Error as error:
            raise LedgerError(
                f"Cannot read the usage ledger {self.path} ({error}). Move it aside to start "
                "a new one; nothing else depends on it."
            ) from None
        return [_to_record(row) for row in rows]


def _to_record(row: tuple[Any, ...]) -> UsageRecord:
    values = list(row)
    values[_STREAM] = bool(values[_STREAM])
    return UsageRecord(*values)


@contextlib.contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE: take the write lock up front (waiting out the busy timeout),
    so a transaction never fails halfway for a lock another process holds."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _prepare(connection: sqlite3.Connection, busy_timeout: float) -> None:
    """WAL mode and the table, retried while another process holds the lock: switching
    to WAL takes an exclusive lock that SQLite's busy handler does not wait for."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent
            _ensure_schema(connection)
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A writing connection in WAL mode with the table in place (made or widened)."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # the file holds who used what: 0600
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    connection = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        _prepare(connection, busy_timeout)
    except sqlite3.DatabaseError as error:
        connection.close()
        raise LedgerError(
            f"The usage ledger {path} cannot be used ({error}). Move it aside to start "
            "a new one; nothing else depends on it."
        ) from None
    return connection


def _ensure_schema(connection: sqlite3.Connection) -> None:
    """Create the table, or add the columns a newer UsageRecord has (older files keep
    their rows; the new columns read as NULL)."""
    with _transaction(connection):
        columns = ", ".join(f"{name} {_SQL_TYPES[name]}" for name in FIELDS)
        connection.execute(f"CREATE TABLE IF NOT EXISTS usage (id INTEGER PRIMARY KEY, {columns})")
        connection.execute("CREATE INDEX IF NOT EXISTS usage_time ON usage (time)")
        present = {row[1] for row in connection.execute("PRAGMA table_info(usage)")}
        for name in FIELDS:
            if name not in present:
                connection.execute(f"ALTER TABLE usage ADD COLUMN {name} {_SQL_TYPES[name]}")
