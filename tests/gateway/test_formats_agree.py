"""The OpenAPI document's models and the one validator (each format's parse_request)
agree: every body of the corpus is accepted by both or refused by both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cherry_nb._exceptions import WireFormatError
from cherry_nb.gateway import schemas
from cherry_nb.wire.formats import ANTHROPIC, OPENAI, WireFormat

FIXTURES = Path(__file__).parent.parent / "wire" / "fixtures"


def load(path: str) -> dict[str, Any]:
    return json.loads((FIXTURES / path).read_text())


AUDIO = {"data": "UklGRg==", "format": "wav"}


def chat(**patch: Any) -> dict[str, Any]:
    return {"model": "p:m", "messages": [{"role": "user", "content": "hi"}], **patch}


def messages(**patch: Any) -> dict[str, Any]:
    body = {"model": "p:m", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    return {**body, **patch}


def user(*blocks: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": list(blocks)}]


CHAT_VALID = [
    chat(),
    load("openai/request_full.json"),
    load("sdk/openai_3.63.0_chat_new_params.json"),
    load("sdk/openai_3.63.0_chat_prediction_stream.json"),
    load("sdk/openai_3.63.0_chat_audio.json"),
    chat(brand_new_param={"x": 1}),
    chat(
        messages=[{"role": "developer", "content": "be brief"}, {"role": "user", "content": "hi"}]
    ),
    chat(messages=[{"role": "user", "content": [{"type": "input_audio", "input_audio": AUDIO}]}]),
    chat(tools=[{"type": "custom", "custom": {"name": "x"}}]),
    chat(temperature=2, top_p=0, n=1, seed=-3, logprobs=True, top_logprobs=20),
]
CHAT_INVALID = [
    {},
    chat(model=5),
    chat(model=""),
    chat(messages=[]),
    chat(messages={}),
    chat(messages=[1]),
    chat(messages=[{"role": 7, "content": "x"}]),
    chat(messages=[{"role": "user", "content": 5}]),
    chat(messages=[{"role": "user", "content": [{"type": {}}]}]),
    chat(messages=[{"role": "tool", "content": "x"}]),  # no tool_call_id
    chat(stream="true"),
    chat(max_tokens="10"),
    chat(max_tokens=0),
    chat(max_tokens=True),
    chat(temperature="hot"),
    chat(temperature=2.5),
    chat(top_p=1.5),
    chat(tools={}),
    chat(tools=[{"type": {}}]),
    chat(tool_choice=5),
    chat(stop=5),
    chat(stream_options=[]),
    chat(metadata="x"),
    chat(store="yes"),
    chat(n=0),
    chat(seed=1.5),
    chat(presence_penalty=3),
    # found by schemathesis against the document, after the validator became the reader
    chat(modalities=[1]),
    chat(response_format={}),
    chat(response_format={"type": "json_schema", "json_schema": {"strict": True}}),
    chat(logit_bias={"50256": "x"}),
    chat(messages=[{"role": {}, "content": "x"}]),
    chat(tool_choice={"type": None, "function": {"name": "f"}}),
    chat(stream_options={"include_usage": "yes"}),
]
MESSAGES_VALID = [
    messages(),
    load("anthropic/claude_code_request.json"),
    load("claude_code/v2.1.197_messages_say_hi.json"),
    load("claude_code/v2.1.197_messages_tool_result.json"),
    load("sdk/anthropic_2.17.0_messages_system_role_adaptive.json"),
    load("sdk/anthropic_2.17.0_messages_thinking_enabled_cache_control.json"),
    load("sdk/anthropic_2.17.0_messages_output_format.json"),
    load("sdk/anthropic_2.17.0_messages_server_tool.json"),
    messages(brand_new_param=[1]),
    messages(messages=[{"role": "user", "content": "a"}, {"role": "system", "content": "b"}]),
    messages(messages=user({"type": "future_block", "data": 1})),
    messages(messages=user({"type": "image", "source": {"type": "file", "file_id": "f"}})),
    messages(thinking={"type": "adaptive"}, output_config={"effort": "max"}),
    messages(thinking={"type": "disabled"}, context_management={"edits": []}),
    messages(mcp_servers=[], container="c", service_tier="auto", cache_control={}),
    messages(temperature=1, top_p=0, top_k=0),
    messages(tool_choice={"type": "some_future_choice"}),
    messages(cache_control={"type": "ephemeral", "ttl": "1h"}, metadata={"user_id": None}),
    messages(thinking={"type": "enabled", "budget_tokens": 1024}),
    messages(messages=user({"type": "search_result", "source": "s", "title": "t", "content": []})),
]
MESSAGES_INVALID = [
    {},
    messages(model=5),
    messages(max_tokens="10"),
    messages(max_tokens=0),
    messages(messages=[]),
    messages(messages=[{"role": "robot", "content": "x"}]),
    messages(messages=[{"role": "user", "content": 5}]),
    messages(messages=user({"type": 5})),
    messages(system=5),
    messages(system=[{"type": {}}]),
    messages(tools=[{"type": {}, "name": "t"}]),
    messages(tools=[{"name": "t", "input_schema": "x"}]),
    messages(tool_choice="auto"),
    messages(metadata="x"),
    messages(thinking=5),
    messages(output_config="high"),
    messages(stream=1),
    messages(temperature=1.5),
    messages(top_k=-1),
    messages(tool_choice={"type": 5}),
    messages(tool_choice={"type": "tool"}),  # no name
    messages(stream="yes"),
    messages(cache_control={"type": "ephemeral", "ttl": 5}),
    messages(cache_control={"type": None}),
    messages(messages=user({"type": "text", "text": "x", "cache_control": {"ttl": 5}})),
    messages(tools=[{"type": "web_search_20250305", "name": 5}]),
    messages(tools=[{"name": "t", "input_schema": {}, "cache_control": []}]),
    messages(thinking={}),
    messages(thinking={"type": "enabled", "budget_tokens": 0}),
    messages(metadata={"user_id": 5}),
]


def _pydantic_accepts(validate: Any, body: dict[str, Any]) -> bool:
    try:
        validate(body)
    except ValidationError:
        return False
    return True


def _validator_accepts(wire: WireFormat, body: dict[str, Any]) -> bool:
    try:
        wire.check_request(body)
    except WireFormatError:
        return False
    return True


ROUTES = {
    "chat": (OPENAI, schemas.validate_chat),
    "messages": (ANTHROPIC, schemas.validate_messages),
}
CORPUS = (
    [("chat", b, True) for b in CHAT_VALID]
    + [("chat", b, False) for b in CHAT_INVALID]
    + [("messages", b, True) for b in MESSAGES_VALID]
    + [("messages", b, False) for b in MESSAGES_INVALID]
)


@pytest.mark.parametrize(("route", "body", "valid"), CORPUS)
def test_document_and_validator_agree(route: str, body: dict[str, Any], valid: bool) -> None:
    wire, validate = ROUTES[route]
    assert _validator_accepts(wire, body) is valid, json.dumps(body)[:300]
    assert _pydantic_accepts(validate, body) is valid, json.dumps(body)[:300]


@pytest.mark.parametrize(
    "name", ["v2.1.197_count_tokens_tools.json", "v2.1.197_count_tokens_small.json"]
)
def test_claude_code_count_tokens_bodies_validate_in_both(name: str) -> None:
    body = load(f"claude_code/{name}")
    assert _pydantic_accepts(schemas.validate_count_tokens, body)
    assert _validator_accepts(ANTHROPIC, {**body, "max_tokens": 1})
