"""The gate in front of every route, over real HTTP: exact open routes, named keys, the
Host check; and the relay behind it against scripted upstreams: keys masked on every
reply path, redirects, streams cut short, whole replies to stream requests."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from cherry_nb._secrets import mask_key
from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.gate import KEY_NAME
from cherry_nb.gateway.server import GatewayServer

from ..providers.scripted import Scripted
from .conftest import (
    GATEWAY_KEY,
    Stack,
    is_anthropic_error,
    is_openai_error,
    parse_response,
    raw_exchange,
    raw_request,
    sse_events,
)

AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}
UPSTREAM_KEY = "fake-upstream-key-echoed-back"  # not a real key: only its shape counts
MASKED = mask_key(UPSTREAM_KEY)
CHAT = {"model": "up:m", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "up:m", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}


def port_of(stack: Stack) -> int:
    assert stack.server.port is not None
    return stack.server.port


# ---- open routes: an exact list ------------------------------------------------------


def test_count_tokens_under_api_docs_needs_the_key(stack: Stack) -> None:
    """`/api-docs/v1/messages/count_tokens` is a provider route (provider id "api-docs"),
    not a docs page: before the gate it ran without a key and listed every provider."""
    body = json.dumps(MESSAGES).encode()
    response = raw_request(
        port_of(stack),
        "POST",
        "/api-docs/v1/messages/count_tokens",
        body=body,
        headers=[("Content-Type", "application/json")],
    )
    assert response.status == 401 and is_anthropic_error(response.json())
    assert b"up-openai" not in response.body


@pytest.mark.parametrize(
    "path",
    ["/api-docs/static/nope.js", "/api-docs/v1/models", "/api-docs/", "/health/", "/v1/models"],
)
def test_paths_near_the_open_ones_need_the_key(stack: Stack, path: str) -> None:
    assert raw_request(port_of(stack), "GET", path).status == 401


@pytest.mark.parametrize(
    "path",
    [
        "/health",
        "/api-docs",
        "/api-docs.json",
        "/api-docs/openapi-3.0.json",
        "/api-docs/swagger-init.js",
        "/api-docs/static/swagger-ui.css",
    ],
)
def test_open_routes_answer_without_a_key(stack: Stack, path: str) -> None:
    assert raw_request(port_of(stack), "GET", path).status == 200


# ---- named keys ------------------------------------------------------------------------


@pytest.fixture
def keyed(stack: Stack) -> Any:
    """The stack with a named key `ci`, and the key names its requests arrived with."""
    ci_key = "cs-sk-named-ci-key-0123456789abcdef"
    stack.registry.set_server(keys=[{"name": "ci", "key": ci_key}])
    assert stack.server._app is not None
    gate = stack.server._app.asgi_app
    inner = gate.app  # type: ignore[attr-defined]
    names: list[str | None] = []

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        names.append(scope.get(KEY_NAME))
        await inner(scope, receive, send)

    gate.app = recording  # type: ignore[attr-defined]
    try:
        yield ci_key, names
    finally:
        gate.app = inner  # type: ignore[attr-defined]
        stack.registry.set_server(keys=[])


def test_a_named_key_is_accepted_and_its_name_recorded(stack: Stack, keyed: Any) -> None:
    ci_key, names = keyed
    body = {"model": "up-openai:sim-chat", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(base_url=stack.url, timeout=10) as http:
        named = http.post("/v1/chat/completions", json=body, headers={"x-api-key": ci_key})
        main = http.get("/v1/models", headers=AUTH)
        opened = http.get("/health")
        wrong = http.get("/v1/models", headers={"x-api-key": ci_key + "x"})
        both = http.get(
            "/v1/models", headers={"x-api-key": ci_key, "authorization": f"Bearer {GATEWAY_KEY}"}
        )
    assert named.status_code == 200 and main.status_code == 200 and opened.status_code == 200
    assert names[:3] == ["ci", "default", None]
    assert wrong.status_code == 403 and is_openai_error(wrong.json())
    assert both.status_code == 403 and "two different" in both.json()["error"]["message"]


# ---- the Host check ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "method", "anthropic"),
    [
        ("/health", "GET", False),
        ("/", "GET", False),
        ("/api-docs.json", "GET", False),
        ("/v1/models", "GET", False),
        ("/v1/chat/completions", "POST", False),
        ("/v1/messages", "POST", True),
    ],
)
def test_a_foreign_host_name_is_refused(stack: Stack, path: str, method: str, anthropic: bool):
    """DNS rebinding: a page's own name pointed at 127.0.0.1 reads nothing."""
    port = port_of(stack)
    request = (
        f"{method} {path} HTTP/1.1\r\nHost: rebind.example:{port}\r\n"
        f"Authorization: Bearer {GATEWAY_KEY}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ).encode()
    response = parse_response(raw_exchange(port, request))
    assert response.status == 403
    assert (is_anthropic_error if anthropic else is_openai_error)(response.json())
    assert "allowed_hosts" in response.body.decode()


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.0.0.1:{port}", "localhost:{port}", "LOCALHOST.", "[::1]:{port}", "10.1.2.3"],
)
def test_ip_literals_and_localhost_are_answered(stack: Stack, host: str) -> None:
    port = port_of(stack)
    request = f"GET /health HTTP/1.1\r\nHost: {host.format(port=port)}\r\nConnection: close\r\n\r\n"
    assert parse_response(raw_exchange(port, request.encode())).status == 200


