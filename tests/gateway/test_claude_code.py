"""Claude Code's recorded requests (2.1.197, tests/wire/fixtures/claude_code/) through the
gateway to every upstream type: streamed, a valid Anthropic stream back, and the
system-role text in each upstream format's own place."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from anthropic.types import RawMessageStreamEvent
from pydantic import TypeAdapter

from cherry_nb.wire.sse import SSEParser

from .conftest import GATEWAY_KEY, TYPES, Stack

FIXTURES = Path(__file__).parent.parent / "wire" / "fixtures" / "claude_code"
HEADERS = {
    "x-api-key": GATEWAY_KEY,
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "claude-code-20250219,context-management-2025-06-27,effort-2025-11-24",
}
MESSAGES = ["v2.1.197_messages_say_hi.json", "v2.1.197_messages_tool_result.json"]
COUNTS = ["v2.1.197_count_tokens_tools.json", "v2.1.197_count_tokens_small.json"]
EVENTS = TypeAdapter(RawMessageStreamEvent)


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def system_role_texts(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "system"]


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        yield client


def test_the_fixture_holds_what_claude_code_sends_today() -> None:
    body = load(MESSAGES[0])
    assert system_role_texts(body) and body["stream"] is True
    assert body["thinking"] == {"type": "adaptive"} and "effort" in body["output_config"]
    assert "context_management" in body and len(body["tools"]) >= 20
    assert any("cache_control" in block for block in body["system"])


@pytest.mark.parametrize("name", MESSAGES)
@pytest.mark.parametrize("provider_type", TYPES)
def test_claude_code_streams_through_every_upstream_type(
    stack: Stack, http: httpx.Client, provider_type: str, name: str
) -> None:
    body = load(name)
    body["model"] = f"{stack.provider_id(provider_type)}:sim-chat"
    sent = len(stack.upstream.requests)
    with http.stream("POST", "/v1/messages", json=body, headers=HEADERS) as response:
        assert response.status_code == 200, response.read().decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        parser = SSEParser()
        events = [e for chunk in response.iter_bytes() for e in parser.feed(chunk)]
    data = [json.loads(e.data) for e in events if e.data and e.event != "ping"]
    types = [EVENTS.validate_python(d).type for d in data]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    assert "content_block_delta" in types and "error" not in types

    upstream = stack.upstream.requests[-1].json
    assert len(stack.upstream.requests) == sent + 1
    instructions = system_role_texts(load(name))
    top_system = "".join(block["text"] for block in load(name)["system"])
    if provider_type == "anthropic":  # passthrough: untouched but for the model
        assert upstream == {**load(name), "model": "sim-chat"}
    elif provider_type == "gemini":
        text = "".join(p["text"] for p in upstream["systemInstruction"]["parts"])
        assert all(t in text for t in instructions) and text.index(top_system[-40:]) < text.index(
            instructions[0]
        )
        assert all(c["role"] in ("user", "model") for c in upstream["contents"])
    elif provider_type == "openai-response":  # the Responses API's `instructions`
        text = upstream["instructions"]
        assert all(t in text for t in instructions)
        assert text.index(top_system[-40:]) < text.index(instructions[0])
        assert all(item.get("role") not in ("system", "developer") for item in upstream["input"])
        assert len(upstream["tools"]) == len(load(name)["tools"])
    else:  # openai, azure-openai: one system message first, in order
        first, *rest = upstream["messages"]
        assert first["role"] == "system" and all(t in first["content"] for t in instructions)
        assert first["content"].index(top_system[-40:]) < first["content"].index(instructions[0])
        assert all(m["role"] != "system" for m in rest)
        assert len(upstream["tools"]) == len(load(name)["tools"])


@pytest.mark.parametrize("name", COUNTS)
@pytest.mark.parametrize("provider_type", TYPES)
def test_claude_code_count_tokens_is_accepted(
    stack: Stack, http: httpx.Client, provider_type: str, name: str
) -> None:
    body = load(name)
    body["model"] = f"{stack.provider_id(provider_type)}:sim-chat"
    response = http.post("/v1/messages/count_tokens", json=body, headers=HEADERS)
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["input_tokens"], int)
