"""Claude Code 2.1.197's recorded requests (fixtures/claude_code/) through the Anthropic
reader: accepted whole, system-role entries joined to the system prompt in order, the
fields not carried named in `dropped`, and built for every other format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cherry_nb.wire import anthropic as wire_anthropic
from cherry_nb.wire import gemini as wire_gemini
from cherry_nb.wire import openai as wire_openai

FIXTURES = Path(__file__).parent / "fixtures" / "claude_code"
MESSAGES = sorted(p.name for p in FIXTURES.glob("*_messages_*.json"))
COUNTS = sorted(p.name for p in FIXTURES.glob("*_count_tokens_*.json"))


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def test_the_version_is_in_every_name() -> None:
    assert MESSAGES and COUNTS
    assert all(name.startswith("v2.1.197_") for name in MESSAGES + COUNTS)


@pytest.mark.parametrize("name", MESSAGES)
def test_messages_requests_parse_whole(name: str) -> None:
    body = load(name)
    request = wire_anthropic.parse_request(body)

    top = "\n\n".join(block["text"] for block in body["system"])
    inline = [m["content"] for m in body["messages"] if m["role"] == "system"]
    assert inline and request.system == "\n\n".join([top, *inline])
    assert all(m.role in ("user", "assistant") for m in request.messages)
    assert len(request.messages) == len(body["messages"]) - len(inline)
    assert [t.name for t in request.tools] == [t["name"] for t in body["tools"]]
    assert request.max_tokens == body["max_tokens"] and request.stream is True
    # metadata (the user id), thinking and output_config (effort) are mapped; only
    # context_management has no equivalent in another format
    assert request.dropped == ["context_management"]
    assert request.user == body["metadata"]["user_id"]
    assert request.thinking_budget is not None or request.reasoning_effort is not None


@pytest.mark.parametrize("name", MESSAGES)
def test_messages_requests_build_for_every_format(name: str) -> None:
    request = wire_anthropic.parse_request(load(name))
    openai = wire_openai.build_request(request)
    assert openai["messages"][0] == {"role": "system", "content": request.system}
    assert [m["role"] for m in openai["messages"][1:]].count("system") == 0
    gemini = wire_gemini.build_request(request)
    assert gemini["systemInstruction"]["parts"] == [{"text": request.system}]
    assert len(gemini["tools"][0]["functionDeclarations"]) == len(request.tools)


@pytest.mark.parametrize("name", COUNTS)
def test_count_tokens_requests_parse(name: str) -> None:
    body = load(name)
    request = wire_anthropic.parse_request({**body, "max_tokens": 1})
    assert wire_anthropic.count_tokens(request) > 0
