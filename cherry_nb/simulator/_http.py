"""A small, fast HTTP/1.1 server written directly on `asyncio.Protocol`.

Why hand-written: the simulator is a benchmark target and a test double, so
it must add as little latency as possible and must be able to misbehave on
purpose (abort a stream half-way, answer HTML). A full framework would cost
an order of magnitude in throughput and hide the transport.

What it does: keep-alive (and pipelined requests, answered in order),
`Content-Length` and `chunked` request bodies, `Expect: 100-continue`,
`Transfer-Encoding: chunked` streamed responses with flow control, 400 (and
connection close) for malformed requests. It knows nothing about LLM
protocols: a handler turns a `Request` into a `Reply`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

__all__ = ["Reply", "Request", "ServerState", "HttpConnection"]

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_REASONS = {s.value: s.phrase for s in HTTPStatus}
_REASONS[529] = "Site Overloaded"


class Request:
    """One parsed request; `headers` has lower-cased names (repeated ones joined by ", ")."""

    __slots__ = ("method", "path", "query", "version", "headers", "body", "keep_alive")

    def __init__(
        self,
        method: str,
        path: str,
        query: str,
        version: str,
        headers: dict[str, str],
        body: bytes,
        keep_alive: bool,
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive


@dataclass(slots=True)
class Reply:
    """What to send back. With `events` set the body is streamed, one HTTP chunk per event.

    `delay` is slept before the head and before each event after the
    `preamble` ones (or once before a plain body); `drop_after` aborts the
    connection after that many post-preamble events (a plain body: half of it).
    """

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: Sequence[tuple[str, str]] = ()
    events: Sequence[bytes] | None = None
    preamble: int = 0
    delay: float = 0.0
    drop_after: int | None = None
    close: bool = False


class ServerState:
    """Counters and live connections shared by every connection of one server."""

    __slots__ = ("connections", "active_streams", "connections_opened", "connections_closed")

    def __init__(self) -> None:
        self.connections: set[HttpConnection] = set()
        self.active_streams = 0
        self.connections_opened = 0
        self.connections_closed = 0


_date_cache: list[object] = [0, ""]


def _http_date() -> str:
    """The Date header value, formatted at most once per second."""
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[0] = now
        _date_cache[1] = formatdate(now, usegmt=True)
    return _date_cache[1]  # type: ignore[return-value]


def _head(
    status: int,
    content_type: str,
    headers: Sequence[tuple[str, str]],
    length: int | None,
    keep_alive: bool,
    chunked: bool = True,
) -> bytes:
    """Status line and headers. `length=None` means a streamed body: in chunks, or
    (`chunked=False`, for HTTP/1.0) delimited by the end of the connection."""
    parts = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"
        f"date: {_http_date()}\r\nserver: cherry-sim\r\ncontent-type: {content_type}\r\n"
    ]
    if length is None:
        if chunked:
            parts.append("transfer-encoding: chunked\r\n")
        parts.append("cache-control: no-cache\r\n")
    else:
        parts.append(f"content-length: {length}\r\n")
    for name, value in headers:
        parts.append(f"{name}: {value}\r\n")
    if not keep_alive:
        parts.append("connection: close\r\n")
    parts.append("\r\n")
    return "".join(parts).encode("latin-1")


def _frame(event: bytes) -> bytes:
    """One HTTP/1.1 chunk."""
    return b"%x\r\n%b\r\n" % (len(event), event)


class _DroppedError(Exception):
    """The reply was cut off on purpose (drop_after); the connection is gone."""


class _BadRequestError(Exception):
    """The bytes received are not a valid HTTP/1.1 request."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _parse_head(raw: bytes) -> tuple[str, str, str, str, dict[str, str]]:
    """Request line and header fields, strictly: anything dubious is a 400."""
    lines = raw.decode("latin-1").split("\r\n")  # latin-1 decodes any byte
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise _BadRequestError(400, "malformed request line")
    method, target, version = parts
    if not method or not set(method) <= _TOKEN_CHARS:
        raise _BadRequestError(400, "malformed method")
    if version != "HTTP/1.1" and version != "HTTP/1.0":
        if version.startswith("HTTP/") and len(version) == 8 and version[5].isdigit():
            raise _BadRequestError(505, "HTTP version not supported")
        raise _BadRequestError(400, "malformed HTTP version")
    if not target.startswith("/"):
        if target.startswith(("http://", "https://")):  # absolute form
            slash = target.find("/", target.find("//") + 2)
            target = target[slash:] if slash != -1 else "/"
        elif not (method == "OPTIONS" and target == "*"):
            raise _BadRequestError(400, "malformed request target")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or not set(name) <= _TOKEN_CHARS:
            raise _BadRequestError(400, "malformed header field")
        name = name.lower()
        value = value.strip(" \t")
        if name in headers:
            if name == "content-length" and headers[name] != value:
                raise _BadRequestError(400, "conflicting Content-Length")
            if name != "content-length":
                headers[name] = f"{headers[name]}, {value}"
        else:
            headers[name] = value
    if version == "HTTP/1.1" and "host" not in headers:
        raise _BadRequestError(400, "missing Host header")
    path, _, query = target.partition("?")
    return method, path, query, version, headers


