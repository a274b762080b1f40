"""PlainHTTPTransport against scripted servers: framing, keep-alive, limits and failures
answered the way httpx's own transport (httpcore) answers them."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from cherry_nb.providers.base import new_client
from cherry_nb.providers.http1 import ChunkDecoder
from cherry_nb.providers.plain_http import DISABLE_ENV, PlainHTTPTransport, plain_http_allowed

from .scripted import Handler, Scripted


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One request's head and body (Content-Length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lowered = head.lower()
    if b"transfer-encoding: chunked" in lowered:
        body = b""
        while True:
            size = int((await reader.readline()).strip(), 16)
            data = await reader.readexactly(size + 2)
            if not size:
                return head, body
            body += data[:-2]
    length = 0
    for line in lowered.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head, await reader.readexactly(length)


def replies(*raw: bytes, keep_open: bool = True) -> Handler:
    """A handler answering successive requests on a connection with `raw` replies."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for reply in raw:
            await read_request(reader)
            writer.write(reply)
            await writer.drain()
        if keep_open:
            await reader.read()  # until the client closes

    return handler


def in_turn(*raw: bytes) -> Handler:
    """A handler answering each request with the next of `raw`, whatever its connection."""
    queue = list(raw)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while queue:
            await read_request(reader)
            writer.write(queue.pop(0))
            await writer.drain()
        await reader.read()

    return handler


OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=2, keepalive_expiry=5)
    async with httpx.AsyncClient(
        mounts={"http://": PlainHTTPTransport(limits)}, timeout=httpx.Timeout(2.0)
    ) as client:
        yield client


async def test_content_length_reply_and_keep_alive(client: httpx.AsyncClient) -> None:
    async with Scripted(replies(OK, OK, OK)) as server:
        for _ in range(3):
            reply = await client.post(server.url, json={"model": "m"})
            assert reply.status_code == 200
            assert reply.json() == {"ok": True}
            assert reply.http_version == "HTTP/1.1"
            assert reply.headers["content-type"] == "application/json"
    assert server.connections == 1


async def test_request_head_and_body_as_sent(client: httpx.AsyncClient) -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(OK)
        await reader.read()

    async with Scripted(handler) as server:
        await client.post(server.url + "?a=b%20c", content=b"hello", headers={"X-Custom": "v"})
    head, body = seen[0]
    assert head.startswith(b"POST /v1/chat?a=b%20c HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}".encode() in head
    assert b"X-Custom: v\r\n" in head
    assert b"Content-Length: 5\r\n" in head
    assert body == b"hello"


async def test_streamed_request_body_is_chunked(client: httpx.AsyncClient) -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(OK)
        await reader.read()

    async def parts() -> AsyncIterator[bytes]:
        yield b"one,"
        yield b""
        yield b"two"

    async with Scripted(handler) as server:
        reply = await client.post(server.url, content=parts())
    assert reply.status_code == 200
    assert b"Transfer-Encoding: chunked" in seen[0][0]
    assert seen[0][1] == b"one,two"


async def test_chunked_reply_with_extensions_and_trailers(client: httpx.AsyncClient) -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n1\r\n,\r\n6 \r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    async with Scripted(replies(raw, OK)) as server:
        reply = await client.get(server.url)
        assert reply.content == b"hello, world"
        assert (await client.get(server.url)).status_code == 200
    assert server.connections == 1  # the trailer was consumed: the connection was reusable


async def test_chunked_reply_trickling_in(client: httpx.AsyncClient) -> None:
    events = [f"data: {i}\n\n".encode() for i in range(50)]
    body = b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(0, len(body), 7):  # boundaries anywhere, including inside CRLF
            writer.write(body[i : i + 7])
            await writer.drain()
            await asyncio.sleep(0)
        await reader.read()

    async with Scripted(handler) as server, client.stream("GET", server.url) as reply:
        received = b"".join([part async for part in reply.aiter_raw()])
    assert received == b"".join(events)


@pytest.mark.parametrize("piece", [1, 3, 64, 1 << 20])
def test_chunk_decoder_in_any_pieces(piece: int) -> None:
    chunks = [b"a" * n for n in (1, 15, 16, 255, 4096, 70_000)]
    raw = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    decoder, buffer, out = ChunkDecoder(), bytearray(), []
    for i in range(0, len(raw), piece):
        buffer += raw[i : i + piece]
        while data := decoder.feed(buffer):
            out.append(data)
    assert decoder.done
    assert not buffer
    assert b"".join(out) == b"".join(chunks)


@pytest.mark.parametrize("bad", [b"zz\r\nab\r\n", b"0x2\r\nab\r\n", b"2\r\nabXY", b"-1\r\n"])
def test_chunk_decoder_rejects_malformed(bad: bytes) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        ChunkDecoder().feed(bytearray(bad + b"\r\n0\r\n\r\n"))


async def test_reply_until_close_is_not_reused(client: httpx.AsyncClient) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nall of ")
        await writer.drain()
        writer.write(b"it")

    async with Scripted(handler) as server:
        assert (await client.get(server.url)).content == b"all of it"
        assert (await client.get(server.url)).content == b"all of it"
    assert server.connections == 2


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ],
)
async def test_connection_close_and_http_1_0_are_not_reused(
    client: httpx.AsyncClient, head: bytes
) -> None:
    async with Scripted(replies(head, keep_open=False)) as server:
        assert (await client.get(server.url)).content == b"ok"
        assert (await client.get(server.url)).content == b"ok"
    assert server.connections == 2


