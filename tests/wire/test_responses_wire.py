"""wire.responses: requests the official SDK sends (fixtures captured from
`client.responses.create/parse`), replies and streams validated against the SDK's own
pydantic types and fed through its stream accumulator, errors, and round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai import omit
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import BaseModel, TypeAdapter

from cherry_nb._exceptions import UpstreamError, WireFormatError
from cherry_nb.wire import responses as wire
from cherry_nb.wire.neutral import (
    ChatRequest,
    ChatResponse,
    Document,
    Image,
    Message,
    Reasoning,
    ReasoningDelta,
    ResponseFormat,
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
from cherry_nb.wire.sse import SSEEvent, SSEParser

FIXTURES = Path(__file__).parent / "fixtures" / "responses"
EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"


class Weather(BaseModel):
    city: str
    days: int


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def sse(events: list[dict[str, Any]]) -> list[SSEEvent]:
    return [SSEEvent(json.dumps(e), e["type"]) for e in events]


def parse_stream(events: list[SSEEvent]) -> list[StreamEvent]:
    parser = wire.StreamParser()
    out = [n for e in events for n in parser.feed(e)]
    return out + parser.close()


def written(events: list[StreamEvent], error: str | None = None) -> list[SSEEvent]:
    writer = wire.StreamWriter()
    raw = b"".join(writer.write(e) for e in events)
    if error is not None:
        raw += writer.error(error)
    return SSEParser().feed(raw)


def validated(events: list[SSEEvent]) -> list[Any]:
    """Every event through the SDK's types; sequence numbers count from 0, no gaps."""
    typed = [EVENTS.validate_json(e.data) for e in events]
    assert [e.type for e in typed] == [e.event for e in events]
    assert [e.sequence_number for e in typed] == list(range(len(typed)))
    return typed


# ---- requests --------------------------------------------------------------------


def test_string_input_from_the_sdk() -> None:
    request = wire.parse_request(load("request_string_input.json"))
    assert request == ChatRequest(
        model="gpt-5", messages=[Message("user", [Text("Hello there")])], system="Be brief."
    )


def test_full_request_from_the_sdk() -> None:
    request = wire.parse_request(load("request_full.json"))
    assert request.system == "You are terse.\n\nPrefer metric units."
    user, assistant, results, said, thanks = request.messages
    assert user.role == "user"
    assert user.content[0] == Text("What is in these, and what is the weather in Paris?")
    assert isinstance(user.content[1], Image) and user.content[1].media_type == "image/png"
    assert isinstance(user.content[2], Document) and user.content[2].title == "notes.pdf"
    assert assistant.content == [
        Reasoning("Need the weather tool.", "gAAAAenc", "responses"),
        ToolCall("call_1", "get_weather", {"city": "Paris"}),
    ]
    assert results.content == [ToolResult("call_1", [Text("18C, sunny")], name="get_weather")]
    assert said == Message("assistant", [Text("It is sunny.")])
    assert thanks == Message("user", [Text("Thanks!")])
    assert request.tools == [
        Tool(
            "get_weather",
            "Weather for a city",
            {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            },
        )
    ]
    assert request.tool_choice == ToolChoice("tool", "get_weather")
    assert request.reasoning_effort == "low"
    assert (request.max_tokens, request.temperature, request.top_p) == (500, 0.2, 0.9)
    assert request.parallel_tool_calls is False
    assert request.user == "user-42"
    assert request.stream is True
    assert request.dropped == ["metadata", "include", "reasoning.summary"]


def test_codex_request_keeps_its_function_tools_and_names_the_rest() -> None:
    """Codex (`codex exec`, a custom Responses provider) always sends a namespace
    group and web_search besides its function tools: both are left out, and named."""
    body = load("request_codex.json")
    request = wire.parse_request(body)
    assert [t.name for t in request.tools] == [
        t["name"] for t in body["tools"] if t["type"] == "function"
    ]
    assert request.dropped == [
        "include",
        "prompt_cache_key",
        "client_metadata",
        "reasoning.summary",
        "tools[4] (namespace)",
        "tools[8] (web_search)",
    ]
    assert request.system is not None
    assert request.system.startswith("You are a coding agent running in the Codex CLI")
    assert "<permissions" in request.system  # its developer messages join the instructions
    assert [m.role for m in request.messages] == ["user", "user"]
    assert request.stream is True


def test_forcing_a_hosted_tool_is_refused() -> None:
    with pytest.raises(WireFormatError) as caught:
        wire.parse_request(
            {
                "model": "m",
                "input": "x",
                "tools": [{"type": "web_search"}],
                "tool_choice": {"type": "web_search"},
            }
        )
    assert caught.value.param == "tool_choice"


