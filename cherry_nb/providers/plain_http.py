"""A lean HTTP/1.1 transport for plain-http upstreams: local model servers, the simulator.

httpx's default transport (httpcore) spends about 0.7 ms of CPU per request on one
connection and 1.2 ms with 16 open ones: its pool re-checks every connection twice
per request, asking anyio for a fresh attribute dict to poll each socket. That was
more than the rest of the gateway put together (see bench/README.md), and a local
upstream answers in a fraction of it. This transport keeps a LIFO keep-alive pool
per origin on asyncio protocols; `http1` frames requests and responses.

Scope: `http://` URLs only, mounted by `providers.base.new_client` when no HTTP proxy
is configured in the environment; https and proxied requests keep httpx's own
transport. Semantics follow httpcore's: the same httpx exceptions (and messages),
timeouts from the request's `timeout` extension, `httpx.Limits` for the connection
cap, idle keep-alive connections and their expiry, and no silent retry of a request
whose reused connection the server closed at the same moment.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import select
import socket
import time
import urllib.request
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx

from . import http1

__all__ = ["PlainHTTPTransport", "plain_http_allowed"]

_HIGH_WATER = 256 * 1024  # pause reading from the socket above this much unread

Origin = tuple[str, int]


DISABLE_ENV = "CHERRY_NB_HTTPX_TRANSPORT"


def plain_http_allowed() -> bool:
    """Whether http:// requests may use this transport: not when the environment
    configures a proxy for them (httpx's own transport then honours it, as before),
    nor when CHERRY_NB_HTTPX_TRANSPORT=1 asks for httpx's own (an escape hatch, should
    a local server ever disagree with this transport)."""
    if os.environ.get(DISABLE_ENV, "").strip() not in ("", "0"):
        return False
    return not any(scheme in ("http", "all") for scheme in urllib.request.getproxies())


class _Connection(asyncio.Protocol):
    """One TCP connection: bytes received so far, and a way to wait for more."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pool: PlainHTTPTransport) -> None:
        self.loop = loop
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.idle_since = 0.0
        self.released = False  # its pool slot has been given back
        self.fileno = -1
        self._waiter: asyncio.Future[bool] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._reading_paused = False

    # ---- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport, as `create_connection` makes; uvloop's does not subclass
        # asyncio.Transport, so no isinstance check here.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        self.fileno = -1 if sock is None else sock.fileno()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            assert self.transport is not None
            self.transport.pause_reading()
        self._wake(True)

    def eof_received(self) -> bool:
        self.eof = True
        self._wake(True)
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake(True)
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self.pool._lost(self)  # a no-op unless it sits idle in the pool

    def pause_writing(self) -> None:
        self._drained = self.loop.create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    # ---- for the transport -------------------------------------------------------

    @property
    def usable(self) -> bool:
        """Idle, open, and nothing unexpected has arrived on it."""
        return not self.eof and not self.buffer and self.transport is not None

    def readable(self) -> bool:
        """Whether the socket has bytes (or the peer's close) the loop has not delivered
        yet: a server that closed an idle connection a moment ago. httpcore checks the
        same way before it reuses a connection."""
        if self.fileno < 0:
            return True
        if not hasattr(select, "poll"):  # Windows
            return bool(select.select([self.fileno], [], [], 0)[0])
        poll = select.poll()
        poll.register(self.fileno, select.POLLIN)
        return bool(poll.poll(0))

    def _wake(self, value: bool) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(value)

    def consumed(self) -> None:
        """The reader took bytes out of `buffer`: resume reading if it had been paused."""
        if self._reading_paused and len(self.buffer) <= _HIGH_WATER // 2:
            self._reading_paused = False
            if self.transport is not None and not self.eof:
                self.transport.resume_reading()

    async def wait_data(self, timeout: float | None) -> bool:
        """Wait for more bytes or the end of the stream; False if `timeout` passed first."""
        self.consumed()
        if self.eof:
            return True
        waiter = self._waiter = self.loop.create_future()
        timer = None if timeout is None else self.loop.call_later(timeout, self._wake, False)
        try:
            return await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    async def write(self, data: bytes, timeout: float | None, request: httpx.Request) -> None:
        assert self.transport is not None
        self.transport.write(data)
        drained = self._drained
        if drained is None:
            return
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(drained)
        except TimeoutError:
            raise httpx.WriteTimeout("Timed out writing the request.", request=request) from None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class PlainHTTPTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over plain TCP, with keep-alive connections pooled per origin.

    Use from one event loop, like the `httpx.AsyncClient` it is mounted on.
    """

    def __init__(self, limits: httpx.Limits | None = None) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._max_idle = limits.max_keepalive_connections
        self._expiry = limits.keepalive_expiry
        self._slots = (
            None if limits.max_connections is None else asyncio.Semaphore(limits.max_connections)
        )
        self._waiting = 0
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._connections: set[_Connection] = set()
        self._closed = False

    # ---- the pool ---------------------------------------------------------------------

    def _take_idle(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        now = time.monotonic()
        expiry = self._expiry
        while idle:
            if expiry is not None and now - idle[0].idle_since > expiry:
                self._discard(idle.popleft())
                continue
            conn = idle.pop()  # the most recently used: the least likely to be stale
            if conn.usable and not conn.readable():
                return conn
            self._discard(conn)
        return None

    def _evict_idle(self) -> bool:
        """Close the longest-idle connection of any origin, to free its slot."""
        oldest: deque[_Connection] | None = None
        for idle in self._idle.values():
            if idle and (oldest is None or idle[0].idle_since < oldest[0].idle_since):
                oldest = idle
        if oldest is None:
            return False
        self._discard(oldest.popleft())
        return True

    async def _acquire_slot(self, timeout: float | None) -> None:
        slots = self._slots
        if slots is None:
            return
        if slots.locked():
            self._evict_idle()
        if not slots.locked():
            await slots.acquire()  # returns without suspending
            return
        self._waiting += 1
        try:
            async with asyncio.timeout(timeout):
                await slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("Timed out waiting for a free connection.") from None
        finally:
            self._waiting -= 1

    def _discard(self, conn: _Connection) -> None:
        """Close `conn` and give its slot back (once)."""
        conn.close()
        self._connections.discard(conn)
        if not conn.released:
            conn.released = True
            if self._slots is not None:
                self._slots.release()

    def _lost(self, conn: _Connection) -> None:
        """The peer closed `conn`: forget it now if it sits idle in the pool."""
        if not conn.released and conn.idle_since:
            for idle in self._idle.values():
                if conn in idle:
                    idle.remove(conn)
                    self._discard(conn)
                    return

    def _release(self, conn: _Connection, origin: Origin, reusable: bool) -> None:
        """A response is finished with `conn`: keep it for the next request, or close it."""
        if (
            not reusable
            or not conn.usable
            or self._closed
            or self._waiting  # a waiter needs the slot more than we need the connection
            # One client per provider: usually one origin, so one deque to count.
            or (self._max_idle is not None and sum(map(len, self._idle.values())) >= self._max_idle)
        ):
            self._discard(conn)
            return
        conn.idle_since = time.monotonic()
        self._idle.setdefault(origin, deque()).append(conn)

    async def _connect(self, origin: Origin, timeout: float | None) -> _Connection:
        loop = asyncio.get_running_loop()
        host, port = origin
        conn = _Connection(loop, self)
        try:
            async with asyncio.timeout(timeout):
                infos = _literal_address(host, port) or await loop.getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
                sock = await _connected_socket(loop, infos)
                try:
                    await loop.create_connection(lambda: conn, sock=sock)
                except BaseException:
                    sock.close()
                    raise
        except TimeoutError:
            raise httpx.ConnectTimeout("Timed out connecting.") from None
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        self._connections.add(conn)
        return conn

    # ---- one request --------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http":
            raise httpx.UnsupportedProtocol(f"{type(self).__name__} speaks plain http only.")
        if self._closed:
            raise RuntimeError("The transport is closed.")
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        origin = (url.raw_host.decode("ascii"), url.port or 80)
        head = http1.request_head(request)
        conn = self._take_idle(origin)
        if conn is None:
            await self._acquire_slot(timeouts.get("pool"))
            try:
                conn = await self._connect(origin, timeouts.get("connect"))
            except BaseException:
                if self._slots is not None:
                    self._slots.release()
                raise
        conn.idle_since = 0.0
        try:
            await self._send(conn, request, head, timeouts.get("write"))
            return await self._receive(conn, origin, request, timeouts.get("read"))
        except BaseException:
            self._discard(conn)
            raise

    async def _send(
        self, conn: _Connection, request: httpx.Request, head: bytes, timeout: float | None
    ) -> None:
        stream = request.stream
        if isinstance(stream, httpx.ByteStream):  # read already: `content` is there
            await conn.write(head + request.content, timeout, request)
            return
        chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
        await conn.write(head, timeout, request)
        assert isinstance(stream, httpx.AsyncByteStream)
        async for part in stream:
            if part:
                data = b"%x\r\n%s\r\n" % (len(part), part) if chunked else part
                await conn.write(data, timeout, request)
        if chunked:
            await conn.write(b"0\r\n\r\n", timeout, request)

    async def _receive(
        self, conn: _Connection, origin: Origin, request: httpx.Request, timeout: float | None
    ) -> httpx.Response:
        while True:
            head = await _read_head(conn, request, timeout)
            status = head.status
            if not 100 <= status < 200 or status == 101:
                break  # 1xx: informational, the response proper follows
        length, chunked, keep_alive = http1.body_framing(head, request.method)
        body = _Body(conn, origin, request, timeout, length, chunked, keep_alive)
        if length == 0:
            body.finish()
        return httpx.Response(
            status,
            headers=head.headers,
            stream=body,
            extensions={"http_version": head.version, "reason_phrase": head.reason},
        )

    async def aclose(self) -> None:
        self._closed = True
        for conn in list(self._connections):
            self._discard(conn)
        self._idle.clear()


def _literal_address(host: str, port: int) -> list[Any] | None:
    """getaddrinfo's answer for an IP address, without asking it: loop.getaddrinfo runs in
    a thread even then, a hop per new connection that a burst of streams queues on."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port))]