async def test_informational_replies_are_skipped(client: httpx.AsyncClient) -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n" + OK
    async with Scripted(replies(raw)) as server:
        reply = await client.post(server.url, content=b"x")
    assert reply.status_code == 200
    assert reply.json() == {"ok": True}


@pytest.mark.parametrize(
    ("method", "raw"),
    [
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"),
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\n"),
        ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 11\r\n\r\n"),
    ],
)
async def test_replies_without_a_body(client: httpx.AsyncClient, method: str, raw: bytes) -> None:
    async with Scripted(replies(raw, OK)) as server:
        reply = await client.request(method, server.url)
        assert reply.content == b""
        assert (await client.get(server.url)).json() == {"ok": True}
    assert server.connections == 1


async def test_gzip_body_is_decoded_by_httpx(client: httpx.AsyncClient) -> None:
    packed = gzip.compress(b'{"ok":true}')
    raw = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (
        len(packed),
        packed,
    )
    async with Scripted(replies(raw)) as server:
        assert (await client.get(server.url)).json() == {"ok": True}


async def test_large_body_with_flow_control(client: httpx.AsyncClient) -> None:
    body = bytes(range(256)) * 16_384  # 4 MiB: reading pauses and resumes many times
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    async with Scripted(replies(raw)) as server, client.stream("GET", server.url) as reply:
        pieces = [part async for part in reply.aiter_raw()]
    assert b"".join(pieces) == body
    assert max(len(p) for p in pieces) <= 64 * 1024


async def test_response_closed_early_discards_the_connection(client: httpx.AsyncClient) -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100_000
    async with Scripted(in_turn(raw, OK)) as server:
        async with client.stream("GET", server.url) as reply:
            assert reply.status_code == 200  # closed without reading the body
        assert (await client.get(server.url)).json() == {"ok": True}
    assert server.connections == 2


async def test_idle_connection_closed_by_the_server_is_not_reused(
    client: httpx.AsyncClient,
) -> None:
    async with Scripted(replies(OK, keep_open=False)) as server:
        assert (await client.get(server.url)).status_code == 200
        await asyncio.sleep(0.05)  # the server has closed the idle connection by now
        assert (await client.get(server.url)).status_code == 200
        await asyncio.sleep(0.05)
    assert server.connections == 2


async def test_close_seen_by_the_kernel_but_not_yet_by_the_loop(
    client: httpx.AsyncClient,
) -> None:
    async with Scripted(replies(OK, keep_open=False)) as server:
        assert (await client.get(server.url)).status_code == 200
        time.sleep(0.05)  # blocks the loop: only the socket knows the server has closed
        assert (await client.get(server.url)).status_code == 200
        await asyncio.sleep(0.05)
    assert server.connections == 2


async def test_keep_alive_expiry() -> None:
    limits = httpx.Limits(keepalive_expiry=0.05)
    async with (
        Scripted(replies(OK, OK)) as server,
        httpx.AsyncClient(mounts={"http://": PlainHTTPTransport(limits)}) as client,
    ):
        await client.get(server.url)
        await asyncio.sleep(0.1)
        await client.get(server.url)
    assert server.connections == 2


async def test_idle_connections_are_capped_across_origins() -> None:
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=2)
    async with (
        Scripted(replies(OK, OK)) as a,
        Scripted(replies(OK, OK)) as b,
        httpx.AsyncClient(mounts={"http://": PlainHTTPTransport(limits)}) as client,
    ):
        for _ in range(2):
            async with client.stream("GET", a.url) as one, client.stream("GET", a.url) as two:
                await one.aread()
                await two.aread()
        assert a.connections == 2  # both kept, and reused: the cap is full
        for _ in range(2):
            assert (await client.get(b.url)).status_code == 200
    assert b.connections == 2  # b's connection was not kept: a's fill the cap