def test_allowed_hosts_and_the_jupyterhub_proxy(stack: Stack, monkeypatch) -> None:
    port = port_of(stack)

    def status(host: str, *extra: tuple[str, str]) -> int:
        with httpx.Client(timeout=10) as http:
            headers = {"host": host, **dict(extra)}
            return http.get(f"{stack.url}/health", headers=headers).status_code

    assert status("gateway.lan") == 403
    stack.registry.set_server(allowed_hosts=["gateway.lan", "other.lan:8080"])
    try:
        assert status("gateway.lan") == 200 and status(f"GATEWAY.LAN:{port}") == 200
        assert status("other.lan:8080") == 200 and status("other.lan:9090") == 403
    finally:
        stack.registry.set_server(allowed_hosts=[])
    # jupyter-server-proxy keeps the hub's Host and says where it forwards from.
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    context = ("x-forwarded-context", f"/user/ada/proxy/{port}")
    assert status("hub.example", context) == 200
    assert status("hub.example", ("x-forwarded-context", "/user/eve/proxy/1")) == 403
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX")
    assert status("hub.example", context) == 403


# ---- scripted upstreams ----------------------------------------------------------------

Reply = Callable[[bytes, bytes], list[bytes]]  # (request head, body) -> response writes


def _key_in(head: bytes) -> bytes:
    match = re.search(rb"(?im)^(?:x-api-key: *|authorization: *bearer )(\S+)\r$", head)
    assert match, head
    return match.group(1)


def http_reply(
    body: bytes | list[bytes], content_type: str = "application/json", status: str = "200 OK"
) -> bytes:
    """A whole response: Content-Length for bytes, chunked for a list of chunks."""
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nConnection: close\r\n"
    if isinstance(body, bytes):
        return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in body)
    return f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + chunks + b"0\r\n\r\n"


@asynccontextmanager
async def gateway_over(
    tmp_path: Path, provider_type: str, answer: Callable[[bytes], bytes]
) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway whose provider `up` (model `m`) is a scripted upstream; `answer` gets the
    whole request (head and body) and returns the whole raw response."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        body = await reader.readexactly(int(length.group(1)) if length else 0)
        writer.write(answer(head + body))
        await writer.drain()

    async with Scripted(handle) as upstream:
        base = f"http://127.0.0.1:{upstream.port}" + ("/v1" if provider_type == "openai" else "")
        registry = ProviderRegistry(tmp_path / "config.json")
        registry.add(
            id="up",
            name="Up",
            type=provider_type,
            base_url=base,
            api_key=UPSTREAM_KEY,
            models=["m"],
        )
        registry.set_server(api_key=GATEWAY_KEY)
        server = GatewayServer(registry)
        server.start(port=0)
        try:
            async with httpx.AsyncClient(base_url=server.url or "", headers=AUTH, timeout=10) as c:
                yield c
        finally:
            await asyncio.to_thread(server.stop)