def test_parse_request_carries_text_format() -> None:
    request = wire.parse_request(load("request_parse.json"))
    assert request.response_format == ResponseFormat(
        "json_schema",
        load("request_parse.json")["text"]["format"]["schema"],
        name="Weather",
        strict=True,
    )


def test_previous_response_id_is_refused_saying_why() -> None:
    with pytest.raises(WireFormatError) as caught:
        wire.parse_request(load("request_previous_response.json"))
    assert caught.value.param == "previous_response_id"
    assert "keeps no state" in str(caught.value)
    assert "whole conversation" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "param", "words"),
    [
        ({"tools": [{"type": "custom", "name": "patch"}]}, "tools[0].type", "only `function`"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0].type", "stores nothing"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
            "input[0].content[0].file_id",
            "only OpenAI",
        ),
        ({"input": [{"type": "web_search_call"}]}, "input[0].type", "cannot be translated"),
        ({"background": True}, "background", "stores nothing"),
        ({"conversation": "conv_1"}, "conversation", "keeps no state"),
        ({"reasoning": {"effort": "maximal"}}, "reasoning.effort", "Unknown reasoning.effort"),
        ({"text": {"format": {"type": "xml"}}}, "text.format.type", "Unknown text.format"),
        ({"tool_choice": {"type": "allowed_tools"}}, "tool_choice", "cannot be translated"),
        ({"input": []}, "input", "non-empty"),
        ({"max_output_tokens": "9"}, "max_output_tokens", "a positive integer"),
        ({"input": [{"role": "tool", "content": "x"}]}, "input[0].role", "Unknown message role"),
    ],
)
def test_what_cannot_be_carried_is_refused(change: dict[str, Any], param: str, words: str) -> None:
    with pytest.raises(WireFormatError) as caught:
        wire.parse_request({"model": "m", "input": "hi", **change})
    assert caught.value.param == param
    assert words in str(caught.value)


