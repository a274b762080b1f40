"""A small HTTP/1.1 load client on raw asyncio streams, cheap per request and per chunk.

Used where wrk does not fit: time to first byte of a streamed body, chunk rate of a
long stream, and an exact number of mixed requests (for the memory figure). Bodies
are read in 64 KiB blocks and de-chunked with `bytes.find`, so a stream of small
chunks costs the client little more than one of large chunks.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

HOST = "127.0.0.1"
_READ = 65536


class ProtocolError(RuntimeError):
    """The server answered something this client cannot read."""


@dataclass(frozen=True)
class Workload:
    """One request, ready to send: where, with which headers, and what body."""

    port: int
    path: str
    headers: tuple[tuple[str, str], ...]
    body: dict[str, object]
    done_marker: bytes = b""  # a streamed reply must contain this to count as complete

    def encode(self) -> bytes:
        payload = json.dumps(self.body).encode()
        lines = [f"POST {self.path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


@dataclass
class Reply:
    status: int
    body: bytes
    first_byte: float  # perf_counter when the first body byte arrived
    done: float  # perf_counter when the body was complete


class Connection:
    """One keep-alive connection, used for one request at a time (and opened again
    when the server closes it after a reply, as Hypercorn does every 1,000 requests)."""

    def __init__(
        self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._port = port
        self._reader = reader
        self._writer = writer
        self._buf = bytearray()
        self._closing = False

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
        return cls(port, reader, writer)

    async def _reopen(self) -> None:
        await self.close()
        self._reader, self._writer = await asyncio.open_connection(HOST, self._port, limit=1 << 20)
        self._buf.clear()
        self._closing = False

    async def close(self) -> None:
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except OSError:
            pass

    async def _fill(self) -> None:
        data = await self._reader.read(_READ)
        if not data:
            raise ProtocolError("connection closed mid-response")
        self._buf += data

    async def request(self, raw: bytes) -> Reply:
        if self._closing:
            await self._reopen()
        self._writer.write(raw)
        buf = self._buf
        while (end := buf.find(b"\r\n\r\n")) < 0:
            await self._fill()
        head = bytes(buf[:end]).decode("latin-1").split("\r\n")
        del buf[: end + 4]
        status = int(head[0].split(" ", 2)[1])
        fields = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip().lower()
        self._closing = "close" in fields.get("connection", "")
        if "chunked" in fields.get("transfer-encoding", ""):
            body, first = await self._chunked()
        elif "content-length" in fields:
            body, first = await self._sized(int(fields["content-length"]))
        else:
            raise ProtocolError("a reply without length or chunking (not used by any target)")
        return Reply(status, body, first, time.perf_counter())

    async def _sized(self, length: int) -> tuple[bytes, float]:
        while len(self._buf) < length:
            await self._fill()
        first = time.perf_counter()
        body = bytes(self._buf[:length])
        del self._buf[:length]
        return body, first

    async def _chunked(self) -> tuple[bytes, float]:
        buf, parts, pos = self._buf, [], 0
        first = 0.0
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                del buf[:pos]
                pos = 0
                await self._fill()
                continue
            size = int(bytes(buf[pos:eol]).split(b";", 1)[0], 16)
            end = eol + 2 + size + 2
            if len(buf) < end:
                del buf[:pos]
                pos = 0
                await self._fill()
                continue
            if size == 0:  # no trailers from any target: the blank line follows at once
                del buf[:end]
                return b"".join(parts), first or time.perf_counter()
            if not first:
                first = time.perf_counter()
            parts.append(bytes(buf[eol + 2 : end - 2]))
            pos = end


async def time_to_first_byte(work: Workload, count: int) -> list[float]:
    """Seconds from sending to the first body byte, for `count` requests in a row."""
    raw = work.encode()
    conn = await Connection.open(work.port)
    out = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            reply = await conn.request(raw)
            _check(reply, work)
            out.append(reply.first_byte - start)
    finally:
        await conn.close()
    return out


async def stream_rate(work: Workload, chunks: int, count: int) -> list[float]:
    """Chunks per second of `count` streams of `chunks` chunks each (request to last byte)."""
    raw = work.encode()
    conn = await Connection.open(work.port)
    out = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            reply = await conn.request(raw)
            _check(reply, work)
            events = reply.body.count(b"data:")
            if events < chunks:
                raise ProtocolError(f"{work.path}: {events} events, expected >= {chunks}")
            out.append(chunks / (reply.done - start))
    finally:
        await conn.close()
    return out


async def bulk(works: Sequence[Workload], total: int, concurrency: int) -> int:
    """Send `total` requests cycling through `works`, `concurrency` at a time; errors."""
    raws = [(w, w.encode()) for w in works]
    counter = iter(range(total))
    errors = 0

    async def worker() -> None:
        nonlocal errors
        conn = await Connection.open(works[0].port)
        try:
            for i in counter:
                work, raw = raws[i % len(raws)]
                reply = await conn.request(raw)
                try:
                    _check(reply, work)
                except ProtocolError:
                    errors += 1
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return errors


def _check(reply: Reply, work: Workload) -> None:
    if reply.status != 200:
        raise ProtocolError(f"{work.path} answered {reply.status}: {reply.body[:200]!r}")
    if work.done_marker and work.done_marker not in reply.body[-4096:]:
        raise ProtocolError(f"{work.path}: the stream did not finish: {reply.body[-200:]!r}")


# ---- many paced streams at once -----------------------------------------------------


@dataclass(frozen=True)
class HeldStream:
    first_byte: float  # seconds from the common start to the first bytes of the reply
    max_gap: float  # the longest wait between two reads of the reply's body, seconds
    complete: bool


async def held_streams(work: Workload, count: int) -> list[HeldStream]:
    """`count` streams at once, on as many connections, opened before any is sent (so
    all are in flight together); for each, when its first bytes came and its longest
    silence. With a paced upstream, a gap well over the pace is a stall in between."""
    raw = work.encode()
    pairs = [await asyncio.open_connection(HOST, work.port) for _ in range(count)]
    start = time.perf_counter()

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> HeldStream:
        writer.write(raw)
        tail = b""
        first = last = 0.0
        max_gap = 0.0
        while True:
            data = await reader.read(_READ)
            now = time.perf_counter()
            if not data:
                return HeldStream(first - start, max_gap, complete=False)
            if first:
                max_gap = max(max_gap, now - last)
            else:
                first = now
            last = now
            tail = (tail + data)[-4096:]
            if tail.endswith(b"0\r\n\r\n") and (not work.done_marker or work.done_marker in tail):
                return HeldStream(first - start, max_gap, complete=True)

    try:
        return await asyncio.gather(*(one(r, w) for r, w in pairs))
    finally:
        for _, writer in pairs:
            writer.close()


# ---- open loop: a constant request rate, whatever the server's pace -----------------------


@dataclass(frozen=True)
class RateResult:
    rate: float  # requests per second asked for
    sent: int
    errors: int
    p50: float  # seconds, each request timed from when it was due (not when it was sent)
    p99: float
    behind: bool  # the client could not send at the rate (its own CPU, not the server)


async def constant_rate(
    work: Workload, rate: float, seconds: float, max_connections: int = 512
) -> RateResult:
    """Requests due at a constant `rate` for `seconds` (as wrk2 sends them), each on an
    idle keep-alive connection, a new one if none is idle (up to `max_connections`,
    then it waits). Latency counts from when a request was let go, before it waits for
    a connection, so a server falling behind shows as latency, not as a lower rate (no
    coordinated omission). asyncio's timers wake a little late, more so on a busy
    machine; that lateness is the client's and is not counted, but a client that falls
    more than 5% behind the rate fails the step (`behind`)."""
    raw = work.encode()
    idle: asyncio.LifoQueue[Connection] = asyncio.LifoQueue()
    opened = 0
    latencies: list[float] = []
    errors = 0

    async def one(due: float) -> None:
        nonlocal opened, errors
        let_go = max(due, time.perf_counter())
        if idle.empty() and opened < max_connections:
            opened += 1
            conn = await Connection.open(work.port)
        else:
            conn = await idle.get()
        try:
            reply = await conn.request(raw)
            _check(reply, work)
        except (OSError, ProtocolError):
            errors += 1
            await conn.close()
            opened -= 1
            return
        latencies.append(reply.done - let_go)
        idle.put_nowait(conn)

    total = int(rate * seconds)
    start = time.perf_counter() + 0.01
    tasks = []
    for i in range(total):
        due = start + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(due)))
    behind = time.perf_counter() - start > seconds * 1.05 + 1 / rate
    await asyncio.gather(*tasks)
    while not idle.empty():
        await idle.get_nowait().close()
    latencies.sort()
    p50, p99 = _quantile(latencies, 0.5), _quantile(latencies, 0.99)
    return RateResult(rate, total, errors, p50, p99, behind)


def _quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("inf")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
