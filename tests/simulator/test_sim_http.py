"""The simulator's HTTP/1.1 layer over raw sockets: framing, keep-alive, errors, routing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from cherry_nb.simulator import Simulator

KEY = "sk-sim-http-test-0123456789"
NGINX_404 = (
    "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1>"
    "</center><hr><center>nginx</center></body></html>"
)
CHAT = json.dumps({"model": "sim-chat", "messages": [{"role": "user", "content": "ping pong"}]})


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as sim:
        yield sim


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One response: status, headers (lower-cased names), body (chunked decoded)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            size = int((await asyncio.wait_for(reader.readuntil(b"\r\n"), 5))[:-2], 16)
            data = await asyncio.wait_for(reader.readexactly(size + 2), 5)
            if size == 0:
                break
            body += data[:-2]
        return status, headers, body
    length = int(headers.get("content-length", "0"))
    return status, headers, await asyncio.wait_for(reader.readexactly(length), 5)


async def exchange(port: int, data: bytes) -> tuple[bytes, bool]:
    """Send raw bytes; return everything answered before the server closed, and whether it did."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        out = b""
        closed = False
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 2)
            except TimeoutError:
                break
            if not chunk:
                closed = True
                break
            out += chunk
        return out, closed
    finally:
        writer.close()
        await writer.wait_closed()


def post(path: str, body: str, *extra: str) -> bytes:
    headers = "".join(f"{h}\r\n" for h in extra)
    return (
        f"POST {path} HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body.encode())}\r\n{headers}\r\n"
        f"{body}"
    ).encode()


async def test_health_needs_no_key(simulator: Simulator) -> None:
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/v1/chat/completions",
        "/v1/chat/completions/chat/completions",
        "/chat/completions",
        "/v1/v1/messages",
        "/v1beta/v1beta/models",
        "/openai/deployments/sim-chat/chat/completions/chat/completions",
        "/",
    ],
)
async def test_unknown_paths_get_nginx_html_404(simulator: Simulator, path: str) -> None:
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5) as client:
        response = await client.post(path, json={"model": "sim-chat"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == NGINX_404


async def test_wrong_method_is_405(simulator: Simulator) -> None:
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5) as client:
        response = await client.get("/v1/chat/completions")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_keep_alive_reuses_one_connection(simulator: Simulator) -> None:
    headers = {"authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5, headers=headers) as client:
        for i in range(5):
            body = {"model": "sim-chat", "messages": [{"role": "user", "content": f"n{i}"}]}
            response = await client.post("/v1/chat/completions", json=body)
            assert response.status_code == 200
            assert f"“n{i}”" in response.json()["choices"][0]["message"]["content"]
        streamed = {**body, "stream": True}
        response = await client.post("/v1/chat/completions", json=streamed)
        assert response.text.endswith("data: [DONE]\n\n")
        await client.get("/health")
    assert simulator.connections_opened == 1


async def test_pipelined_requests_are_answered_in_order(simulator: Simulator) -> None:
    streamed = json.dumps({**json.loads(CHAT), "stream": True})
    data = (
        post("/v1/chat/completions", CHAT)
        + post("/v1/chat/completions", streamed)
        + b"\r\nGET /health HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", simulator.port)
    try:
        writer.write(data)
        first = await read_response(reader)
        second = await read_response(reader)
        third = await read_response(reader)
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed after "close"
    finally:
        writer.close()
        await writer.wait_closed()
    assert first[0] == 200 and json.loads(first[2])["object"] == "chat.completion"
    assert second[1]["transfer-encoding"] == "chunked"
    assert second[2].endswith(b"data: [DONE]\n\n")
    assert third[0] == 200 and third[1]["connection"] == "close"


async def test_request_split_across_many_packets(simulator: Simulator) -> None:
    data = post("/v1/chat/completions", CHAT)
    reader, writer = await asyncio.open_connection("127.0.0.1", simulator.port)
    try:
        for i in range(0, len(data), 7):
            writer.write(data[i : i + 7])
            await writer.drain()
            await asyncio.sleep(0)
        status, _, body = await read_response(reader)
    finally:
        writer.close()
        await writer.wait_closed()
    assert status == 200
    assert "ping pong" in json.loads(body)["choices"][0]["message"]["content"]


async def test_chunked_request_body(simulator: Simulator) -> None:
    raw = CHAT.encode()
    pieces = [raw[:10], raw[10:11], raw[11:]]
    chunks = b"".join(b"%x;ext=1\r\n%b\r\n" % (len(p), p) for p in pieces)
    data = (
        (
            "POST /v1/chat/completions HTTP/1.1\r\nHost: sim\r\n"
            f"Authorization: Bearer {KEY}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + chunks
        + b"0\r\nX-Trailer: yes\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", simulator.port)
    try:
        writer.write(data[:-9])
        await asyncio.sleep(0.05)
        writer.write(data[-9:])
        status, _, body = await read_response(reader)
        # The connection is still usable afterwards.
        writer.write(b"GET /health HTTP/1.1\r\nHost: sim\r\n\r\n")
        assert (await read_response(reader))[0] == 200
    finally:
        writer.close()
        await writer.wait_closed()
    assert status == 200
    assert "ping pong" in json.loads(body)["choices"][0]["message"]["content"]
    assert simulator.requests[-2].json == json.loads(CHAT)


async def test_chunked_request_body_from_httpx(simulator: Simulator) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield CHAT.encode()[:20]
        yield CHAT.encode()[20:]

    headers = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5, headers=headers) as client:
        response = await client.post("/v1/chat/completions", content=body())
    assert response.status_code == 200
    assert simulator.requests[-1].headers["transfer-encoding"] == "chunked"


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /health\r\nHost: sim\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost sim\r\n\r\n",
        b"GET /health HTTP/1.1\r\nBad Header: x\r\n\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: sim\r\nContent-Length: abc\r\n\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: sim\r\nContent-Length: 2\r\n"
        b"Content-Length: 3\r\n\r\n{}",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: sim\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"zz\r\n{}\r\n0\r\n\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: sim\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: sim\r\n folded: header\r\n\r\n",
        b"GET /health HTTP/1.1\r\nAccept: */*\r\n\r\n",  # HTTP/1.1 requires Host
        b"GET health HTTP/1.1\r\nHost: sim\r\n\r\n",
    ],
)
async def test_malformed_requests_get_400_and_close(simulator: Simulator, data: bytes) -> None:
    out, closed = await exchange(simulator.port, data)
    assert out.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"connection: close" in out
    assert closed


