"""The Anthropic Messages wire converter, against recorded payloads and the official SDK."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import anthropic
import pytest
from anthropic.types import ErrorResponse, RawMessageStreamEvent
from anthropic.types import Message as SDKMessage
from anthropic.types.message_create_params import MessageCreateParamsStreaming
from pydantic import TypeAdapter

from cherry_nb._exceptions import (
    RateLimitError,
    UntranslatableError,
    UpstreamError,
    WireFormatError,
)
from cherry_nb.wire import anthropic as wire
from cherry_nb.wire.neutral import (
    ChatRequest,
    ChatResponse,
    Image,
    Message,
    Reasoning,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    StreamStart,
    Text,
    TextDelta,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    ToolChoice,
    ToolResult,
    Usage,
)
from cherry_nb.wire.sse import SSEEvent, SSEParser, encode_sse

try:  # the HTTP library the anthropic SDK is built on: httpx2 in recent SDKs, else httpx
    import httpx2 as sdk_httpx
except ImportError:  # pragma: no cover
    import httpx as sdk_httpx  # type: ignore[no-redef]

FIXTURES = Path(__file__).parent / "fixtures" / "anthropic"
STREAM_EVENT = TypeAdapter(RawMessageStreamEvent)
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
    "RU5ErkJggg=="
)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def recorded_sse(name: str) -> bytes:
    """A recorded stream fixture back as the bytes the API sent."""
    return b"".join(encode_sse(json.dumps(e["data"]), e["event"]) for e in load(name))


def frames(raw: bytes) -> list[SSEEvent]:
    parser = SSEParser()
    return parser.feed(raw) + parser.close()


def parse_stream(raw: bytes, chunk_size: int = 7) -> list[StreamEvent]:
    """Feed `raw` in awkward chunks through SSEParser and StreamParser, then close both."""
    sse, parser = SSEParser(), wire.StreamParser()
    events: list[StreamEvent] = []
    for start in range(0, len(raw), chunk_size):
        for event in sse.feed(raw[start : start + chunk_size]):
            events += parser.feed(event)
    for event in sse.close():
        events += parser.feed(event)
    return events + parser.close()


def write_stream(events: list[StreamEvent]) -> bytes:
    writer = wire.StreamWriter()
    return b"".join(writer.write(event) for event in events)


def thinking_block(thinking: str, signature: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": thinking, "signature": signature}


def minimal(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


# ---- requests ---------------------------------------------------------------------------


def test_claude_code_request_parses_to_neutral() -> None:
    body = load("claude_code_request.json")
    request = wire.parse_request(body)

    assert (request.model, request.max_tokens, request.stream) == (
        "claude-sonnet-4-5-20250929",
        32000,
        True,
    )
    assert request.temperature == 1.0 and request.top_p is None and request.top_k is None
    assert request.system == (
        "You are Claude Code, Anthropic's official CLI for Claude.\n\n" + body["system"][1]["text"]
    )
    assert [m.role for m in request.messages] == ["user", "assistant"] * 3 + ["user"]
    first, second, third, fourth, fifth, sixth, last = request.messages
    assert first.content[1:] == [
        Text("What does this screenshot show? Then list the files in src."),
        Image(media_type="image/png", data=PNG),
    ]
    assert second.content == [
        Reasoning(
            body["messages"][1]["content"][0]["thinking"],
            signature=body["messages"][1]["content"][0]["signature"],
            origin="anthropic",
        ),
        Text("The screenshot is a single white pixel. Let me list the files."),
        ToolCall(
            "toolu_01A09q90qw90lq917835lq9",
            "Bash",
            {"command": "ls src", "description": "List files in src"},
        ),
    ]
    assert third.content == [
        ToolResult("toolu_01A09q90qw90lq917835lq9", [Text("main.py\nutil.py")]),
        Text("Now read main.py and the missing config."),
    ]
    assert fourth.content == [  # redacted_thinking dropped
        ToolCall("toolu_01BfE5wQeDw4Y6pKXbGzR2tM", "Read", {"file_path": "/repo/src/main.py"}),
        ToolCall(
            "toolu_01C7hVu1MkYqJ3nLx8PwT4aZ",
            "Read",
            {"file_path": "/repo/config.toml", "limit": 50},
        ),
    ]
    assert fifth.content == [
        ToolResult("toolu_01BfE5wQeDw4Y6pKXbGzR2tM", [Text("     1\tprint('hello')\n")]),
        ToolResult(
            "toolu_01C7hVu1MkYqJ3nLx8PwT4aZ",
            [Text("<tool_use_error>File does not exist.</tool_use_error>")],
            is_error=True,
        ),
    ]
    # server_tool_use / web_search_tool_result are dropped (see DROPPED_PART_TYPES)
    assert sixth.content == [Text("main.py prints hello; config.toml does not exist.")]
    assert last.content == [Text("notes.txt\n\nnotes"), Text("Thanks. Add a docstring.")]
    # the web_search server tool has no input_schema and is skipped
    assert [t.name for t in request.tools] == ["Bash", "Read", "MultiEdit", "TodoWrite"]
    assert request.tools[3].parameters == body["tools"][3]["input_schema"]
    assert request.tools[0].description.startswith("Executes a given bash command")
    assert request.tool_choice == ToolChoice("auto")


def test_request_round_trip_keeps_signed_thinking_and_settings() -> None:
    request = wire.parse_request(load("claude_code_request.json"))
    assert request.dropped == ["context_management", "tools.4"]  # tools.4: a server tool
    assert request.thinking_budget == 31999
    assert request.user is not None and request.user.startswith("user_6c3a")
    built = wire.build_request(request)

    again = wire.parse_request(built)
    assert again.dropped == []
    again.dropped = request.dropped
    assert again == request
    assert isinstance(built["system"], str)
    assert built["thinking"] == {"type": "enabled", "budget_tokens": 31999}
    assert built["metadata"] == {"user_id": request.user}
    assert "context_management" not in built
    roles = [m["role"] for m in built["messages"]]
    assert all(a != b for a, b in zip(roles, roles[1:], strict=False))
    thinking = [b for m in built["messages"] for b in m["content"] if b["type"] == "thinking"]
    assert thinking and all(b["signature"] for b in thinking)
    # what the SDK would send type-checks against its own request schema
    TypeAdapter(MessageCreateParamsStreaming).validate_python(built)


def test_build_request_minimal_defaults() -> None:
    request = ChatRequest("claude-haiku-4-5", [Message("user", [Text("hi")])])
    assert wire.build_request(request) == {
        "model": "claude-haiku-4-5",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }


def test_build_request_all_fields() -> None:
    request = ChatRequest(
        model="claude-opus-4-6",
        messages=[Message("user", [Text("weather?")])],
        system="Be brief.",
        max_tokens=300,
        temperature=0.2,
        top_p=0.9,
        top_k=40,
        stop=["END"],
        tools=[
            Tool("get_weather", "Weather by city.", {"type": "object", "properties": {}}),
            Tool("noop"),
        ],
        tool_choice=ToolChoice("tool", "get_weather"),
        stream=True,
    )
    assert wire.build_request(request) == {
        "model": "claude-opus-4-6",
        "max_tokens": 300,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "weather?"}]}],
        "system": "Be brief.",
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 40,
        "stop_sequences": ["END"],
        "tools": [
            {
                "name": "get_weather",
                "description": "Weather by city.",
                "input_schema": {"type": "object", "properties": {}},
            },
            {"name": "noop", "input_schema": {"type": "object"}},
        ],
        "tool_choice": {"type": "tool", "name": "get_weather"},
        "stream": True,
    }


TOOL_CHOICES = [
    (ToolChoice("auto"), {"type": "auto"}),
    (ToolChoice("required"), {"type": "any"}),
    (ToolChoice("tool", "Read"), {"type": "tool", "name": "Read"}),
    (ToolChoice("none"), {"type": "none"}),
]


@pytest.mark.parametrize(("neutral", "anthropic_choice"), TOOL_CHOICES)
def test_tool_choice_both_ways(neutral: ToolChoice, anthropic_choice: dict[str, Any]) -> None:
    tools = [{"name": "Read", "input_schema": {"type": "object"}}]
    parsed = wire.parse_request(minimal(tools=tools, tool_choice=anthropic_choice))
    assert parsed.tool_choice == neutral
    assert wire.build_request(parsed)["tool_choice"] == anthropic_choice


def test_tool_choice_is_left_out_without_tools() -> None:
    request = ChatRequest("m", [Message("user", [Text("x")])], tool_choice=ToolChoice("none"))
    assert "tool_choice" not in wire.build_request(request)


def u(*parts: Any) -> Message:
    return Message("user", list(parts))


def a(*parts: Any) -> Message:
    return Message("assistant", list(parts))


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def result(call_id: str, value: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": call_id, "content": [text(value)]}


MERGES = [
    pytest.param(
        [u(Text("a")), u(Text("b"))],
        [{"role": "user", "content": [text("a"), text("b")]}],
        id="two-user-messages",
    ),
    pytest.param(
        [u(Text("q")), a(Text("let me look")), a(ToolCall("t1", "Read", {"p": 1}))],
        [
            {"role": "user", "content": [text("q")]},
            {
                "role": "assistant",
                "content": [
                    text("let me look"),
                    {"type": "tool_use", "id": "t1", "name": "Read", "input": {"p": 1}},
                ],
            },
        ],
        id="assistant-text-then-tool-call",
    ),
    pytest.param(
        [u(Text("see:"), ToolResult("t1", [Text("r1")]))],
        [{"role": "user", "content": [result("t1", "r1"), text("see:")]}],
        id="tool-result-moves-first",
    ),
    pytest.param(
        [u(ToolResult("t1", [Text("r1")])), u(Text("and"), ToolResult("t2", [Text("r2")]))],
        [{"role": "user", "content": [result("t1", "r1"), result("t2", "r2"), text("and")]}],
        id="results-from-two-messages-first",
    ),
    pytest.param(
        [u(Text("a")), a(Reasoning("hmm")), u(Text("b"))],
        [{"role": "user", "content": [text("a"), text("b")]}],
        id="unsigned-reasoning-only-message-vanishes-neighbours-merge",
    ),
    pytest.param(
        [u(Text("a")), a(Reasoning("hmm", "sig", "anthropic")), u(Text("b"))],
        [
            {"role": "user", "content": [text("a")]},
            {"role": "assistant", "content": [thinking_block("hmm", "sig")]},
            {"role": "user", "content": [text("b")]},
        ],
        id="signed-reasoning-kept-as-thinking",
    ),
    pytest.param(
        [a(Text("prefill")), u(Text("x")), u(Text(""))],
        [
            {"role": "assistant", "content": [text("prefill")]},
            {"role": "user", "content": [text("x")]},
        ],
        id="assistant-first-kept-empty-text-dropped",
    ),
    pytest.param(
        [u(ToolResult("t1", [], is_error=True))],
        [
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "is_error": True}],
            }
        ],
        id="empty-error-result",
    ),
]


@pytest.mark.parametrize(("messages", "expected"), MERGES)
def test_build_request_merges_roles_and_orders_tool_results(
    messages: list[Message], expected: list[dict[str, Any]]
) -> None:
    assert wire.build_request(ChatRequest("m", messages))["messages"] == expected


IMAGES = [
    pytest.param(
        Image(data=PNG),
        {"type": "base64", "media_type": "image/png", "data": PNG},
        id="sniffed-png",
    ),
    pytest.param(
        Image(data="/9j/4AAQSkZJRg=="),
        {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg=="},
        id="sniffed-jpeg",
    ),
    pytest.param(
        Image(media_type="image/gif", data="R0lGODlhAQABAAAAACw="),
        {"type": "base64", "media_type": "image/gif", "data": "R0lGODlhAQABAAAAACw="},
        id="given-type",
    ),
    pytest.param(
        Image(url="https://example.com/cat.jpg"),
        {"type": "url", "url": "https://example.com/cat.jpg"},
        id="url",
    ),
]


@pytest.mark.parametrize(("image", "source"), IMAGES)
def test_build_request_images(image: Image, source: dict[str, Any]) -> None:
    built = wire.build_request(ChatRequest("m", [u(image)]))
    assert built["messages"][0]["content"] == [{"type": "image", "source": source}]


USER = {"role": "user", "content": "hi"}
BAD_REQUESTS = [
    (minimal(model=...), "model"),
    (minimal(model=5), "model"),
    (minimal(max_tokens=...), "max_tokens"),
    (minimal(max_tokens=0), "max_tokens"),
    (minimal(max_tokens="10"), "max_tokens"),
    (minimal(max_tokens=True), "max_tokens"),
    (minimal(max_tokens=10.0), "max_tokens"),
    (minimal(messages=...), "messages"),
    (minimal(messages="hi"), "messages"),
    (minimal(messages=["hi"]), "messages.0"),
    (minimal(messages=[{"role": "tool", "content": "x"}]), "messages.0.role"),
    (minimal(messages=[{"role": "system", "content": 3}]), "messages.0.content"),
    (minimal(messages=[]), "messages"),
    (minimal(messages=[USER, {"role": "assistant", "content": 5}]), "messages.1.content"),
    (minimal(messages=[{"role": "user", "content": ["hi"]}]), "messages.0.content.0"),
    (
        minimal(messages=[USER, USER, {"role": "user", "content": [{"type": "text", "text": 5}]}]),
        "messages.2.content.0.text",
    ),
    (
        minimal(messages=[{"role": "user", "content": [{"type": "image"}]}]),
        "messages.0.content.0.source",
    ),
    (
        minimal(
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "image", "source": {"type": "base64"}}],
                }
            ]
        ),
        "messages.0.content.0.source.data",
    ),
    (
        minimal(
            messages=[
                USER,
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t", "name": "n", "input": "x"}],
                },
            ]
        ),
        "messages.1.content.0.input",
    ),
    (
        minimal(messages=[{"role": "assistant", "content": [{"type": "tool_use", "name": "n"}]}]),
        "messages.0.content.0.id",
    ),
    (
        minimal(messages=[{"role": "user", "content": [{"type": "tool_result", "content": "r"}]}]),
        "messages.0.content.0.tool_use_id",
    ),
    (
        minimal(
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "t", "content": 3}],
                }
            ]
        ),
        "messages.0.content.0.content",
    ),
    (
        minimal(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text"}]}
                    ],
                }
            ]
        ),
        "messages.0.content.0.content.0.text",
    ),
    (
        minimal(messages=[{"role": "assistant", "content": [{"type": "thinking"}]}]),
        "messages.0.content.0.thinking",
    ),
    (minimal(system=5), "system"),
    (minimal(system=[{"type": "text", "text": 1}]), "system.0.text"),
    (minimal(system=["just a string"]), "system.0"),
    (minimal(temperature="hot"), "temperature"),
    (minimal(temperature=True), "temperature"),
    (minimal(top_p=[1]), "top_p"),
    (minimal(top_k=1.5), "top_k"),
    (minimal(stop_sequences="END"), "stop_sequences"),
    (minimal(stop_sequences=[1]), "stop_sequences"),
    (minimal(stream="yes"), "stream"),
    (minimal(tools={}), "tools"),
    (minimal(tools=["Read"]), "tools.0"),
    (minimal(tools=[{"name": "x"}]), "tools.0.input_schema"),
    (minimal(tools=[{"name": "x", "input_schema": "{}"}]), "tools.0.input_schema"),
    (minimal(tools=[{"input_schema": {}}]), "tools.0.name"),
    (minimal(tools=[{"name": "x", "input_schema": {}, "description": 1}]), "tools.0.description"),
    (minimal(tool_choice="auto"), "tool_choice"),
    (minimal(tool_choice={"type": "sometimes"}), "tool_choice.type"),
    (minimal(tool_choice={"type": "tool"}), "tool_choice.name"),
]


@pytest.mark.parametrize(("body", "param"), BAD_REQUESTS)
def test_parse_request_names_the_bad_field(body: dict[str, Any], param: str) -> None:
    with pytest.raises(WireFormatError) as caught:
        wire.parse_request(body)
    assert caught.value.param == param
    assert param in str(caught.value)


def test_parse_request_rejects_a_non_object() -> None:
    with pytest.raises(WireFormatError):
        wire.parse_request([])  # type: ignore[arg-type]


def test_unknown_fields_and_server_tools_are_ignored() -> None:
    body = minimal(
        metadata={"user_id": "u"},
        thinking={"type": "enabled", "budget_tokens": 2048},
        service_tier="auto",
        container="cntr_1",
        mcp_servers=[{"type": "url", "url": "https://mcp.example.com", "name": "x"}],
        some_future_field={"nested": [1, 2]},
        tools=[
            {"type": "bash_20250124", "name": "bash"},
            {"type": "custom", "name": "Read", "input_schema": {"type": "object"}},
        ],
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
        messages=[
            {
                "role": "user",
                "content": [{"type": "text", "text": "hello", "citations": None}],
            }
        ],
    )
    request = wire.parse_request(body)
    assert request.messages == [Message("user", [Text("hello")])]
    assert request.tools == [Tool("Read", "", {"type": "object"})]
    assert request.tool_choice == ToolChoice("required")


EPHEMERAL = {"type": "ephemeral"}


def test_tool_reference_in_a_tool_result_names_the_loaded_tool() -> None:
    """Claude Code's ToolSearch answers with `tool_reference` blocks; Anthropic expands
    them into the deferred tools' definitions. Other formats get every tool in full, so
    the reference becomes text naming the tool, and the deferred tool stays a tool."""
    schema = {"type": "object"}
    body = minimal(
        tools=[
            {"name": "ToolSearch", "input_schema": schema},
            {"name": "Monitor", "input_schema": schema, "defer_loading": True},
        ],
        messages=[
            {"role": "user", "content": "watch it"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "ToolSearch", "input": {}}],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": [
                            {"type": "tool_reference", "tool_name": "Monitor"},
                            {"type": "tool_reference", "tool_name": "WebSearch"},
                        ],
                    },
                    {"type": "text", "text": "Tool loaded.", "cache_control": EPHEMERAL},
                ],
            },
        ],
    )
    request = wire.parse_request(body)
    assert request.messages[2].content == [
        ToolResult("t1", [Text("Tool loaded: Monitor"), Text("Tool loaded: WebSearch")]),
        Text("Tool loaded."),
    ]
    assert [t.name for t in request.tools] == ["ToolSearch", "Monitor"]
    assert request.dropped == []


@pytest.mark.parametrize(
    ("block", "param"),
    [
        ({"type": "tool_reference"}, "messages.0.content.0.content.0.tool_name"),
        ({"type": "tool_reference", "tool_name": 3}, "messages.0.content.0.content.0.tool_name"),
    ],
)
def test_tool_reference_needs_a_tool_name(block: dict[str, Any], param: str) -> None:
    result = {"type": "tool_result", "tool_use_id": "t1", "content": [block]}
    with pytest.raises(WireFormatError) as caught:
        wire.parse_request(minimal(messages=[{"role": "user", "content": [result]}]))
    assert caught.value.param == param


def test_tool_reference_outside_a_tool_result_cannot_be_translated() -> None:
    block = {"type": "tool_reference", "tool_name": "Monitor"}
    with pytest.raises(UntranslatableError) as caught:
        wire.parse_request(minimal(messages=[{"role": "user", "content": [block]}]))
    assert caught.value.param == "messages.0.content.0.type"


def test_nulls_count_as_absent_and_empty_text_as_nothing() -> None:
    request = wire.parse_request(
        minimal(system=None, temperature=None, tools=None, tool_choice=None, stream=None)
    )
    assert request == ChatRequest(
        "claude-sonnet-4-5", [Message("user", [Text("hi")])], max_tokens=10
    )
    empty = [{"role": "user", "content": ""}, {"role": "user", "content": [text("")]}]
    assert wire.parse_request(minimal(messages=empty)).messages == [u(), u()]


# ---- responses --------------------------------------------------------------------------


def test_parse_tool_use_response() -> None:
    response = wire.parse_response(load("tool_use_response.json"))
    assert response == ChatResponse(
        id="msg_01Aq9w938a90dw8q",
        model="claude-sonnet-4-5-20250929",
        content=[
            Text("I'll check the current weather in San Francisco for you."),
            ToolCall(
                "toolu_01A09q90qw90lq917835lq9",
                "get_weather",
                {"location": "San Francisco, CA", "unit": "celsius"},
            ),
        ],
        stop_reason="tool_use",
        usage=Usage(
            input_tokens=1408, output_tokens=79, cache_read_tokens=1024, cache_write_tokens=0
        ),
    )


def test_response_round_trip_validates_with_the_sdk() -> None:
    original = load("tool_use_response.json")
    built = wire.build_response(wire.parse_response(original))

    message = SDKMessage.model_validate(built)
    assert message.content[1].type == "tool_use"
    assert wire.parse_response(built) == wire.parse_response(original)
    assert list(built) == [
        "id",
        "type",
        "role",
        "model",
        "content",
        "stop_reason",
        "stop_sequence",
        "usage",
    ]
    assert built["usage"] == {
        "input_tokens": 384,
        "output_tokens": 79,
        "cache_read_input_tokens": 1024,
        "cache_creation_input_tokens": 0,
    }


def test_build_response_with_reasoning_and_no_stop_reason() -> None:
    response = ChatResponse(
        id="chatcmpl-123",
        model="deepseek-reasoner",
        content=[Reasoning("think"), Text("")],
        stop_reason=None,
    )
    built = wire.build_response(response)
    SDKMessage.model_validate(built)
    assert built["id"] == "chatcmpl-123"
    assert built["content"][0] == {"type": "thinking", "thinking": "think", "signature": ""}
    assert built["stop_reason"] is None
    assert built["usage"] == {"input_tokens": 0, "output_tokens": 0}


STOPS_FROM = [
    ("end_turn", "end_turn"),
    ("max_tokens", "max_tokens"),
    ("stop_sequence", "stop_sequence"),
    ("tool_use", "tool_use"),
    ("pause_turn", "end_turn"),
    ("refusal", "content_filter"),
    ("model_context_window_exceeded", "max_tokens"),
    (None, None),
]
STOPS_TO = [
    ("end_turn", "end_turn"),
    ("max_tokens", "max_tokens"),
    ("stop_sequence", "stop_sequence"),
    ("tool_use", "tool_use"),
    ("content_filter", "refusal"),
    ("error", "end_turn"),
    (None, None),
]


@pytest.mark.parametrize(("anthropic_stop", "neutral_stop"), STOPS_FROM)
def test_stop_reasons_from_anthropic(anthropic_stop: str | None, neutral_stop: str | None) -> None:
    body = {**load("tool_use_response.json"), "stop_reason": anthropic_stop}
    assert wire.parse_response(body).stop_reason == neutral_stop


@pytest.mark.parametrize(("neutral_stop", "anthropic_stop"), STOPS_TO)
def test_stop_reasons_to_anthropic(neutral_stop: Any, anthropic_stop: str | None) -> None:
    built = wire.build_response(ChatResponse("msg_1", "m", [Text("x")], stop_reason=neutral_stop))
    assert SDKMessage.model_validate(built).stop_reason == anthropic_stop


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"id": "x"}, "content"),
        ({"content": ["x"]}, "content.0"),
        (
            {"content": [{"type": "tool_use", "id": "t", "name": "n", "input": []}]},
            "content.0.input",
        ),
    ],
)
def test_parse_response_errors(body: dict[str, Any], param: str) -> None:
    with pytest.raises(WireFormatError) as caught:
        wire.parse_response(body)
    assert caught.value.param == param


# ---- streams: parsing -------------------------------------------------------------------

TEXT_TOOL_EVENTS: list[StreamEvent] = [
    StreamStart("msg_014p7gG3wDgGV9EUtLvnow3U", "claude-sonnet-4-5-20250929", 472),
    TextDelta("Okay"),
    TextDelta(", let's check the weather for San Francisco, CA:"),
    ToolCallStart(0, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather"),
    ToolCallDelta(0, '{"location":'),
    ToolCallDelta(0, ' "San'),
    ToolCallDelta(0, " Francisc"),
    ToolCallDelta(0, 'o, CA"'),
    ToolCallDelta(0, ', "unit": "fah'),
    ToolCallDelta(0, 'renheit"}'),
    StreamEnd("tool_use", Usage(472, 89, 0, 0)),
]
THINKING_EVENTS: list[StreamEvent] = [
    StreamStart("msg_01THINKING0000000000000", "claude-sonnet-4-5-20250929", 2084),
    ReasoningDelta(
        "I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\n\n"
        "1071 = 2 × 462 + 147"
    ),
    ReasoningDelta("\n462 = 3 × 147 + 21\n147 = 7 × 21 + 0"),
    ReasoningDelta("", "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...", "anthropic"),
    TextDelta("The greatest common divisor of 1071 and 462 is **21**."),
    StreamEnd("end_turn", Usage(2084, 118, 2048, 0)),
]


@pytest.mark.parametrize("chunk_size", [1, 7, 100_000])
@pytest.mark.parametrize(
    ("fixture", "expected"),
    [("stream_text_tool_use.json", TEXT_TOOL_EVENTS), ("stream_thinking.json", THINKING_EVENTS)],
)
def test_parse_recorded_streams(fixture: str, expected: list[StreamEvent], chunk_size: int) -> None:
    assert parse_stream(recorded_sse(fixture), chunk_size) == expected


def test_streamed_tool_arguments_concatenate_to_json() -> None:
    events = parse_stream(recorded_sse("stream_text_tool_use.json"))
    arguments = "".join(e.arguments for e in events if isinstance(e, ToolCallDelta))
    assert json.loads(arguments) == {"location": "San Francisco, CA", "unit": "fahrenheit"}


def stream_of(*data: dict[str, Any]) -> list[SSEEvent]:
    return [SSEEvent(json.dumps(d), d.get("type")) for d in data]


MESSAGE_START = {
    "type": "message_start",
    "message": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-6",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 1},
    },
}


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def block_delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def feed_all(events: list[SSEEvent]) -> tuple[wire.StreamParser, list[StreamEvent]]:
    parser = wire.StreamParser()
    return parser, [out for event in events for out in parser.feed(event)]


def test_tool_calls_are_numbered_by_ordinal_not_block_index() -> None:
    _, events = feed_all(
        stream_of(
            MESSAGE_START,
            block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
            block_start(1, {"type": "text", "text": ""}),
            block_start(2, {"type": "server_tool_use", "id": "srv_1", "name": "web_search"}),
            block_delta(2, {"type": "input_json_delta", "partial_json": '{"query":"x"}'}),
            block_start(3, {"type": "tool_use", "id": "toolu_a", "name": "Read", "input": {}}),
            block_start(4, {"type": "tool_use", "id": "toolu_b", "name": "Grep", "input": {}}),
            block_delta(4, {"type": "input_json_delta", "partial_json": '{"p":2}'}),
            block_delta(3, {"type": "input_json_delta", "partial_json": '{"p":1}'}),
            block_delta(1, {"type": "citations_delta", "citation": {}}),
        )
    )
    assert events == [
        StreamStart("msg_1", "claude-opus-4-6", 10),
        ToolCallStart(0, "toolu_a", "Read"),
        ToolCallStart(1, "toolu_b", "Grep"),
        ToolCallDelta(1, '{"p":2}'),
        ToolCallDelta(0, '{"p":1}'),
    ]


def test_tool_use_start_with_input_becomes_one_delta() -> None:
    block = {"type": "tool_use", "id": "toolu_x", "name": "Bash", "input": {"command": "ls"}}
    _, events = feed_all(stream_of(MESSAGE_START, block_start(0, block)))
    assert events[1:] == [ToolCallStart(0, "toolu_x", "Bash"), ToolCallDelta(0, '{"command":"ls"}')]


def test_message_delta_updates_usage_cumulatively() -> None:
    parser, events = feed_all(
        stream_of(
            MESSAGE_START,
            {
                "type": "message_delta",
                "delta": {"stop_reason": None},
                "usage": {"output_tokens": 5},
            },
            {
                "type": "message_delta",
                "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
                "usage": {"input_tokens": 25, "cache_read_input_tokens": 7, "output_tokens": 40},
            },
            {"type": "message_stop"},
        )
    )
    assert events[1:] == [StreamEnd("max_tokens", Usage(32, 40, 7))]
    assert parser.close() == []
    late = stream_of({"type": "message_stop"}, block_delta(0, {"type": "text_delta", "text": "x"}))
    assert [out for event in late for out in parser.feed(event)] == []


def test_close_without_message_stop_ends_once() -> None:
    parser, events = feed_all(
        stream_of(MESSAGE_START, block_delta(0, {"type": "text_delta", "text": "Hi"}))
    )
    assert events[1:] == [TextDelta("Hi")]
    assert parser.close() == [StreamEnd(None, Usage(10, 1, None))]
    assert parser.close() == []


def test_ping_and_unknown_events_are_ignored() -> None:
    _, events = feed_all(
        [
            SSEEvent('{"type": "ping"}', "ping"),
            SSEEvent("{}", "ping"),
            SSEEvent('{"type": "future_event", "x": 1}', "future_event"),
            SSEEvent('{"type": "content_block_stop", "index": 0}', "content_block_stop"),
        ]
    )
    assert events == []


ERRORS = [
    ("overloaded_error", "Overloaded", UpstreamError),
    ("api_error", "Internal server error", UpstreamError),
    ("rate_limit_error", "Rate limited", RateLimitError),
]


@pytest.mark.parametrize(("error_type", "message", "exception"), ERRORS)
def test_error_events_raise(error_type: str, message: str, exception: type[Exception]) -> None:
    data = {"type": "error", "error": {"type": error_type, "message": message}}
    with pytest.raises(exception) as caught:
        wire.StreamParser().feed(SSEEvent(json.dumps(data), "error"))
    assert caught.value.upstream_type == error_type  # type: ignore[attr-defined]
    assert caught.value.message == message  # type: ignore[attr-defined]
    if exception is UpstreamError:
        assert not isinstance(caught.value, RateLimitError)


def test_recorded_error_stream_raises_after_the_text() -> None:
    parser, seen = wire.StreamParser(), []
    with pytest.raises(UpstreamError, match="Overloaded") as caught:
        for event in frames(recorded_sse("stream_error.json")):
            seen += parser.feed(event)
    assert caught.value.upstream_type == "overloaded_error"
    assert seen[1:] == [TextDelta("Hel")]


@pytest.mark.parametrize("data", ["{not json", "[1, 2]", '"text"'])
def test_bad_event_data_is_a_wire_format_error(data: str) -> None:
    with pytest.raises(WireFormatError):
        wire.StreamParser().feed(SSEEvent(data, "content_block_delta"))


# ---- streams: writing -------------------------------------------------------------------

START = StreamStart("msg_01XYZ", "claude-sonnet-4-5", 21)
WRITER_SCENARIOS = [
    pytest.param(
        [START, TextDelta("Hel"), TextDelta("lo"), StreamEnd("end_turn", Usage(21, 2, None))],
        id="text",
    ),
    pytest.param(list(THINKING_EVENTS), id="thinking-then-text"),
    pytest.param(list(TEXT_TOOL_EVENTS), id="text-then-tool"),
    pytest.param(
        [
            START,
            TextDelta("Two tools."),
            ToolCallStart(0, "call_a", "Read"),
            ToolCallDelta(0, '{"path":'),
            ToolCallDelta(0, '"a.py"}'),
            ToolCallStart(1, "call_b", "Read"),
            ToolCallDelta(1, '{"path":"b.py"}'),
            ToolCallStart(2, "call_c", "Clock"),
            StreamEnd("tool_use", Usage(21, 30, 4)),
        ],
        id="ordered-tools-last-without-arguments",
    ),
    pytest.param(
        [START, ReasoningDelta("hm"), TextDelta("no"), StreamEnd("content_filter", Usage(21, 3))],
        id="refusal",
    ),
]


def check_frames(raw: bytes) -> list[dict[str, Any]]:
    """Every frame validates as an SDK stream event; blocks open, fill and close in order."""
    datas = []
    open_index, next_index = None, 0
    for frame in frames(raw):
        data = json.loads(frame.data)
        assert frame.event == data["type"]
        STREAM_EVENT.validate_python(data)
        if data["type"] == "content_block_start":
            assert open_index is None and data["index"] == next_index
            open_index, next_index = data["index"], next_index + 1
        elif data["type"] == "content_block_delta":
            assert data["index"] == open_index
        elif data["type"] == "content_block_stop":
            assert data["index"] == open_index
            open_index = None
        datas.append(data)
    assert open_index is None
    kinds = [d["type"] for d in datas]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    return datas


@pytest.mark.parametrize("events", WRITER_SCENARIOS)
def test_writer_output_is_valid_and_parses_back(events: list[StreamEvent]) -> None:
    raw = write_stream(events)
    check_frames(raw)
    assert parse_stream(raw) == events


def test_writer_text_then_tool_frames_exactly() -> None:
    raw = write_stream(
        [
            START,
            TextDelta("Hi"),
            ToolCallStart(0, "toolu_1", "Read"),
            ToolCallDelta(0, '{"a":1}'),
            StreamEnd("tool_use", Usage(21, 9)),
        ]
    )
    assert raw.decode().split("\n\n")[:-1] == [
        "event: message_start\n"
        'data: {"type":"message_start","message":{"id":"msg_01XYZ","type":"message",'
        '"role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,'
        '"stop_sequence":null,"usage":{"input_tokens":21,"output_tokens":0}}}',
        "event: content_block_start\n"
        'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
        "event: content_block_delta\n"
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}',
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}',
        "event: content_block_start\n"
        'data: {"type":"content_block_start","index":1,"content_block":'
        '{"type":"tool_use","id":"toolu_1","name":"Read","input":{}}}',
        "event: content_block_delta\n"
        'data: {"type":"content_block_delta","index":1,"delta":'
        '{"type":"input_json_delta","partial_json":"{\\"a\\":1}"}}',
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}',
        "event: message_delta\n"
        'data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},'
        '"usage":{"output_tokens":9,"input_tokens":21}}',
        'event: message_stop\ndata: {"type":"message_stop"}',
    ]


def test_writer_handles_all_starts_before_arguments() -> None:
    events = [
        START,
        ToolCallStart(0, "call_a", "Read"),
        ToolCallStart(1, "call_b", "Grep"),
        ToolCallDelta(0, '{"p":'),
        ToolCallDelta(0, "1}"),
        ToolCallDelta(1, '{"q":2}'),
        StreamEnd("tool_use", Usage(21, 5)),
    ]
    raw = write_stream(events)
    check_frames(raw)
    assert parse_stream(raw) == [
        START,
        ToolCallStart(0, "call_a", "Read"),
        ToolCallDelta(0, '{"p":'),
        ToolCallDelta(0, "1}"),
        ToolCallStart(1, "call_b", "Grep"),
        ToolCallDelta(1, '{"q":2}'),
        StreamEnd("tool_use", Usage(21, 5)),
    ]


def test_writer_keeps_tool_order_when_a_later_tool_streams_first() -> None:
    raw = write_stream(
        [
            START,
            ToolCallStart(0, "call_a", "Clock"),  # no arguments ever
            ToolCallStart(1, "call_b", "Grep"),
            ToolCallDelta(1, '{"q":2}'),
            StreamEnd("tool_use", Usage(21, 5)),
        ]
    )
    check_frames(raw)
    assert parse_stream(raw)[1:-1] == [
        ToolCallStart(0, "call_a", "Clock"),
        ToolCallStart(1, "call_b", "Grep"),
        ToolCallDelta(1, '{"q":2}'),
    ]


def test_writer_interleaved_arguments_go_to_the_tools_first_block() -> None:
    raw = write_stream(
        [
            START,
            ToolCallStart(0, "call_a", "Read"),
            ToolCallDelta(0, '{"p":'),
            ToolCallStart(1, "call_b", "Grep"),
            ToolCallDelta(1, '{"q":2}'),
            ToolCallDelta(0, "1}"),  # late: tool 0's block is already closed
            StreamEnd("tool_use"),
        ]
    )
    datas = [json.loads(f.data) for f in frames(raw)]
    late = [d for d in datas if d.get("delta", {}).get("partial_json") == "1}"]
    assert [d["index"] for d in late] == [0]
    deltas = [e for e in parse_stream(raw) if isinstance(e, ToolCallDelta)]
    assert "".join(d.arguments for d in deltas if d.index == 0) == '{"p":1}'


def test_writer_without_stream_start_and_after_end() -> None:
    writer = wire.StreamWriter()
    raw = writer.write(TextDelta("hi")) + writer.write(StreamEnd())
    assert writer.write(TextDelta("late")) == b""
    assert writer.write(StreamEnd()) == b""
    datas = check_frames(raw)
    assert datas[0]["message"]["id"].startswith("msg_")
    assert [e for e in parse_stream(raw) if isinstance(e, TextDelta)] == [TextDelta("hi")]


def test_writer_ignores_empty_deltas_and_duplicate_starts() -> None:
    raw = write_stream(
        [
            START,
            START,
            TextDelta(""),
            ReasoningDelta(""),
            ToolCallStart(0, "c", "f"),
            ToolCallStart(0, "c", "f"),
            ToolCallDelta(0, ""),
            ToolCallDelta(7, "{}"),  # never started: dropped
            StreamEnd("tool_use", Usage(21, 1)),
        ]
    )
    datas = check_frames(raw)
    assert [d["type"] for d in datas] == [
        "message_start",
        "content_block_start",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]


def test_writer_error_event() -> None:
    writer = wire.StreamWriter()
    head = writer.write(START) + writer.write(TextDelta("par"))
    raw = writer.error("Overloaded", "overloaded_error")
    assert raw == (
        b"event: error\n"
        b'data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )
    ErrorResponse.model_validate(json.loads(frames(raw)[0].data))
    assert writer.write(TextDelta("tial")) == b"" and writer.write(StreamEnd()) == b""
    with pytest.raises(UpstreamError, match="Overloaded"):
        parse_stream(head + raw)


def test_writer_error_after_end_writes_nothing() -> None:
    """An upstream reset or a gateway shutdown after message_stop adds no error event."""
    writer = wire.StreamWriter()
    assert frames(writer.write(START) + writer.write(StreamEnd("end_turn")))[-1].event == (
        "message_stop"
    )
    assert writer.error("late") == b""
    assert writer.error("again") == b""


def test_recorded_streams_survive_parse_write_parse() -> None:
    for name in ("stream_text_tool_use.json", "stream_thinking.json"):
        events = parse_stream(recorded_sse(name))
        assert parse_stream(write_stream(events)) == events


def test_the_official_sdk_accumulates_the_written_stream() -> None:
    """The anthropic SDK's own stream helper reads what the writer produces."""
    body = write_stream(list(TEXT_TOOL_EVENTS))

    def handler(request: Any) -> Any:
        assert request.url.path == "/v1/messages"
        assert json.loads(request.content)["stream"] is True
        headers = {"content-type": "text/event-stream"}
        return sdk_httpx.Response(200, content=body, headers=headers)

    with sdk_httpx.Client(transport=sdk_httpx.MockTransport(handler)) as http:
        client = anthropic.Anthropic(api_key="test", base_url="http://gateway", http_client=http)
        with client.messages.stream(
            model="any-gateway-model",  # a real name may trigger the SDK's deprecation warning
            max_tokens=100,
            messages=[{"role": "user", "content": "weather?"}],
        ) as stream:
            message = stream.get_final_message()
    assert message.id == "msg_014p7gG3wDgGV9EUtLvnow3U"
    assert message.content[0].type == "text"
    assert message.content[0].text == "Okay, let's check the weather for San Francisco, CA:"
    assert message.content[1].type == "tool_use"
    assert message.content[1].input == {"location": "San Francisco, CA", "unit": "fahrenheit"}
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (472, 89)