def test_built_request_round_trips() -> None:
    request = wire.parse_request(load("request_full.json"))
    body = wire.build_request(request)
    assert body["store"] is False
    assert body["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert body["input"][1] == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    }
    again = wire.parse_request(body)
    # Reasoning is dropped when building (its signature belongs to its upstream).
    request.messages[1].content = request.messages[1].content[1:]
    request.dropped = []
    assert again == request


def test_built_request_carries_structured_output_and_effort() -> None:
    request = ChatRequest(
        model="m",
        messages=[Message("user", [Text("hi"), Image("image/png", PNG)])],
        response_format=ResponseFormat("json_schema", {"type": "object"}, name="x"),
        reasoning_effort="high",
        stop=["END"],
        seed=7,
    )
    body = wire.build_request(request)
    assert body["text"] == {
        "format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}
    }
    assert body["reasoning"] == {"effort": "high"}
    assert body["input"][0]["content"][1] == {
        "type": "input_image",
        "image_url": f"data:image/png;base64,{PNG}",
        "detail": "auto",
    }
    assert "stop" not in body and "seed" not in body


def test_n_above_one_is_refused() -> None:
    with pytest.raises(WireFormatError, match="one reply per request") as caught:
        wire.build_request(ChatRequest(model="m", messages=[], n=2))
    assert caught.value.param == "n"


# ---- replies ---------------------------------------------------------------------


def test_parse_response_fixture() -> None:
    reply = wire.parse_response(load("response_reasoning_text_tool_call.json"))
    assert reply.content == [
        Reasoning(
            "**Checking the weather**\n\nI should call the tool.", "gAAAAABo-enc", "responses"
        ),
        Text("Let me check."),
        ToolCall("call_Xy12", "get_weather", {"city": "Paris"}),
    ]
    assert reply.stop_reason == "tool_use"
    assert reply.usage == Usage(1320, 96, cache_read_tokens=1152, reasoning_tokens=64)


def test_parse_incomplete_and_failed() -> None:
    assert wire.parse_response(load("response_incomplete.json")).stop_reason == "max_tokens"
    failed = load("response_incomplete.json")
    failed["status"] = "failed"
    failed["error"] = {"code": "server_error", "message": "The model broke."}
    with pytest.raises(UpstreamError, match="The model broke.") as caught:
        wire.parse_response(failed)
    assert caught.value.upstream_type == "server_error"


@pytest.mark.parametrize(
    "reply",
    [
        ChatResponse("chatcmpl-1", "m", [Text("hello")], "end_turn", Usage(3, 2)),
        ChatResponse(
            "msg_1",
            "m",
            [
                Reasoning("think", "sig", "responses"),
                Text("x"),
                ToolCall("call_1", "f", {"a": [1]}),
            ],
            "tool_use",
            Usage(10, 5, cache_read_tokens=4, cache_write_tokens=2, reasoning_tokens=3),
        ),
        ChatResponse("resp_1", "m", [Text("cut")], "max_tokens", Usage(1, 1)),
        ChatResponse("r", "m", [Text("no")], "content_filter", Usage(1, 1)),
        ChatResponse("r", "m", [Text("half")], "error", Usage(1, 1)),
    ],
)
def test_built_response_is_the_sdks_and_round_trips(reply: ChatResponse) -> None:
    body = wire.build_response(reply)
    typed = Response.model_validate(body)
    assert typed.id.startswith("resp_")
    assert typed.output_text == reply.text
    if reply.stop_reason == "error":  # a failed response is raised when read back
        assert typed.status == "failed" and typed.error is not None
        with pytest.raises(UpstreamError, match="upstream reported an error"):
            wire.parse_response(body)
        return
    back = wire.parse_response(body)
    assert back.content == reply.content
    assert back.stop_reason == reply.stop_reason
    assert back.usage.input_tokens == reply.usage.input_tokens
    assert back.usage.cache_read_tokens == (reply.usage.cache_read_tokens or 0)
    if reply.stop_reason == "max_tokens":
        assert typed.status == "incomplete"
        assert typed.incomplete_details is not None
        assert typed.incomplete_details.reason == "max_output_tokens"


# ---- streams ---------------------------------------------------------------------


def test_stream_parser_fixture() -> None:
    events = parse_stream(sse(load("stream_reasoning_text_tool_call.json")))
    assert events[0] == StreamStart("resp_68af", "gpt-5-2025-08-07")
    assert events[1:4] == [
        ReasoningDelta("**Checking the weather**\n\n"),
        ReasoningDelta("I should "),
        ReasoningDelta("call the tool."),
    ]
    # the finished reasoning item's encrypted_content: OpenAI's signature
    assert events[4] == ReasoningDelta("", "gAAAAABo-enc", "responses")
    assert events[5:8] == [TextDelta("Let"), TextDelta(" me"), TextDelta(" check.")]
    assert events[8] == ToolCallStart(0, "call_Xy12", "get_weather")
    assert "".join(e.arguments for e in events if isinstance(e, ToolCallDelta)) == (
        '{"city":"Paris"}'
    )
    assert events[-1] == StreamEnd(
        "tool_use", Usage(1320, 96, cache_read_tokens=1152, reasoning_tokens=64)
    )


def test_stream_parser_takes_arguments_sent_only_when_done() -> None:
    item = {"id": "fc_1", "type": "function_call", "call_id": "c", "name": "f", "arguments": ""}
    done = {**item, "arguments": '{"x":1}'}
    events = parse_stream(
        sse(
            [
                {"type": "response.output_item.added", "output_index": 0, "item": item},
                {"type": "response.output_item.done", "output_index": 0, "item": done},
                {"type": "response.completed", "response": {"status": "completed"}},
            ]
        )
    )
    assert events[1:3] == [ToolCallStart(0, "c", "f"), ToolCallDelta(0, '{"x":1}')]
    assert events[-1].stop_reason == "tool_use"  # type: ignore[union-attr]


def test_stream_parser_separates_summary_parts_as_replies_do() -> None:
    where = {"item_id": "rs_1", "output_index": 0}
    events = parse_stream(
        sse(
            [
                {"type": "response.reasoning_summary_part.added", **where, "summary_index": 0},
                {"type": "response.reasoning_summary_text.delta", **where, "delta": "one"},
                {"type": "response.reasoning_summary_part.added", **where, "summary_index": 1},
                {"type": "response.reasoning_summary_text.delta", **where, "delta": "two"},
            ]
        )
    )
    text = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    item = {"type": "reasoning", "summary": [{"text": "one"}, {"text": "two"}]}
    assert text == wire.parse_response({"output": [item]}).content[0].text  # type: ignore[union-attr]


def test_stream_parser_raises_failures_and_reports_cuts() -> None:
    with pytest.raises(UpstreamError, match="overloaded"):
        parse_stream(
            sse([{"type": "error", "code": "server_error", "message": "overloaded", "param": None}])
        )
    failed = {"status": "failed", "error": {"code": "server_error", "message": "boom"}}
    with pytest.raises(UpstreamError, match="boom"):
        parse_stream(sse([{"type": "response.failed", "response": failed}]))
    cut = parse_stream(sse([{"type": "response.output_text.delta", "delta": "par"}]))
    assert cut == [StreamStart("", ""), TextDelta("par"), StreamEnd(None, None)]
    with pytest.raises(WireFormatError, match="Invalid JSON"):
        parse_stream([SSEEvent("{nope", "response.created")])


NEUTRAL_STREAMS: dict[str, list[StreamEvent]] = {
    "text": [
        StreamStart("r1", "m"),
        TextDelta("Hel"),
        TextDelta("lo"),
        StreamEnd("end_turn", Usage(3, 2)),
    ],
    "reasoning_text_tools": [
        StreamStart("r2", "m"),
        ReasoningDelta("think "),
        ReasoningDelta("hard"),
        TextDelta("Calling."),
        ToolCallStart(0, "call_a", "f"),
        ToolCallStart(1, "call_b", "g"),
        ToolCallDelta(0, '{"a":'),
        ToolCallDelta(1, "{}"),
        ToolCallDelta(0, "1}"),
        StreamEnd("tool_use", Usage(9, 4, cache_read_tokens=5, reasoning_tokens=2)),
    ],
    "max_tokens": [StreamStart("r3", "m"), TextDelta("cut"), StreamEnd("max_tokens", Usage(1, 1))],
    "empty": [StreamStart("r4", "m"), StreamEnd("end_turn", None)],
}


@pytest.mark.parametrize("name", sorted(NEUTRAL_STREAMS))
def test_stream_writer_speaks_the_sdks_events(name: str) -> None:
    neutral = NEUTRAL_STREAMS[name]
    events = written(neutral)
    typed = validated(events)
    assert [e.type for e in typed[:2]] == ["response.created", "response.in_progress"]
    state: ResponseStreamState[Any] = ResponseStreamState(input_tools=omit, text_format=omit)
    for event in typed:
        handled = state.handle_event(event)
    final = handled[-1].response
    end = neutral[-1]
    assert isinstance(end, StreamEnd)
    expected_kind = (
        "response.incomplete" if end.stop_reason == "max_tokens" else "response.completed"
    )
    assert typed[-1].type == expected_kind
    text = "".join(e.text for e in neutral if isinstance(e, TextDelta))
    assert final.output_text == text
    back = parse_stream(events)
    assert back[1:-1] == neutral[1:-1]
    assert isinstance(back[-1], StreamEnd) and back[-1].stop_reason == end.stop_reason
    assert back[-1].usage is not None
    assert back[-1].usage.output_tokens == (end.usage.output_tokens if end.usage else 0)


def test_stream_writer_item_order_for_tools() -> None:
    kinds = [
        (e.type, getattr(e, "output_index", None))
        for e in validated(written(NEUTRAL_STREAMS["reasoning_text_tools"]))
    ]
    assert kinds[2:8] == [
        ("response.output_item.added", 0),
        ("response.reasoning_summary_part.added", 0),
        ("response.reasoning_summary_text.delta", 0),
        ("response.reasoning_summary_text.delta", 0),
        ("response.reasoning_summary_text.done", 0),
        ("response.reasoning_summary_part.done", 0),
    ]
    assert ("response.function_call_arguments.done", 2) in kinds
    assert kinds.index(("response.function_call_arguments.done", 2)) < kinds.index(
        ("response.function_call_arguments.done", 3)
    )


def test_stream_writer_parse_with_text_format() -> None:
    neutral = [
        StreamStart("r", "m"),
        TextDelta('{"city":"Oslo",'),
        TextDelta('"days":2}'),
        StreamEnd(),
    ]
    state: ResponseStreamState[Weather] = ResponseStreamState(input_tools=omit, text_format=Weather)
    for event in validated(written(neutral)):
        handled = state.handle_event(event)
    assert handled[-1].response.output_parsed == Weather(city="Oslo", days=2)


def test_stream_writer_error_then_failed() -> None:
    typed = validated(written([StreamStart("r", "m"), TextDelta("x")], error="upstream died"))
    assert [e.type for e in typed[-2:]] == ["error", "response.failed"]
    assert typed[-2].message == "upstream died"
    assert typed[-1].response.status == "failed"
    assert typed[-1].response.error.message == "upstream died"
    alone = validated(SSEParser().feed(wire.StreamWriter().error("no upstream")))
    assert [e.type for e in alone] == ["error"]


def test_errors_use_the_openai_envelope() -> None:
    assert wire.build_error("bad", status=400, param="input") == {
        "error": {"message": "bad", "type": "invalid_request_error", "param": "input", "code": None}
    }
    body = b'{"error":{"message":"Previous response not found.","type":"invalid_request_error"}}'
    assert wire.parse_error(404, body) == ("Previous response not found.", "invalid_request_error")


def test_stream_ending_in_error_is_a_failed_response() -> None:
    typed = validated(written([StreamStart("r", "m"), TextDelta("x"), StreamEnd("error")]))
    assert typed[-1].type == "response.failed"
    assert typed[-1].response.error is not None
    with pytest.raises(UpstreamError, match="upstream reported an error"):
        parse_stream(written([StreamStart("r", "m"), StreamEnd("error")]))
