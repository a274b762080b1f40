"""Shared pieces of the hardening tests: a real gateway over simulator upstreams, raw HTTP.

Everything listens on 127.0.0.1 and every network call has a timeout, so a test that
finds a hang fails instead of hanging.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.server import GatewayServer
from cherry_nb.simulator import SimulatorThread

GATEWAY_KEY = "cs-sk-" + "test-hardening-gateway-0123456789"  # split: no key-shaped literal
SIM_KEY = "sim-hardening-upstream-key-0123456789"
TYPES = ("openai", "anthropic", "gemini", "azure-openai")
AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}
TIMEOUT = 10.0  # seconds, for any one network call of a test
READ_TIMEOUT = 1.5  # the gateway's upstream read timeout in these stacks


@dataclass
class Stack:
    """A gateway (Hypercorn in a thread) over one simulator speaking all four protocols."""

    upstream: SimulatorThread
    registry: ProviderRegistry
    server: GatewayServer

    @property
    def url(self) -> str:
        assert self.server.url is not None
        return self.server.url

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port


def add_upstreams(registry: ProviderRegistry, upstream: SimulatorThread, key: str) -> None:
    """Providers `up-<type>` for the four types, each with the model `sim-chat`."""
    for provider_type in TYPES:
        registry.add(
            id=f"up-{provider_type}",
            name=f"Upstream {provider_type}",
            type=provider_type,
            base_url=upstream.base_url(provider_type),
            api_key=key,
            models=["sim-chat"],
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    upstream = SimulatorThread(api_key=SIM_KEY)
    upstream.start()
    registry = ProviderRegistry(tmp_path_factory.mktemp("hardening") / "config.json")
    add_upstreams(registry, upstream, SIM_KEY)
    registry.set_server(api_key=GATEWAY_KEY, upstream_read_timeout=READ_TIMEOUT)
    server = GatewayServer(registry)
    server.start(port=0)
    try:
        yield Stack(upstream, registry, server)
    finally:
        server.stop()
        upstream.stop()


@pytest.fixture(autouse=True)
def _no_leftover_script(request: pytest.FixtureRequest) -> Iterator[None]:
    """A scripted fault that a failing test did not use must not leak into the next test."""
    yield
    if "stack" in request.fixturenames:
        request.getfixturevalue("stack").upstream.clear_script()


# ---- request bodies ------------------------------------------------------------------


def chat_body(model: str = "up-openai:sim-chat", text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def messages_body(
    model: str = "up-openai:sim-chat", text: str = "hi", **extra: Any
) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 100,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def route_request(
    route: str, upstream: str, text: str = "hi", **extra: Any
) -> tuple[str, dict[str, Any]]:
    """(path, body) of a chat request in `route`'s format ("openai"/"anthropic")."""
    model = f"up-{upstream}:sim-chat"
    if route == "openai":
        return "/v1/chat/completions", chat_body(model, text, **extra)
    return "/v1/messages", messages_body(model, text, **extra)


# ---- envelopes -------------------------------------------------------------------------


def is_openai_error(body: Any) -> bool:
    """Exactly OpenAI's envelope: {"error": {"message", "type", "param", "code"}}."""
    if not isinstance(body, dict) or set(body) != {"error"}:
        return False
    error = body["error"]
    return (
        isinstance(error, dict)
        and set(error) == {"message", "type", "param", "code"}
        and isinstance(error["message"], str)
        and bool(error["message"])
        and isinstance(error["type"], str)
        and (error["param"] is None or isinstance(error["param"], str))
    )


def is_anthropic_error(body: Any) -> bool:
    """Exactly Anthropic's envelope: {"type": "error", "error": {"type", "message"}}."""
    if not isinstance(body, dict) or set(body) != {"type", "error"} or body["type"] != "error":
        return False
    error = body["error"]
    return (
        isinstance(error, dict)
        and set(error) == {"type", "message"}
        and isinstance(error["type"], str)
        and isinstance(error["message"], str)
        and bool(error["message"])
    )


def envelope_ok(path: str, body: Any) -> bool:
    """The envelope the gateway promises for `path`: Anthropic's on messages routes."""
    return is_anthropic_error(body) if "/messages" in path else is_openai_error(body)


# ---- server-sent events ----------------------------------------------------------------


def sse_events(raw: str) -> list[tuple[str | None, str]]:
    """(event name, data) of each event in a text/event-stream body."""
    events = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            events.append((name, "\n".join(data)))
    return events


def stream_outcome(route: str, raw: str) -> str:
    """ "complete", "error" (ended by the protocol's error event) or "truncated"."""
    events = sse_events(raw)
    if not events:
        return "truncated"
    if route == "openai":
        if events[-1][1] != "[DONE]":
            return "truncated"
        payloads = [json.loads(data) for _, data in events[:-1]]
        return "error" if any("error" in p for p in payloads) else "complete"
    name, data = events[-1]
    if name == "error" and json.loads(data)["type"] == "error":
        return "error"
    return "complete" if name == "message_stop" else "truncated"


def stream_text(route: str, raw: str) -> str:
    """The reply text carried by a stream in `route`'s format."""
    parts = []
    for _, data in sse_events(raw):
        if data == "[DONE]":
            continue
        payload = json.loads(data)
        if route == "openai":
            for choice in payload.get("choices", []):
                parts.append(choice.get("delta", {}).get("content") or "")
        elif payload.get("type") == "content_block_delta":
            parts.append(payload["delta"].get("text") or "")
    return "".join(parts)


# ---- raw HTTP/1.1 --------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


def raw_exchange(port: int, request: bytes, *, timeout: float = 5.0) -> bytes:
    """Send `request` as is and read until the server closes (or `timeout` passes)."""
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        try:
            while data := sock.recv(65536):
                chunks.append(data)
        except TimeoutError:
            chunks.append(b"<<timeout>>")
        except ConnectionResetError:
            chunks.append(b"<<reset>>")
    return b"".join(chunks)


def parse_response(raw: bytes) -> RawResponse:
    """One HTTP/1.1 response (Content-Length, chunked, or read-to-close body)."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    assert sep, f"no complete response head in {raw[:200]!r}"
    lines = head.decode("latin-1").split("\r\n")
    version, status, *_ = lines[0].split(" ", 2)
    assert version.startswith("HTTP/1."), lines[0]
    headers = [
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in lines[1:])
    ]
    values = dict(headers)
    if values.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            body += rest[:size]
            rest = rest[size + 2 :]
        return RawResponse(int(status), headers, bytes(body))
    if "content-length" in values:
        return RawResponse(int(status), headers, rest[: int(values["content-length"])])
    return RawResponse(int(status), headers, rest)


def raw_request(
    port: int,
    method: str,
    target: str,
    *,
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
    timeout: float = 5.0,
) -> RawResponse:
    """One request written byte for byte (no client normalises it), `Connection: close`."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers or []]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return parse_response(raw_exchange(port, head + body, timeout=timeout))