async def test_oversized_head_is_refused(simulator: Simulator) -> None:
    data = b"GET /health HTTP/1.1\r\nHost: sim\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    out, closed = await exchange(simulator.port, data)
    assert out.startswith(b"HTTP/1.1 431 ")
    assert closed


async def test_unsupported_http_version(simulator: Simulator) -> None:
    out, closed = await exchange(simulator.port, b"GET /health HTTP/2.0\r\nHost: sim\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 505 ")
    assert closed


async def test_http_1_0_closes_after_the_reply(simulator: Simulator) -> None:
    out, closed = await exchange(simulator.port, b"GET /health HTTP/1.0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    assert out.endswith(b'{"status":"ok"}')
    assert closed


async def test_http_1_0_stream_is_not_chunked(simulator: Simulator) -> None:
    body = json.dumps({**json.loads(CHAT), "stream": True})
    data = (
        f"POST /v1/chat/completions HTTP/1.0\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()
    out, closed = await exchange(simulator.port, data)
    assert b"transfer-encoding" not in out
    assert out.endswith(b"data: [DONE]\n\n")
    assert closed


async def test_expect_100_continue(simulator: Simulator) -> None:
    head, body = post("/v1/chat/completions", CHAT, "Expect: 100-continue").split(b"\r\n\r\n", 1)
    reader, writer = await asyncio.open_connection("127.0.0.1", simulator.port)
    try:
        writer.write(head + b"\r\n\r\n")
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(body)
        status, _, _ = await read_response(reader)
    finally:
        writer.close()
        await writer.wait_closed()
    assert status == 200


async def test_head_has_length_but_no_body(simulator: Simulator) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", simulator.port)
    try:
        writer.write(
            b"HEAD /health HTTP/1.1\r\nHost: sim\r\n\r\nGET /health HTTP/1.1\r\nHost: sim\r\n\r\n"
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert b"content-length: 15\r\n" in head
        status, _, body = await read_response(reader)  # the next reply follows at once
    finally:
        writer.close()
        await writer.wait_closed()
    assert (status, body) == (200, b'{"status":"ok"}')


async def test_requests_are_recorded(simulator: Simulator) -> None:
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5) as client:
        await client.post(
            "/v1beta/models/sim-chat:generateContent?key=abc&alt=json",
            headers={"X-Custom-Thing": "Value"},
            json={"contents": [{"parts": [{"text": "hi"}]}]},
        )
        await client.post("/v1/chat/completions", content=b"{not json")
    first, second = list(simulator.requests)[-2:]
    assert first.method == "POST"
    assert first.path == "/v1beta/models/sim-chat:generateContent"
    assert first.query == {"key": "abc", "alt": "json"}
    assert first.headers["x-custom-thing"] == "Value"
    assert first.json == {"contents": [{"parts": [{"text": "hi"}]}]}
    assert second.json is None and second.body == b"{not json"


async def test_recording_is_bounded() -> None:
    async with Simulator() as sim, httpx.AsyncClient(base_url=sim.url, timeout=5) as client:
        for _ in range(1005):
            await client.get("/health")
        assert len(sim.requests) == 1000


async def test_stop_closes_idle_connections_and_is_idempotent() -> None:
    sim = Simulator()
    await sim.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        writer.write(b"GET /health HTTP/1.1\r\nHost: sim\r\n\r\n")
        assert (await read_response(reader))[0] == 200
        await sim.stop()
        await sim.stop()
        assert await asyncio.wait_for(reader.read(), 5) == b""
    finally:
        writer.close()
        await writer.wait_closed()
    assert sim.open_connections == 0
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", sim.port)


def test_base_urls() -> None:
    sim = Simulator(port=4321)
    assert sim.url == "http://127.0.0.1:4321"
    assert sim.base_url("openai") == "http://127.0.0.1:4321/v1"
    assert sim.base_url("anthropic") == sim.base_url("gemini") == sim.url
    assert sim.base_url("azure-openai") == sim.url
    with pytest.raises(ValueError):
        sim.base_url("cohere")