# ---- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (422, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (502, "api_error"),
        (529, "overloaded_error"),
    ],
)
def test_build_error_types_from_status(status: int, error_type: str) -> None:
    body = wire.build_error("Something failed.", status=status)
    assert body == {"type": "error", "error": {"type": error_type, "message": "Something failed."}}


def test_build_error_explicit_type_validates() -> None:
    body = wire.build_error("slow down", status=500, error_type="rate_limit_error")
    assert ErrorResponse.model_validate(body).error.type == "rate_limit_error"


NGINX = (
    b"<html>\r\n<head><title>502 Bad Gateway</title><style>h1{color:red}</style></head>\r\n"
    b"<body>\r\n<center><h1>502 Bad   Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"<script>var x = '<b>';</script></body>\r\n</html>\r\n"
)
PARSE_ERRORS = [
    (
        429,
        b'{"type":"error","error":{"type":"rate_limit_error","message":"Too many tokens."},'
        b'"request_id":"req_011CU"}',
        ("Too many tokens.", "rate_limit_error"),
    ),
    (
        400,
        '{"error":{"message":"Invalid model","type":"invalid_request_error","code":null}}',
        ("Invalid model", "invalid_request_error"),
    ),
    (502, NGINX, ("502 Bad Gateway 502 Bad Gateway nginx", None)),
    (503, "upstream connect error\n or disconnect", ("upstream connect error or disconnect", None)),
    (400, '{"message": "Bad thing"}', ("Bad thing", None)),
    (400, '{"error": "nope"}', ("nope", None)),
    (500, b"", ("HTTP 500", None)),
    (500, b"<html><body></body></html>", ("HTTP 500", None)),
    (400, "<p>Fish &amp; chips</p>", ("Fish & chips", None)),
    (500, b"\xff\xfe broken", ("\ufffd\ufffd broken", None)),
]