class HttpConnection(asyncio.Protocol):
    """One client connection: parses requests, calls the handler, writes replies."""

    __slots__ = (
        "_handler",
        "_state",
        "_loop",
        "_transport",
        "_buf",
        "_head",
        "_body_len",
        "_chunk_pos",
        "_chunk_parts",
        "_chunk_total",
        "_busy",
        "_closed",
        "_write_paused",
        "_read_paused",
        "_drain",
        "_task",
    )

    def __init__(self, handler: Callable[[Request], Reply], state: ServerState) -> None:
        self._handler = handler
        self._state = state
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        # The head of a request whose body has not fully arrived yet.
        self._head: tuple[str, str, str, str, dict[str, str]] | None = None
        self._body_len = -1  # -1: chunked
        self._chunk_pos = 0
        self._chunk_parts: list[bytes] = []
        self._chunk_total = 0
        self._busy = False  # an asynchronous reply (stream, delay) is being written
        self._closed = False
        self._write_paused = False
        self._read_paused = False
        self._drain: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    # -- asyncio.Protocol -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._state.connections.add(self)
        self._state.connections_opened += 1

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closed:
            return
        self._closed = True
        self._state.connections.discard(self)
        self._state.connections_closed += 1
        if self._task is not None and not self._task.done():
            self._task.cancel()  # a client that left stops its stream at once
        if self._drain is not None and not self._drain.done():
            self._drain.cancel()

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self._busy or self._write_paused:
            if len(self._buf) > MAX_HEAD and not self._read_paused:
                self._read_paused = True
                self._transport.pause_reading()  # type: ignore[union-attr]
            return
        self._process()

    def eof_received(self) -> bool | None:
        return None  # close our side too; pending work is cancelled in connection_lost

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        elif not self._busy and self._buf and not self._closed:
            self._process()

    # -- API ---------------------------------------------------------------------

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The task writing a streamed or delayed reply, if one is in flight."""
        return self._task

    def shutdown(self) -> None:
        """Close now: abort if a reply is in flight, else close cleanly."""
        if self._transport is None or self._closed:
            return
        if self._busy:
            self._transport.abort()
        else:
            self._transport.close()

    # -- parsing -----------------------------------------------------------------

    def _process(self) -> None:
        """Handle every complete request in the buffer, in order, until one goes async."""
        buf = self._buf
        if self._read_paused and not self._closed:
            self._read_paused = False
            self._transport.resume_reading()  # type: ignore[union-attr]
        while not self._closed and not self._busy and not self._write_paused:
            if self._head is None:
                while buf[:2] == b"\r\n":  # empty lines before a request are tolerated
                    del buf[:2]
                end = buf.find(b"\r\n\r\n")
                if end == -1:
                    if len(buf) > MAX_HEAD:
                        self._fail(431, "request head too large")
                    return
                if end > MAX_HEAD:
                    self._fail(431, "request head too large")
                    return
                try:
                    head = _parse_head(bytes(buf[:end]))
                except _BadRequestError as exc:
                    self._fail(exc.status, exc.reason)
                    return
                del buf[: end + 4]
                headers = head[4]
                te = headers.get("transfer-encoding")
                if te is not None:
                    if te.lower() != "chunked" or "content-length" in headers:
                        self._fail(400, "unsupported Transfer-Encoding")
                        return
                    self._body_len = -1
                    self._chunk_pos = 0
                    self._chunk_parts = []
                    self._chunk_total = 0
                else:
                    cl = headers.get("content-length", "0")
                    if not cl.isdigit() or not cl.isascii():
                        self._fail(400, "malformed Content-Length")
                        return
                    self._body_len = int(cl)
                    if self._body_len > MAX_BODY:
                        self._fail(413, "request body too large")
                        return
                self._head = head
                if headers.get("expect", "").lower() == "100-continue" and head[3] == "HTTP/1.1":
                    if self._body_len != 0:
                        self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # type: ignore[union-attr]
            if self._body_len >= 0:
                if len(buf) < self._body_len:
                    return
                body = bytes(buf[: self._body_len])
                del buf[: self._body_len]
            else:
                try:
                    chunked = self._read_chunked()
                except _BadRequestError as exc:
                    self._fail(exc.status, exc.reason)
                    return
                if chunked is None:
                    return
                body = chunked
            method, path, query, version, headers = self._head
            self._head = None
            conn = headers.get("connection", "").lower()
            if version == "HTTP/1.1":
                keep_alive = "close" not in conn
            else:
                keep_alive = "keep-alive" in conn
            self._dispatch(Request(method, path, query, version, headers, body, keep_alive))

    def _read_chunked(self) -> bytes | None:
        """Decode a chunked body incrementally; None until the last chunk has arrived."""
        buf = self._buf
        pos = self._chunk_pos
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol == -1:
                if len(buf) - pos > 1024:
                    raise _BadRequestError(400, "malformed chunk size")
                self._chunk_pos = pos
                return None
            size_text = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadRequestError(400, "malformed chunk size") from None
            if size_text.startswith((b"-", b"+", b"0x", b"0X")):  # int() would take them
                raise _BadRequestError(400, "malformed chunk size")
            if size == 0:
                # Trailer section: header lines until an empty line.
                trailer_end = buf.find(b"\r\n", eol + 2)
                scan = eol + 2
                while trailer_end != -1 and trailer_end != scan:
                    scan = trailer_end + 2
                    trailer_end = buf.find(b"\r\n", scan)
                if trailer_end == -1:
                    self._chunk_pos = pos
                    return None
                del buf[: trailer_end + 2]
                body = b"".join(self._chunk_parts)
                self._chunk_parts = []
                self._chunk_total = 0
                self._chunk_pos = 0
                return body
            start = eol + 2
            if len(buf) < start + size + 2:
                self._chunk_pos = pos
                return None
            if buf[start + size : start + size + 2] != b"\r\n":
                raise _BadRequestError(400, "malformed chunk")
            self._chunk_parts.append(bytes(buf[start : start + size]))
            self._chunk_total += size
            if self._chunk_total > MAX_BODY:
                raise _BadRequestError(413, "request body too large")
            pos = start + size + 2

    def _fail(self, status: int, reason: str) -> None:
        """Answer a request we could not parse, then close: the stream is out of sync."""
        body = f"{status} {_REASONS.get(status, 'Bad Request')}: {reason}\n".encode()
        transport = self._transport
        assert transport is not None
        transport.write(_head(status, "text/plain; charset=utf-8", (), len(body), False) + body)
        transport.close()
        self._closed_for_input()

    def _closed_for_input(self) -> None:
        self._buf.clear()
        self._head = None
        self._busy = True  # ignore anything else the client sends

    # -- replies -----------------------------------------------------------------

    def _dispatch(self, request: Request) -> None:
        try:
            reply = self._handler(request)
        except Exception:
            log.exception("simulator handler failed for %s %s", request.method, request.path)
            reply = Reply(
                500, b"internal simulator error\n", "text/plain; charset=utf-8", close=True
            )
        keep_alive = request.keep_alive and not reply.close
        head_only = request.method == "HEAD"
        transport = self._transport
        assert transport is not None
        if reply.events is None and not reply.delay and reply.drop_after is None:
            body = b"" if head_only else reply.body
            head = _head(
                reply.status, reply.content_type, reply.headers, len(reply.body), keep_alive
            )
            transport.write(head + body)
            if not keep_alive:
                transport.close()
                self._closed_for_input()
            return
        self._busy = True
        self._task = self._loop.create_task(self._write_async(request, reply, keep_alive))

    async def _write_async(self, request: Request, reply: Reply, keep_alive: bool) -> None:
        """A delayed, dropped or streamed reply; cancelled if the client goes away."""
        transport = self._transport
        assert transport is not None
        try:
            if reply.events is None:
                await self._write_plain_later(transport, request, reply, keep_alive)
            else:
                self._state.active_streams += 1
                try:
                    keep_alive = await self._write_stream(transport, request, reply, keep_alive)
                finally:
                    self._state.active_streams -= 1
        except (asyncio.CancelledError, _DroppedError):
            return
        except Exception:  # pragma: no cover - a bug, not a client problem
            log.exception("simulator failed writing a reply")
            transport.abort()
            return
        self._task = None
        if self._closed:
            return
        if not keep_alive:
            transport.close()
            self._closed_for_input()
            return
        self._busy = False
        if self._buf:
            self._process()
        elif self._read_paused:
            self._read_paused = False
            transport.resume_reading()

    async def _write_plain_later(
        self, transport: asyncio.Transport, request: Request, reply: Reply, keep_alive: bool
    ) -> None:
        if reply.delay:
            await asyncio.sleep(reply.delay)
        body = b"" if request.method == "HEAD" else reply.body
        head = _head(reply.status, reply.content_type, reply.headers, len(reply.body), keep_alive)
        if reply.drop_after is not None:
            transport.write(head + body[: len(body) // 2])
            transport.abort()
            raise _DroppedError
        transport.write(head + body)

    async def _write_stream(
        self, transport: asyncio.Transport, request: Request, reply: Reply, keep_alive: bool
    ) -> bool:
        """Write the events as chunks; returns whether the connection may be kept."""
        events = reply.events
        assert events is not None
        chunked = request.version == "HTTP/1.1"
        if not chunked:
            keep_alive = False  # HTTP/1.0: the end of the body is the end of the connection
        head = _head(reply.status, reply.content_type, reply.headers, None, keep_alive, chunked)
        if request.method == "HEAD":
            transport.write(head)  # a HEAD reply has no body, not even the last chunk
            return keep_alive
        frame = _frame if chunked else bytes
        limit = len(events)
        if reply.drop_after is not None:
            limit = min(limit, reply.preamble + max(reply.drop_after, 0))
        delay = reply.delay
        if not delay:
            transport.write(head + b"".join([frame(e) for e in events[:limit]]))
        else:
            await asyncio.sleep(delay)  # a slow upstream is slow to its first byte, too
            preamble = min(reply.preamble, limit)
            transport.write(head + b"".join([frame(e) for e in events[:preamble]]))
            for event in events[preamble:limit]:
                await asyncio.sleep(delay)
                transport.write(frame(event))
                if self._write_paused:
                    await self._wait_drain()
        if self._write_paused:
            await self._wait_drain()
        if limit < len(events):
            transport.abort()  # no terminating chunk: the client sees a broken stream
            raise _DroppedError
        if chunked:
            transport.write(b"0\r\n\r\n")
        return keep_alive

    async def _wait_drain(self) -> None:
        while self._write_paused and not self._closed:
            self._drain = self._loop.create_future()
            try:
                await self._drain
            finally:
                self._drain = None