async def _connected_socket(loop: asyncio.AbstractEventLoop, infos: list[Any]) -> socket.socket:
    """A socket connected to the first address that accepts (in resolver order)."""
    first_error: OSError | None = None
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            first_error = first_error or exc
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise first_error or OSError("The host name resolved to no address.")


class _Body(httpx.AsyncByteStream):
    """A response body as it arrives: Content-Length, chunked, or until the close."""

    def __init__(
        self,
        conn: _Connection,
        origin: Origin,
        request: httpx.Request,
        timeout: float | None,
        length: int | None,
        chunked: bool,
        keep_alive: bool,
    ) -> None:
        self._conn = conn
        self._origin = origin
        self._request = request
        self._timeout = timeout
        self._length = length
        self._chunked = chunked
        self._keep_alive = keep_alive
        self._complete = False
        self._closed = False

    def finish(self) -> None:
        self._complete = True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._complete:
            return
        if self._chunked:
            parts = self._read_chunked()
        elif self._length is not None:
            parts = self._read_length(self._length)
        else:
            parts = self._read_until_close()
        async for part in parts:
            yield part
        self._complete = True

    async def _more(self) -> None:
        if not await self._conn.wait_data(self._timeout):
            raise httpx.ReadTimeout("Timed out reading the response.", request=self._request)

    def _broken(self, message: str) -> httpx.HTTPError:
        if self._conn.error is not None:
            return httpx.ReadError(str(self._conn.error) or type(self._conn.error).__name__)
        return httpx.RemoteProtocolError(message)

    async def _read_length(self, length: int) -> AsyncIterator[bytes]:
        conn, remaining = self._conn, length
        while remaining:
            buffer = conn.buffer
            if buffer:
                part = bytes(buffer[: min(remaining, http1.PIECE)])
                del buffer[: len(part)]
                remaining -= len(part)
                yield part
                continue
            if conn.eof:
                raise self._broken(
                    "peer closed connection without sending complete message body: "
                    f"received {length - remaining} bytes, expected {length}"
                )
            await self._more()

    async def _read_until_close(self) -> AsyncIterator[bytes]:
        conn = self._conn
        while True:
            if conn.buffer:
                part = bytes(conn.buffer[: http1.PIECE])
                del conn.buffer[: len(part)]
                yield part
                continue
            if conn.eof:
                if conn.error is not None:
                    raise self._broken("")
                return
            await self._more()

    async def _read_chunked(self) -> AsyncIterator[bytes]:
        conn, decoder = self._conn, http1.ChunkDecoder()
        while True:
            part = decoder.feed(conn.buffer)
            if part:
                yield part
                continue  # more may be decodable already
            if decoder.done:
                return
            if conn.eof:
                raise self._broken(
                    "peer closed connection without sending complete message body: "
                    "incomplete chunked read"
                )
            await self._more()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        reusable = self._complete and self._keep_alive
        self._conn.pool._release(self._conn, self._origin, reusable)


async def _read_head(
    conn: _Connection, request: httpx.Request, timeout: float | None
) -> http1.Head:
    """The status line and headers of the next response on `conn`."""
    buffer = conn.buffer
    while True:
        end = http1.HEAD_END.search(buffer)
        if end is not None:
            break
        if len(buffer) > http1.MAX_HEAD:
            raise httpx.RemoteProtocolError("The response head is too large.")
        if conn.eof:
            if conn.error is not None:
                raise httpx.ReadError(str(conn.error) or type(conn.error).__name__)
            if buffer:
                raise httpx.RemoteProtocolError("Server disconnected mid-way through the head.")
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        if not await conn.wait_data(timeout):
            raise httpx.ReadTimeout("Timed out waiting for the response.", request=request)
    raw = bytes(buffer[: end.start()])
    del buffer[: end.end()]
    conn.consumed()
    return http1.parse_head(raw)