@pytest.mark.parametrize(("status", "body", "expected"), PARSE_ERRORS)
def test_parse_error(status: int, body: bytes | str, expected: tuple[str, str | None]) -> None:
    assert wire.parse_error(status, body) == expected


def test_parse_error_truncates_long_pages() -> None:
    message, error_type = wire.parse_error(500, "<div>" + "word " * 200 + "</div>")
    assert len(message) == 200 and error_type is None and "<" not in message


# ---- token counting ---------------------------------------------------------------------


def test_count_tokens_estimate() -> None:
    request = ChatRequest(
        model="m",
        system="s" * 8,
        messages=[
            u(Text("a" * 10), Image(data=PNG)),
            a(ToolCall("t", "f", {"a": 1}), Reasoning("not counted")),
            u(ToolResult("t", [Text("b" * 6), Image(url="https://x/y.png")])),
        ],
        tools=[Tool("n", "dd", {"type": "object"})],
    )
    # chars: 8 + 10 + (1 + 7) + 6 + (1 + 2 + 17) = 52 -> 13; 3 messages x 4; 2 images x 1600
    assert wire.count_tokens(request) == 13 + 12 + 3200


def test_count_tokens_grows_with_the_request() -> None:
    request = wire.parse_request(load("claude_code_request.json"))
    estimate = wire.count_tokens(request)
    assert estimate == wire.count_tokens(wire.parse_request(load("claude_code_request.json")))
    request.messages.append(u(Text("x" * 400)))
    assert wire.count_tokens(request) == estimate + 100 + wire.MESSAGE_OVERHEAD_TOKENS