def openai_completion(text: str) -> bytes:
    return json.dumps(
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }
    ).encode()


def anthropic_message(text: str) -> bytes:
    return json.dumps(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 2},
        }
    ).encode()


def openai_chunk(text: str, finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": {"content": text}, "finish_reason": finish}
    data = json.dumps({"id": "c1", "model": "m", "choices": [choice]}).encode()
    return b"data: " + data + b"\n\n"


# ---- keys echoed by an upstream are masked on every reply path -------------------------


async def test_an_echoed_key_is_masked_when_translating(tmp_path: Path) -> None:
    def echo(head: bytes) -> bytes:
        said = f"your key is {_key_in(head).decode()}"
        if b"/count_tokens" in head.split(b"\r\n")[0]:
            return http_reply(json.dumps({"input_tokens": 7, "note": said}).encode())
        return http_reply(anthropic_message(said))

    async with gateway_over(tmp_path, "anthropic", echo) as http:
        plain = await http.post("/v1/chat/completions", json=CHAT)
        counted = await http.post("/v1/messages/count_tokens", json=MESSAGES)
    for response in (plain, counted):
        assert response.status_code == 200, response.text
        assert UPSTREAM_KEY not in response.text and MASKED in response.text
    assert int(plain.headers["content-length"]) == len(plain.content)


async def test_an_echoed_key_is_masked_in_translated_streams(tmp_path: Path) -> None:
    def echo(head: bytes) -> bytes:
        event = openai_chunk("key: " + _key_in(head).decode(), "stop")
        # One event split across two reads: the parser joins it, the mask must catch it.
        half = event.index(UPSTREAM_KEY[:10].encode()) + 5
        return http_reply([event[:half], event[half:], b"data: [DONE]\n\n"], "text/event-stream")

    async with gateway_over(tmp_path, "openai", echo) as http:
        streamed = await http.post("/v1/messages", json={**MESSAGES, "stream": True})
        passthrough = await http.post("/v1/chat/completions", json={**CHAT, "stream": True})
    for response in (streamed, passthrough):
        assert response.status_code == 200
        assert UPSTREAM_KEY not in response.text and MASKED in response.text


# ---- redirects, cut streams, whole replies to stream requests --------------------------


async def test_an_upstream_redirect_is_a_502_that_says_where(tmp_path: Path) -> None:
    def moved(head: bytes) -> bytes:
        return (
            b"HTTP/1.1 302 Found\r\nLocation: http://alice:S3cret@api.elsewhere.example/v2?key=abc"
            b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )

    async with gateway_over(tmp_path, "openai", moved) as http:
        plain = await http.post("/v1/chat/completions", json=CHAT)
        streamed = await http.post("/v1/messages", json={**MESSAGES, "stream": True})
    assert plain.status_code == 502 and is_openai_error(plain.json())
    assert streamed.status_code == 502 and is_anthropic_error(streamed.json())
    message = plain.json()["error"]["message"]
    assert "api.elsewhere.example/v2" in message and "302" in message
    assert "S3cret" not in plain.text and "key=abc" not in plain.text


@pytest.mark.parametrize(
    ("path", "body", "route"),
    [
        ("/v1/chat/completions", {**CHAT, "stream": True}, "openai"),  # passthrough
        ("/v1/messages", {**MESSAGES, "stream": True}, "anthropic"),  # translated
    ],
)
async def test_a_stream_cut_before_its_end_says_so(tmp_path: Path, path, body, route) -> None:
    def cut(head: bytes) -> bytes:
        return http_reply([openai_chunk("Hello"), openai_chunk(" wor")], "text/event-stream")

    async with gateway_over(tmp_path, "openai", cut) as http:
        response = await http.post(path, json=body)
    assert response.status_code == 200
    events = sse_events(response.text)
    last = json.loads(events[-2 if route == "openai" else -1][1])
    assert "closed the stream before its end" in json.dumps(last)
    if route == "openai":
        assert events[-1][1] == "[DONE]" and "error" in last
    else:
        assert events[-1][0] == "error"
        assert not any(name == "message_stop" for name, _ in events)


@pytest.mark.parametrize(
    ("path", "body", "route"),
    [
        ("/v1/chat/completions", {**CHAT, "stream": True}, "openai"),  # passthrough
        ("/v1/messages", {**MESSAGES, "stream": True}, "anthropic"),  # translated
    ],
)
async def test_a_whole_json_reply_to_a_stream_request_becomes_events(
    tmp_path: Path, path, body, route
) -> None:
    def whole(head: bytes) -> bytes:
        return http_reply(openai_completion("Hello from JSON"))

    async with gateway_over(tmp_path, "openai", whole) as http:
        response = await http.post(path, json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    payloads = [json.loads(data) for _, data in events if data != "[DONE]"]
    if route == "openai":
        text = "".join(
            c["delta"].get("content") or "" for p in payloads for c in p.get("choices", [])
        )
        assert events[-1][1] == "[DONE]"
        assert any(c.get("finish_reason") == "stop" for p in payloads for c in p["choices"])
    else:
        text = "".join(p["delta"].get("text", "") for p in payloads if p["type"].endswith("delta"))
        assert events[-1][0] == "message_stop"
    assert text == "Hello from JSON"


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
async def test_a_stream_request_answered_with_plain_text_is_a_502(tmp_path: Path, path) -> None:
    def text(head: bytes) -> bytes:
        return http_reply(b"upstream says: maintenance until noon", "text/plain")

    body = {**(CHAT if "chat" in path else MESSAGES), "stream": True}
    async with gateway_over(tmp_path, "openai", text) as http:
        response = await http.post(path, json=body)
    assert response.status_code == 502
    envelope = response.json()
    assert (is_openai_error if "chat" in path else is_anthropic_error)(envelope)
    assert "maintenance until noon" in response.text and "text/plain" in response.text


# ---- fields a translation dropped ------------------------------------------------------


async def test_dropped_fields_are_named_in_a_header(tmp_path: Path) -> None:
    # `logprobs` has no equivalent in Anthropic's format (the reader reports it), `seed`
    # none in Anthropic's either (the builder reports it): both named, stream or not.
    dropping = {**CHAT, "logprobs": True, "seed": 7}

    def reply(head: bytes) -> bytes:
        if b'"stream":true' in head:
            events = [
                b'event: message_start\ndata: {"type":"message_start","message":{"id":"m1",'
                b'"model":"m","usage":{"input_tokens":1,"output_tokens":0}}}\n\n',
                b'event: message_delta\ndata: {"type":"message_delta","delta":'
                b'{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}\n\n',
                b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
            ]
            return http_reply(events, "text/event-stream")
        return http_reply(anthropic_message("ok"))

    async with gateway_over(tmp_path, "anthropic", reply) as http:
        plain = await http.post("/v1/chat/completions", json=dropping)
        streamed = await http.post("/v1/chat/completions", json={**dropping, "stream": True})
    assert plain.headers["x-cherry-nb-dropped"] == "logprobs,seed"
    assert streamed.headers["x-cherry-nb-dropped"] == "logprobs,seed"
    assert streamed.text.rstrip().endswith("data: [DONE]")


async def test_an_upstream_error_event_is_not_doubled_with_a_cut_off_one(tmp_path: Path) -> None:
    def failing(head: bytes) -> bytes:
        error = b'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n'
        return http_reply([openai_chunk("Hel"), error], "text/event-stream")

    async with gateway_over(tmp_path, "openai", failing) as http:
        response = await http.post("/v1/chat/completions", json={**CHAT, "stream": True})
    assert "overloaded" in response.text
    assert "closed the stream before its end" not in response.text
