"""SQLiteLedger: the writer thread, batches, retention, several processes, reading back."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cherry_nb._exceptions import LedgerError
from cherry_nb.ledger.records import UsageRecord
from cherry_nb.ledger.sqlite import SQLiteLedger, ledger_path

NOW = time.time()


def rec(model: str | None = "m", *, when: float = NOW, **changes: object) -> UsageRecord:
    fields: dict[str, object] = {
        "time": when,
        "route": "/v1/messages",
        "client_format": "anthropic",
        "key_name": "claude-code",
        "provider": "sim",
        "model": model,
        "status": 200,
    }
    fields.update(changes)
    return UsageRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "usage.sqlite"


def test_lives_beside_the_config_file(tmp_path: Path) -> None:
    assert ledger_path(tmp_path / "cfg" / "config.json") == tmp_path / "cfg" / "usage.sqlite"


def test_records_round_trip_every_field(path: Path) -> None:
    ledger = SQLiteLedger(path)
    full = rec(
        status=429,
        error_category="rate_limited",
        input_tokens=11,
        output_tokens=7,
        cached_tokens=5,
        reasoning_tokens=3,
        ttft_ms=12.5,
        duration_ms=40.25,
        stream=True,
    )
    bare = rec(None, key_name=None, provider=None, when=NOW + 1)
    ledger.record(full)
    ledger.record(bare)
    assert ledger.query() == [full, bare]
    ledger.close()
    assert SQLiteLedger(path).query() == [full, bare]  # on disk, read by another instance
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it says who used what
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_written_in_batches_by_one_thread(path: Path) -> None:
    # batch_wait is long: a batch closes only when full or when a flush is asked for.
    ledger = SQLiteLedger(path, batch_size=100, batch_wait=30)
    for i in range(1050):
        ledger.record(rec(f"m{i}"))
    assert ledger.flush(timeout=30)
    assert ledger.batches == 11  # ten full ones, and the rest when flushed
    assert len(ledger.query()) == 1050
    ledger.close()
    ledger.record(rec("after close"))  # ignored, not raised
    assert len(SQLiteLedger(path).query()) == 1050


def test_reading_an_absent_ledger_creates_nothing(path: Path) -> None:
    ledger = SQLiteLedger(path)
    assert ledger.query() == [] and ledger.summarize("provider") == []
    ledger.close()
    assert not path.exists()


def test_query_selects_by_time_and_fields(path: Path) -> None:
    ledger = SQLiteLedger(path)
    ledger.record(rec("a", when=NOW - 100))
    ledger.record(rec("b", when=NOW - 50, provider="other"))
    ledger.record(rec("c", when=NOW - 10, key_name=None, status=500))
    names = lambda records: [r.model for r in records]  # noqa: E731
    assert names(ledger.query(since=NOW - 60)) == ["b", "c"]
    assert names(ledger.query(until=NOW - 50)) == ["a"]
    assert names(ledger.query(filters={"provider": "sim"})) == ["a", "c"]
    assert names(ledger.query(filters={"key_name": None})) == ["c"]
    assert names(ledger.query(filters={"status": 500, "provider": "sim"})) == ["c"]
    with pytest.raises(LedgerError, match="cannot be filtered by 'tokens'"):
        ledger.query(filters={"tokens": 1})
    with pytest.raises(LedgerError, match="grouped by 'colour'"):
        ledger.summarize("colour")
    ledger.close()


def test_summaries_per_group(path: Path) -> None:
    ledger = SQLiteLedger(path)
    for ms, ttft in ((10, 1.0), (30, 3.0), (20, None)):
        ledger.record(
            rec(input_tokens=5, output_tokens=2, cached_tokens=1, duration_ms=ms, ttft_ms=ttft)
        )
    ledger.record(rec("x", key_name="script", status=502, error_category="network"))
    by_key = {s.group: s for s in ledger.summarize("key")}
    cc = by_key["claude-code"]
    assert (cc.requests, cc.errors, cc.input_tokens, cc.output_tokens, cc.cached_tokens) == (
        3, 0, 15, 6, 3
    )  # fmt: skip
    assert cc.p50_ms == 20 and cc.p50_ttft_ms == 2.0
    assert (by_key["script"].requests, by_key["script"].errors) == (1, 1)
    assert by_key["script"].p50_ttft_ms is None
    assert [s.group for s in ledger.summarize("model")] == ["m", "x"]  # busiest first
    ledger.close()


def test_retention_days_prune_old_records(path: Path) -> None:
    ledger = SQLiteLedger(path, retention_days=1, prune_interval=0)
    for i in range(5):
        ledger.record(rec(f"old{i}", when=NOW - 3 * 86400))
        ledger.record(rec(f"new{i}"))
    assert [r.model for r in ledger.query()] == [f"new{i}" for i in range(5)]
    ledger.close()


def test_max_rows_keeps_the_newest(path: Path) -> None:
    ledger = SQLiteLedger(path, max_rows=10, prune_interval=0, batch_size=5, batch_wait=30)
    for i in range(23):
        ledger.record(rec(f"m{i}", when=NOW + i))
    assert [r.model for r in ledger.query()] == [f"m{i}" for i in range(13, 23)]
    ledger.close()


def test_an_older_file_gains_new_columns(path: Path) -> None:
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as connection:  # a ledger from before reasoning_tokens existed
        connection.execute(
            "CREATE TABLE usage (id INTEGER PRIMARY KEY, time REAL, route TEXT, "
            "client_format TEXT, key_name TEXT, provider TEXT, model TEXT, status INTEGER, "
            "error_category TEXT, input_tokens INTEGER, output_tokens INTEGER, "
            "cached_tokens INTEGER, ttft_ms REAL, duration_ms REAL, stream INTEGER)"
        )
    ledger = SQLiteLedger(path)
    ledger.record(rec(reasoning_tokens=9))
    (record,) = ledger.query()
    assert record.reasoning_tokens == 9
    ledger.close()


def test_a_broken_file_is_reported_and_never_raised_at_record(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    ledger = SQLiteLedger(path)
    with caplog.at_level(logging.WARNING, logger="cherry_nb.ledger"):
        ledger.record(rec())  # the request this describes must not fail
        assert ledger.flush(timeout=30)
    assert ledger.dropped == 1
    assert "could not be written" in caplog.text and str(path) in caplog.text
    with pytest.raises(LedgerError, match="Move it aside"):
        ledger.query()
    ledger.close()


WRITER = """
import sys, time
from cherry_nb.ledger.records import UsageRecord
from cherry_nb.ledger.sqlite import SQLiteLedger

path, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
ledger = SQLiteLedger(path, batch_size=25, batch_wait=0)
for i in range(count):
    ledger.record(UsageRecord(time.time(), "/v1/messages", "anthropic", tag, "sim",
                              f"{tag}-{i}", 200, input_tokens=i))
# no close(): the ledger flushes itself at interpreter exit
"""


def test_two_processes_write_one_file_and_every_record_lands_once(path: Path) -> None:
    count = 3000
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag, str(count)], env=env)
        for tag in ("w1", "w2")
    ]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    records = SQLiteLedger(path).query()
    models = [r.model for r in records]
    assert len(models) == 2 * count and len(set(models)) == 2 * count
    assert {r.key_name for r in records} == {"w1", "w2"}
    assert sum(r.input_tokens for r in records) == 2 * sum(range(count))