async def test_connection_limit_and_pool_timeout() -> None:
    release = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            await release.wait()
            writer.write(OK)

    limits = httpx.Limits(max_connections=1)
    transport = PlainHTTPTransport(limits)
    async with (
        Scripted(slow) as server,
        httpx.AsyncClient(
            mounts={"http://": transport}, timeout=httpx.Timeout(2.0, pool=0.1)
        ) as client,
    ):
        first = asyncio.create_task(client.get(server.url))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout):
            await client.get(server.url)
        release.set()
        assert (await first).status_code == 200
        assert (await client.get(server.url)).status_code == 200  # the slot came back
    assert server.connections == 1


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    [
        (b"", httpx.RemoteProtocolError, "Server disconnected without sending a response."),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            httpx.RemoteProtocolError,
            "received 3 bytes, expected 10",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
            httpx.RemoteProtocolError,
            "incomplete chunked read",
        ),
        (b"HTTP/2 200 OK\r\n\r\n", httpx.RemoteProtocolError, "status line"),
        (b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", httpx.RemoteProtocolError, "header"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            httpx.RemoteProtocolError,
            "Content-Length",
        ),
    ],
)
async def test_broken_replies(
    client: httpx.AsyncClient, raw: bytes, error: type[Exception], message: str
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(raw)
        await writer.drain()

    async with Scripted(handler) as server:
        with pytest.raises(error, match=message):
            await client.get(server.url)


async def test_read_timeout(client: httpx.AsyncClient) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await reader.read()

    async with Scripted(silent) as server:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(server.url, timeout=httpx.Timeout(2.0, read=0.1))


async def test_connection_refused_keeps_its_cause(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(httpx.ConnectError) as caught:
        await client.get(f"http://127.0.0.1:{port}/")
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


async def test_header_injection_is_refused(client: httpx.AsyncClient) -> None:
    async with Scripted(replies(OK)) as server:
        with pytest.raises(httpx.LocalProtocolError):
            await client.get(server.url, headers={"X-Bad": "a\r\nInjected: yes"})


async def test_https_is_not_for_this_transport() -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        await PlainHTTPTransport().handle_async_request(httpx.Request("GET", "https://x/"))


ENVIRONMENTS = {
    "default": ({}, True),
    "escape hatch off": ({DISABLE_ENV: "0"}, True),
    "escape hatch": ({DISABLE_ENV: "1"}, False),
    # The scripted server is the proxy too: it answers whatever request line it gets.
    "http proxy": ({"HTTP_PROXY": "http://127.0.0.1:{port}"}, False),
    "all proxy": ({"ALL_PROXY": "http://127.0.0.1:{port}"}, False),
}


@pytest.mark.parametrize(("env", "plain"), ENVIRONMENTS.values(), ids=ENVIRONMENTS.keys())
async def test_new_client_uses_plain_http_unless_a_proxy_or_the_escape_hatch(
    env: dict[str, str], plain: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    calls = 0
    handle = PlainHTTPTransport.handle_async_request

    async def counted(self: PlainHTTPTransport, request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return await handle(self, request)

    monkeypatch.setattr(PlainHTTPTransport, "handle_async_request", counted)
    async with Scripted(replies(OK, OK)) as server:
        for name, value in env.items():
            monkeypatch.setenv(name, value.format(port=server.port))
        assert plain_http_allowed() is plain
        client = new_client()
        try:
            mounted = client._transport_for_url(httpx.URL(server.url))
            assert isinstance(mounted, PlainHTTPTransport if plain else httpx.AsyncHTTPTransport)
            for _ in range(2):
                assert (await client.post(server.url, json={})).json() == {"ok": True}
        finally:
            await client.aclose()
    assert calls == (2 if plain else 0)
    assert server.connections == 1


def test_works_on_uvloop() -> None:
    """uvloop's transports do not subclass asyncio.Transport; a gateway run on its loop
    (`hypercorn -k uvloop cherry_nb.gateway.asgi:app`) must still reach plain-http
    upstreams, reusing the connection, and see a closed idle one as closed."""
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> None:
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=2)
        transport = PlainHTTPTransport(limits)
        async with (
            httpx.AsyncClient(mounts={"http://": transport}, timeout=2.0) as client,
            Scripted(replies(OK, OK)) as server,
        ):
            for _ in range(2):
                reply = await client.post(server.url, json={"model": "m"})
                assert reply.status_code == 200
                assert reply.json() == {"ok": True}
        assert server.connections == 1

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(scenario())
