"""What the real clients sent (fixtures/, recorded by the client tests), replayed through
every upstream kind with plain httpx: no Node needed, so a regression on a client's request
shape shows up in the fast suite too. Among them Claude Code's first turn (a system-role
message) and its turn after ToolSearch (`tool_reference` blocks in a tool result), and
Codex's Responses turns (namespace and web_search tools, function_call items)."""

from __future__ import annotations

import json

import httpx
import pytest

from .conftest import FIXTURES, GATEWAY_KEY, ClientStack, load_fixture, routed

RECORDED = sorted(p.name for p in FIXTURES.glob("*_request.json"))
#: Not replayed: hop-by-hop or recomputed headers, and the (redacted) credentials.
_DROPPED = {"host", "content-length", "accept-encoding", "connection", "transfer-encoding"}
_DROPPED |= {"authorization", "x-api-key", "api-key", "x-goog-api-key"}


def replay(stack: ClientStack, fixture: str, model: str) -> tuple[int, str]:
    recorded = load_fixture(fixture)
    body = recorded["body"]
    body["model"] = model
    headers = {k: v for k, v in recorded["headers"].items() if k not in _DROPPED}
    headers["authorization"] = f"Bearer {GATEWAY_KEY}"
    with httpx.stream(
        recorded["method"],
        stack.gateway_url + recorded["path"],
        content=json.dumps(body).encode(),
        headers=headers,
        timeout=30,
    ) as reply:
        return reply.status_code, reply.read().decode()


def test_every_client_has_a_recorded_request():
    prefixes = {p.name.split("-")[0] for p in FIXTURES.glob("*_request.json")}
    assert {"claude", "codex", "ai", "openai", "langchain"} <= prefixes


#: The last event of a whole stream, by the route's format.
_STREAM_END = {"messages": "message_stop", "responses": "response.completed"}


def _events(text: str) -> list[str]:
    """The `type` of each JSON data line of a stream (chat completions chunks have none)."""
    return [
        json.loads(line[6:]).get("type", "")
        for line in text.splitlines()
        if line.startswith("data: {")
    ]


@pytest.mark.parametrize("fixture", RECORDED)
def test_recorded_request_through_every_upstream(stack: ClientStack, upstream, fixture):
    status, text = replay(stack, fixture, routed(upstream))
    assert status == 200, text
    if not load_fixture(fixture)["body"].get("stream"):
        return
    route = load_fixture(fixture)["path"].split("?")[0].rsplit("/", 1)[-1]
    events = _events(text)
    assert "error" not in events, text[-2000:]
    if route in _STREAM_END:
        assert events[-1] == _STREAM_END[route], text[-2000:]
    else:
        assert text.rstrip().endswith("data: [DONE]"), text[-2000:]
