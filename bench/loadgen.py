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