# ---- robustness -------------------------------------------------------------------------

JUNK = [None, 0, -1, 1.5, True, "", "x", [], [[]], {}, {"type": ["x"]}]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value, the value itself included."""
    out = [prefix]
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, inner in items:
        out += paths(inner, (*prefix, key))
    return out


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copied = copy.copy(value)
    copied[path[0]] = replaced(value[path[0]], path[1:], new)
    return copied


def test_any_junk_in_a_request_is_a_wire_format_error_or_ignored() -> None:
    body = load("claude_code_request.json")
    for path in paths(body):
        for junk in JUNK:
            try:
                request = wire.parse_request(replaced(body, path, junk))
            except WireFormatError:
                continue
            json.dumps(wire.build_request(request))
            wire.count_tokens(request)


def test_any_junk_in_a_response_or_stream_is_a_wire_format_error_or_ignored() -> None:
    body = load("tool_use_response.json")
    for path in paths(body):
        for junk in JUNK:
            try:
                wire.parse_response(replaced(body, path, junk))
            except WireFormatError:
                pass
    events = load("stream_text_tool_use.json")
    for i, event in enumerate(events):
        for path in paths(event["data"]):
            for junk in JUNK:
                parser = wire.StreamParser()
                mutated = replaced(event["data"], path, junk)
                out: list[StreamEvent] = []
                try:
                    for other in [*events[:i], {"event": event["event"], "data": mutated}]:
                        out += parser.feed(SSEEvent(json.dumps(other["data"]), other["event"]))
                    out += parser.close()
                except (WireFormatError, UpstreamError):
                    pass
                for emitted in out:  # whatever comes out is well typed
                    for name in ("text", "arguments", "id", "name", "model"):
                        assert isinstance(getattr(emitted, name, ""), str)
