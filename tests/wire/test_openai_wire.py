"""OpenAI Chat Completions converter: recorded payloads, round trips, SDK validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from cherry_nb._exceptions import UpstreamError, WireFormatError
from cherry_nb.wire import openai as wire
from cherry_nb.wire.neutral import (
    ChatRequest,
    ChatResponse,
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
from cherry_nb.wire.openai import _requests as wire_requests
from cherry_nb.wire.sse import SSEEvent, SSEParser

FIXTURES = Path(__file__).parent / "fixtures" / "openai"
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
    "rkJggg=="
)
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "The city and country, e.g. Paris, France"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["location"],
    "additionalProperties": False,
}


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def sse_bytes(events: list[Any]) -> bytes:
    """A fixture's chunks as the bytes a server would send."""
    out = []
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
        out.append(f"data: {data}\n\n".encode())
    return b"".join(out)


def parse_stream(raw: bytes, *, step: int = 7, close: bool = True) -> list[StreamEvent]:
    """Bytes -> neutral events, fed in small slices to cross every boundary."""
    sse, parser = SSEParser(), wire.StreamParser()
    events: list[StreamEvent] = []
    for i in range(0, len(raw), step):
        for sse_event in sse.feed(raw[i : i + step]):
            events.extend(parser.feed(sse_event))
    for sse_event in sse.close():
        events.extend(parser.feed(sse_event))
    if close:
        events.extend(parser.close())
    return events


def sse_data(raw: bytes) -> list[str]:
    sse = SSEParser()
    return [e.data for e in sse.feed(raw) + sse.close()]


# ---- parse_request -----------------------------------------------------------------


def test_parse_request_full_fixture() -> None:
    request = wire.parse_request(load("request_full.json"))

    assert request == ChatRequest(
        model="gpt-4o-2024-08-06",
        system="You are a helpful weather assistant.\n\nAnswer in metric units.",
        messages=[
            Message(
                "user",
                [
                    Text("What's the weather in Paris and Tokyo? Also, what is in this picture?"),
                    Image(media_type="image/png", data=PIXEL),
                    Image(
                        url="https://upload.wikimedia.org/wikipedia/commons/a/a7/Eiffel_Tower.jpg"
                    ),
                ],
            ),
            Message(
                "assistant",
                [
                    ToolCall(
                        "call_8qty38mNqGHfRbA1cWJvu9Cq",
                        "get_weather",
                        {"location": "Paris, France", "unit": "celsius"},
                    ),
                    ToolCall(
                        "call_2xOfWmAbcnC4rY8hYPs1PzmB",
                        "get_weather",
                        {"location": "Tokyo, Japan", "unit": "celsius"},
                    ),
                ],
            ),
            Message(
                "user",
                [
                    ToolResult(
                        "call_8qty38mNqGHfRbA1cWJvu9Cq",
                        [Text('{"temperature":18,"condition":"cloudy"}')],
                        name="get_weather",
                    ),
                    ToolResult(
                        "call_2xOfWmAbcnC4rY8hYPs1PzmB",
                        [Text('{"temperature":24,'), Text('"condition":"sunny"}')],
                        name="get_weather",
                    ),
                ],
            ),
            Message(
                "assistant",
                [
                    Text(
                        "Paris is 18 °C and cloudy; Tokyo is 24 °C and sunny. "
                        "The picture is a single pixel."
                    )
                ],
            ),
            Message("user", [Text("Thanks! And Berlin?")]),
        ],
        max_tokens=1024,
        temperature=0.2,
        top_p=0.9,
        stop=["\n\nUser:"],
        tools=[Tool("get_weather", "Get the current weather in a given location", WEATHER_SCHEMA)],
        tool_choice=ToolChoice("auto"),
        stream=True,
        response_format=ResponseFormat("text"),
        seed=42,
        user="user-1234",
        parallel_tool_calls=True,
        dropped=request.dropped,
    )
    # fields the reader does not carry are named, never refused
    assert set(request.dropped) <= set(load("request_full.json"))
    assert not set(request.dropped) & wire_requests.READ_FIELDS


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"max_tokens": 50}, {"max_tokens": 50}),
        ({"max_tokens": 50, "max_completion_tokens": 70}, {"max_tokens": 70}),
        ({"stop": "END"}, {"stop": ["END"]}),
        ({"stop": None}, {"stop": None}),
        ({"tool_choice": "none"}, {"tool_choice": ToolChoice("none")}),
        ({"tool_choice": "required"}, {"tool_choice": ToolChoice("required")}),
        (
            {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
            {"tool_choice": ToolChoice("tool", "get_weather")},
        ),
        ({"top_k": 40}, {"top_k": 40}),
        ({"stream": False, "n": 1, "logit_bias": {"50256": -100}}, {"stream": False}),
    ],
)
def test_parse_request_parameters(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **fields}
    request = wire.parse_request(body)
    for name, value in expected.items():
        assert getattr(request, name) == value


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("", {}),
        ("   ", {}),
        ("null", {}),
        ('{"a": [1, 2]}', {"a": [1, 2]}),
        ({"a": 1}, {"a": 1}),  # an object, as Ollama sends
        (None, {}),
    ],
)
def test_parse_request_tool_call_arguments(arguments: Any, expected: dict[str, Any]) -> None:
    body = {
        "model": "m",
        "messages": [
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": arguments},
                    }
                ],
            }
        ],
    }
    (message,) = wire.parse_request(body).messages
    assert message.content == [ToolCall("c1", "f", expected)]


def test_parse_request_legacy_function_call_and_result() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "2+2?"},
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "add", "arguments": '{"a":2,"b":2}'},
            },
            {"role": "function", "name": "add", "content": "4"},
        ],
    }
    _, assistant, result = wire.parse_request(body).messages
    call = assistant.content[0]
    assert isinstance(call, ToolCall)
    assert (call.name, call.arguments) == ("add", {"a": 2, "b": 2})
    assert result == Message("user", [ToolResult(call.id, [Text("4")], name="add")])


def test_parse_request_user_text_joins_the_tool_results_turn() -> None:
    body = {
        "model": "m",
        "messages": [
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "a", "content": "one"},
            {"role": "user", "content": "next"},
            {
                "role": "tool",
                "tool_call_id": "b",
                "content": [
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}}
                ],
            },
        ],
    }
    messages = wire.parse_request(body).messages
    assert messages[1:] == [
        # user text right after tool results joins their turn, as Anthropic expects
        Message("user", [ToolResult("a", [Text("one")], name="f"), Text("next")]),
        Message("user", [ToolResult("b", [Image("image/png", PIXEL)])]),
    ]


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    body.update(overrides)
    return body


def _msgs(*messages: Any) -> dict[str, Any]:
    return _body(messages=list(messages))


def _call(arguments: Any = "{}", **extra: Any) -> dict[str, Any]:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": arguments}}
    call.update(extra)
    return call


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ([], None),
        ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
        (_body(model=""), "model"),
        (_body(model=7), "model"),
        (_body(messages=None), "messages"),
        (_body(messages=[]), "messages"),
        (_body(messages="hi"), "messages"),
        (_msgs("hi"), "messages.0"),
        (_msgs({"role": "wizard", "content": "hi"}), "messages.0.role"),
        (_msgs({"content": "hi"}), "messages.0.role"),
        (_msgs({"role": "user", "content": 5}), "messages.0.content"),
        (_msgs({"role": "user", "content": ["hi"]}), "messages.0.content.0"),
        (_msgs({"role": "user", "content": [{"type": "text"}]}), "messages.0.content.0.text"),
        (
            _msgs({"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}),
            "messages.0.content.0.type",
        ),
        (
            _msgs({"role": "user", "content": [{"type": "image_url", "image_url": {}}]}),
            "messages.0.content.0.image_url.url",
        ),
        (
            _msgs(
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "data:image/png,abc"}}],
                }
            ),
            "messages.0.content.0.image_url.url",
        ),
        (
            _msgs(
                {"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}
            ),
            "messages.0.content.0.type",
        ),
        (_msgs({"role": "tool", "content": "42"}), "messages.0.tool_call_id"),
        (_msgs({"role": "tool", "tool_call_id": 3, "content": "42"}), "messages.0.tool_call_id"),
        (_msgs({"role": "function", "content": "42"}), "messages.0.name"),
        (
            _msgs({"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": {}}),
            "messages.1.tool_calls",
        ),
        (_msgs({"role": "assistant", "tool_calls": ["x"]}), "messages.0.tool_calls.0"),
        (
            _msgs({"role": "assistant", "tool_calls": [_call(id=None)]}),
            "messages.0.tool_calls.0.id",
        ),
        (
            _msgs({"role": "assistant", "tool_calls": [_call(function=None)]}),
            "messages.0.tool_calls.0.function",
        ),
        (
            _msgs({"role": "assistant", "tool_calls": [_call(function={"arguments": "{}"})]}),
            "messages.0.tool_calls.0.function.name",
        ),
        (
            _msgs({"role": "assistant", "tool_calls": [_call('{"a": ')]}),
            "messages.0.tool_calls.0.function.arguments",
        ),
        (
            _msgs({"role": "assistant", "tool_calls": [_call("[1, 2]")]}),
            "messages.0.tool_calls.0.function.arguments",
        ),
        (
            _msgs({"role": "assistant", "tool_calls": [_call(12)]}),
            "messages.0.tool_calls.0.function.arguments",
        ),
        (
            _msgs({"role": "assistant", "function_call": {"name": "f", "arguments": "{"}}),
            "messages.0.function_call.arguments",
        ),
        (_body(max_tokens="100"), "max_tokens"),
        (_body(max_completion_tokens=True), "max_completion_tokens"),
        (_body(temperature="hot"), "temperature"),
        (_body(temperature=False), "temperature"),
        (_body(top_p=[1]), "top_p"),
        (_body(stream="yes"), "stream"),
        (_body(stop=5), "stop"),
        (_body(stop=["a", 5]), "stop.1"),
        (_body(tools={}), "tools"),
        (_body(tools=[{"type": "function"}]), "tools.0.function"),
        (_body(tools=[{"type": "function", "function": {}}]), "tools.0.function.name"),
        (
            _body(tools=[{"type": "function", "function": {"name": "f", "parameters": "x"}}]),
            "tools.0.function.parameters",
        ),
        (_body(tools=[{"type": "custom", "custom": {"name": "f"}}]), "tools.0.type"),
        (_body(tool_choice="always"), "tool_choice"),
        (_body(tool_choice={"type": "function"}), "tool_choice.function"),
        (_body(tool_choice={"type": "function", "function": {}}), "tool_choice.function.name"),
    ],
)
def test_parse_request_errors_name_the_param(body: Any, param: str | None) -> None:
    with pytest.raises(WireFormatError) as caught:
        wire.parse_request(body)
    assert caught.value.param == param
    assert caught.value.message


# ---- build_request -------------------------------------------------------------------


def round_trip_request() -> ChatRequest:
    return ChatRequest(
        model="gpt-4o",
        system="Be brief.",
        messages=[
            Message(
                "user",
                [Text("Look:"), Image("image/jpeg", "/9j/4AAQ"), Image(url="https://x/y.png")],
            ),
            Message(
                "assistant",
                [Text("Checking."), ToolCall("call_1", "get_weather", {"city": "Paris"})],
            ),
            Message("user", [ToolResult("call_1", [Text("18C")], name="get_weather")]),
            Message("assistant", [ToolCall("call_2", "get_time", {})]),
            Message("user", [ToolResult("call_2", [Text("noon")], name="get_time"), Text("And?")]),
            Message("assistant", [Text("It is noon and 18C.")]),
            Message("user", [Text("Thanks"), Text("Bye")]),
        ],
        max_tokens=256,
        temperature=0.0,
        top_p=1.0,
        stop=["END", "STOP"],
        tools=[Tool("get_weather", "Weather", WEATHER_SCHEMA), Tool("get_time")],
        tool_choice=ToolChoice("tool", "get_weather"),
        stream=True,
    )


def test_request_round_trip_preserves_content() -> None:
    request = round_trip_request()
    assert wire.parse_request(build := wire.build_request(request)) == request
    # and the body is valid JSON for the wire
    assert json.loads(json.dumps(build)) == build


def test_request_fixture_round_trip() -> None:
    request = wire.parse_request(load("request_full.json"))
    again = wire.parse_request(wire.build_request(request))
    # A tool message's text parts are joined into one string on the way out.
    result = request.messages[2].content[1]
    assert isinstance(result, ToolResult)
    result.content = [Text('{"temperature":24,\n"condition":"sunny"}')]
    request.dropped = []  # named once, in the client's request; the built body has none
    assert again == request


def test_build_request_shape() -> None:
    body = wire.build_request(round_trip_request())

    assert body["messages"][:4] == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look:"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
    ]
    assert body["messages"][4]["content"] is None  # only tool calls: content null
    assert body["messages"][5:7] == [
        {"role": "tool", "tool_call_id": "call_2", "content": "noon"},
        {"role": "user", "content": "And?"},
    ]
    assert body["tools"][1] == {
        "type": "function",
        "function": {"name": "get_time", "parameters": {"type": "object"}},
    }
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["max_tokens"] == 256 and "max_completion_tokens" not in body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_build_request_tool_result_images_follow_the_tool_messages() -> None:
    request = ChatRequest(
        model="m",
        messages=[
            Message("assistant", [ToolCall("a", "shot", {}), ToolCall("b", "shot", {})]),
            Message(
                "user",
                [
                    ToolResult("a", [Text("took it"), Image(data=PIXEL), Text("ok")]),
                    ToolResult("b", [Image(url="https://x/b.png")], is_error=True),
                    Text("What do you see?"),
                ],
            ),
        ],
    )
    assert wire.build_request(request)["messages"][1:] == [
        {"role": "tool", "tool_call_id": "a", "content": "took it\nok"},
        {"role": "tool", "tool_call_id": "b", "content": ""},
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
                {"type": "image_url", "image_url": {"url": "https://x/b.png"}},
                {"type": "text", "text": "What do you see?"},
            ],
        },
    ]


def test_build_request_drops_reasoning_top_k_and_none_fields() -> None:
    request = ChatRequest(
        model="m",
        messages=[
            Message("user", [Text("hi")]),
            Message("assistant", [Reasoning("hmm", signature="sig"), Text("hello")]),
        ],
        top_k=5,
    )
    assert wire.build_request(request) == {
        "model": "m",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
        ],
    }


# ---- parse_response / build_response ---------------------------------------------------


def test_parse_response_fixture() -> None:
    response = wire.parse_response(load("response_tool_calls.json"))
    assert response == ChatResponse(
        id="chatcmpl-AbC1234567890xyzDEFghiJKLmnop",
        model="gpt-4o-2024-08-06",
        content=[
            ToolCall(
                "call_8qty38mNqGHfRbA1cWJvu9Cq",
                "get_weather",
                {"location": "Paris, France", "unit": "celsius"},
            ),
            ToolCall("call_2xOfWmAbcnC4rY8hYPs1PzmB", "get_time", {}),
        ],
        stop_reason="tool_use",
        usage=Usage(
            input_tokens=1282, output_tokens=57, cache_read_tokens=1024, reasoning_tokens=0
        ),
    )


def test_parse_response_reasoning_content_and_text() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "deepseek-reasoner",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "9.8",
                    "reasoning_content": "Compare decimals.",
                },
                "finish_reason": "length",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "prompt_cache_hit_tokens": 8},
    }
    response = wire.parse_response(body)
    assert response.content == [Reasoning("Compare decimals."), Text("9.8")]
    assert response.stop_reason == "max_tokens"
    assert response.usage == Usage(10, 20, 8)
    assert response.text == "9.8"


@pytest.mark.parametrize(
    ("finish_reason", "has_tool_calls", "expected"),
    [
        ("stop", False, "end_turn"),
        ("length", False, "max_tokens"),
        ("tool_calls", True, "tool_use"),
        ("function_call", True, "tool_use"),
        ("content_filter", False, "content_filter"),
        ("stop", True, "tool_use"),  # Ollama/vLLM say `stop` after tool calls
        (None, False, "end_turn"),
        ("eos", False, "end_turn"),
    ],
)
def test_parse_response_finish_reasons(
    finish_reason: Any, has_tool_calls: bool, expected: str
) -> None:
    message: dict[str, Any] = {"role": "assistant", "content": "x"}
    if has_tool_calls:
        message["tool_calls"] = [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ]
    body = {
        "id": "i",
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
    }
    assert wire.parse_response(body).stop_reason == expected


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"id": "x"}, "choices"),
        ({"choices": []}, "choices"),
        ({"choices": [{"index": 0}]}, "choices[0].message"),
        (
            {
                "choices": [
                    {
                        "message": {
                            "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{"}}]
                        }
                    }
                ]
            },
            "choices[0].message.tool_calls.0.function.arguments",
        ),
        ({"choices": [{"message": {"content": 3}}]}, "choices[0].message.content"),
    ],
)
def test_parse_response_errors_name_the_param(body: Any, param: str) -> None:
    with pytest.raises(WireFormatError) as caught:
        wire.parse_response(body)
    assert caught.value.param == param


def test_parse_response_error_body_raises_upstream_error() -> None:
    body = {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit"}}
    with pytest.raises(UpstreamError) as caught:
        wire.parse_response(body)
    assert (caught.value.message, caught.value.upstream_type) == ("Rate limit reached", "requests")


def test_parse_request_drops_empty_text_parts() -> None:
    body = _msgs(
        {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "x"}]}
    )
    assert wire.parse_request(body).messages == [Message("user", [Text("x")])]


RESPONSES = [
    ChatResponse("chatcmpl-1", "gpt-4o", [Text("Hello!")], "end_turn", Usage(5, 2)),
    ChatResponse(
        "msg_01XFDUDYJgAACzvnptvVoYEL",
        "claude-sonnet-4-5",
        [
            ToolCall("toolu_01", "get_weather", {"city": "Paris", "days": [1, 2]}),
            ToolCall("toolu_02", "noop", {}),
        ],
        "tool_use",
        Usage(100, 30, cache_read_tokens=64),
    ),
    ChatResponse(
        "chatcmpl-2",
        "deepseek-reasoner",
        [Reasoning("Think."), Text("Answer: "), ToolCall("c", "f", {"x": "é"})],
        "tool_use",
        Usage(1, 1),
    ),
    ChatResponse("chatcmpl-3", "m", [Text("cut")], "max_tokens", Usage(1, 4096)),
    ChatResponse("chatcmpl-4", "m", [], "content_filter", Usage(3, 0)),
]


@pytest.mark.parametrize("response", RESPONSES)
def test_build_response_validates_with_the_sdk_and_round_trips(response: ChatResponse) -> None:
    body = wire.build_response(response)
    completion = ChatCompletion.model_validate(body)

    assert completion.object == "chat.completion"
    assert completion.id == response.id and completion.model == response.model
    choice = completion.choices[0]
    calls = [p for p in response.content if isinstance(p, ToolCall)]
    assert [
        (c.id, c.function.name, json.loads(c.function.arguments))
        for c in choice.message.tool_calls or []
    ] == [(c.id, c.name, c.arguments) for c in calls]
    if calls and not response.text:
        assert choice.message.content is None
    else:
        assert choice.message.content == response.text
    assert completion.usage is not None
    assert (
        completion.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    )
    assert wire.parse_response(json.loads(json.dumps(body))) == response


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("content_filter", "content_filter"),
        ("error", "stop"),
        (None, "stop"),
    ],
)
def test_build_response_finish_reason(stop_reason: Any, finish_reason: str) -> None:
    body = wire.build_response(ChatResponse("i", "m", [Text("x")], stop_reason))
    assert body["choices"][0]["finish_reason"] == finish_reason
    ChatCompletion.model_validate(body)


def test_build_response_exact_shape() -> None:
    body = wire.build_response(RESPONSES[1])
    assert isinstance(body.pop("created"), int)
    assert body == {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "object": "chat.completion",
        "model": "claude-sonnet-4-5",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": None,
                    "annotations": [],
                    "tool_calls": [
                        {
                            "id": "toolu_01",
                            "type": "function",
                            "function": {
                                "name": "get_weather",
                                "arguments": '{"city":"Paris","days":[1,2]}',
                            },
                        },
                        {
                            "id": "toolu_02",
                            "type": "function",
                            "function": {"name": "noop", "arguments": "{}"},
                        },
                    ],
                },
                "logprobs": None,
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {
            "prompt_tokens": 100,
            "completion_tokens": 30,
            "total_tokens": 130,
            "prompt_tokens_details": {"cached_tokens": 64},
        },
    }


# ---- StreamParser ----------------------------------------------------------------------

STREAM_CASES = {
    "stream_text_usage.json": [
        StreamStart("chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "gpt-4o-mini-2024-07-18"),
        TextDelta("Hello"),
        TextDelta("!"),
        TextDelta(" How"),
        TextDelta(" can I"),
        TextDelta(" help you today?"),
        StreamEnd("end_turn", Usage(19, 10, 0, reasoning_tokens=0)),
    ],
    "stream_parallel_tool_calls.json": [
        StreamStart("chatcmpl-AQ7g1y3jZbX4iF2EwPq0pKz3mN8vL", "gpt-4o-2024-08-06"),
        ToolCallStart(0, "call_8qty38mNqGHfRbA1cWJvu9Cq", "get_weather"),
        ToolCallDelta(0, '{"lo'),
        ToolCallStart(1, "call_2xOfWmAbcnC4rY8hYPs1PzmB", "get_time"),
        ToolCallDelta(1, '{"tz"'),
        ToolCallDelta(0, 'cation":'),
        ToolCallDelta(1, ':"Europe/'),
        ToolCallDelta(0, '"Paris, France"}'),
        ToolCallDelta(1, 'Paris"}'),
        StreamEnd("tool_use", Usage(112, 48, 64, reasoning_tokens=0)),
    ],
    "stream_ollama_tool_call.json": [
        StreamStart("chatcmpl-312", "llama3.1:8b"),
        ToolCallStart(0, "call_ejieksiz", "get_weather"),
        ToolCallDelta(0, '{"location":"Berlin, Germany"}'),
        ToolCallStart(1, "call_qw7l3m2n", "get_time"),
        ToolCallDelta(1, '{"tz":"Europe/Berlin"}'),
        StreamEnd("tool_use", Usage(180, 33)),
    ],
    "stream_vllm_reasoning.json": [
        StreamStart(
            "chatcmpl-9b1c0e6f4a2d4f7c8e5b3a1d2c4e6f80", "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
        ),
        ReasoningDelta("Okay"),
        ReasoningDelta(", so I need"),
        ReasoningDelta(" to compare 9.11 and 9.8"),
        ReasoningDelta("."),
        TextDelta("9.8"),
        TextDelta(" is greater"),
        TextDelta(" than 9.11."),
        StreamEnd("end_turn", Usage(17, 122)),
    ],
}


@pytest.mark.parametrize("name", sorted(STREAM_CASES))
def test_stream_parser_fixtures(name: str) -> None:
    fixture = load(name)
    if fixture.get("official_shape", True):  # Ollama's chunks lack `index`
        for chunk in fixture["events"]:
            if chunk != "[DONE]":
                ChatCompletionChunk.model_validate(chunk)
    assert parse_stream(sse_bytes(fixture["events"])) == STREAM_CASES[name]


@pytest.mark.parametrize("name", sorted(STREAM_CASES))
def test_stream_parser_without_done_ends_on_close(name: str) -> None:
    events = [e for e in load(name)["events"] if e != "[DONE]"]
    assert parse_stream(sse_bytes(events)) == STREAM_CASES[name]


def test_stream_parser_done_then_close_ends_once() -> None:
    parser = wire.StreamParser()
    chunk = {
        "id": "c",
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}],
    }
    assert parser.feed(SSEEvent(json.dumps(chunk))) == [StreamStart("c", "m"), TextDelta("hi")]
    assert parser.feed(SSEEvent("[DONE]")) == [StreamEnd("end_turn", None)]
    assert parser.feed(SSEEvent(json.dumps(chunk))) == []
    assert parser.close() == []


def test_stream_parser_close_on_empty_or_truncated_stream() -> None:
    assert wire.StreamParser().close() == [StreamStart("", ""), StreamEnd(None, None)]
    parser = wire.StreamParser()
    parser.feed(
        SSEEvent('{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"par"}}]}')
    )
    assert parser.close() == [StreamEnd(None, None)]  # no finish_reason: cut off


def test_stream_parser_tool_call_without_index_or_with_late_name() -> None:
    parser = wire.StreamParser()
    chunks = [
        {
            "id": "c",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [{"index": 0, "id": "x", "function": {"arguments": '{"a"'}}]
                    },
                }
            ],
        },
        {
            "id": "c",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [{"index": 0, "function": {"name": "f", "arguments": ":1}"}}]
                    },
                }
            ],
        },
        {
            "id": "c",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {"id": "y", "function": {"name": "g", "arguments": {"b": 2}}}
                        ]
                    },
                    "finish_reason": "stop",
                }
            ],
        },
    ]
    events = [e for c in chunks for e in parser.feed(SSEEvent(json.dumps(c)))] + parser.close()
    assert events == [
        StreamStart("c", "m"),
        ToolCallStart(0, "x", "f"),
        ToolCallDelta(0, '{"a"'),
        ToolCallDelta(0, ":1}"),
        ToolCallStart(1, "y", "g"),
        ToolCallDelta(1, '{"b":2}'),
        StreamEnd("tool_use", None),  # `stop` after tool calls means tool_use
    ]


def test_stream_parser_calls_without_index_use_their_position() -> None:
    def chunk(*calls: dict[str, Any]) -> SSEEvent:
        delta = {"tool_calls": list(calls)}
        return SSEEvent(json.dumps({"id": "c", "model": "m", "choices": [{"delta": delta}]}))

    parser = wire.StreamParser()
    events = parser.feed(
        chunk(
            {"id": "a", "function": {"name": "f", "arguments": ""}},
            {"id": "b", "function": {"name": "g", "arguments": ""}},
        )
    )
    events += parser.feed(
        chunk({"function": {"arguments": "{}"}}, {"function": {"arguments": "[]"}})
    )
    assert events == [
        StreamStart("c", "m"),
        ToolCallStart(0, "a", "f"),
        ToolCallStart(1, "b", "g"),
        ToolCallDelta(0, "{}"),
        ToolCallDelta(1, "[]"),
    ]


def test_stream_parser_ignores_other_choices_and_keepalives() -> None:
    parser = wire.StreamParser()
    chunk = {
        "id": "c",
        "model": "m",
        "choices": [
            {"index": 1, "delta": {"content": "other"}, "finish_reason": None},
            {
                "index": 0,
                "delta": {"content": "mine", "reasoning": "why"},
                "finish_reason": "length",
            },
        ],
    }
    assert parser.feed(SSEEvent("")) == []
    assert parser.feed(SSEEvent(json.dumps(chunk))) == [
        StreamStart("c", "m"),
        ReasoningDelta("why"),
        TextDelta("mine"),
    ]
    assert parser.close() == [StreamEnd("max_tokens", None)]


@pytest.mark.parametrize(
    ("data", "event", "message", "upstream_type"),
    [
        (
            {
                "error": {
                    "message": "The server had an error.",
                    "type": "server_error",
                    "param": None,
                    "code": None,
                }
            },
            None,
            "The server had an error.",
            "server_error",
        ),
        ({"error": "model overloaded"}, None, "model overloaded", None),
        (
            {
                "object": "error",
                "message": "Context too long",
                "type": "BadRequestError",
                "code": 400,
            },
            "error",
            "Context too long",
            "BadRequestError",
        ),
    ],
)
def test_stream_parser_error_chunk_raises_upstream_error(
    data: dict[str, Any], event: str | None, message: str, upstream_type: str | None
) -> None:
    parser = wire.StreamParser()
    parser.feed(SSEEvent('{"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"a"}}]}'))
    with pytest.raises(UpstreamError) as caught:
        parser.feed(SSEEvent(json.dumps(data), event))
    assert caught.value.message == message
    assert caught.value.upstream_type == upstream_type


@pytest.mark.parametrize("data", ['{"id": "c", "choices": [', "<html>", "[1, 2]"])
def test_stream_parser_invalid_json_raises_wire_format_error(data: str) -> None:
    with pytest.raises(WireFormatError):
        wire.StreamParser().feed(SSEEvent(data))


# ---- StreamWriter ----------------------------------------------------------------------

WRITER_CASES = [
    pytest.param(events, id=name.removesuffix(".json")) for name, events in STREAM_CASES.items()
] + [
    pytest.param(
        [
            StreamStart("msg_01abc", "claude-sonnet-4-5"),
            ReasoningDelta("Let me think"),
            TextDelta('Quotes " and \\ and\nnewlines, unicode é 漢字 \u2028.'),
            ToolCallStart(0, "toolu_01", "search"),
            ToolCallDelta(0, '{"q":'),
            ToolCallDelta(0, '"cats"}'),
            StreamEnd("tool_use", Usage(10, 5, 3)),
        ],
        id="mixed",
    ),
    pytest.param(
        [StreamStart("c", "m"), TextDelta("x"), StreamEnd("max_tokens", None)], id="no-usage"
    ),
]


def _comparable(events: list[StreamEvent]) -> list[StreamEvent]:
    """What survives OpenAI's wire: stop_sequence reads back as end_turn."""
    out: list[StreamEvent] = []
    for event in events:
        if isinstance(event, StreamEnd) and event.stop_reason == "stop_sequence":
            event = StreamEnd("end_turn", event.usage)
        out.append(event)
    return out


@pytest.mark.parametrize("events", WRITER_CASES)
def test_stream_writer_round_trip_and_sdk_validation(events: list[StreamEvent]) -> None:
    writer = wire.StreamWriter()
    raw = b"".join(writer.write(event) for event in events)

    data = sse_data(raw)
    assert data[-1] == "[DONE]"
    state = ChatCompletionStreamState()
    chunks = [ChatCompletionChunk.model_validate_json(d) for d in data[:-1]]
    start = events[0]
    assert isinstance(start, StreamStart)
    for chunk in chunks:
        assert (chunk.id, chunk.model, chunk.object) == (
            start.id,
            start.model,
            "chat.completion.chunk",
        )
        assert chunk.created == chunks[0].created
        state.handle_chunk(chunk)
    assert parse_stream(raw, step=5, close=False) == _comparable(events)

    # The SDK's own accumulator reassembles the same reply.
    final = state.current_completion_snapshot.choices[0]
    assert final.message.content == "".join(e.text for e in events if isinstance(e, TextDelta))
    calls = [(c.id, c.function.name, c.function.arguments) for c in final.message.tool_calls or []]
    expected_calls = [
        (
            e.id,
            e.name,
            "".join(
                d.arguments for d in events if isinstance(d, ToolCallDelta) and d.index == e.index
            ),
        )
        for e in events
        if isinstance(e, ToolCallStart)
    ]
    assert calls == expected_calls


def test_stream_writer_exact_bytes() -> None:
    writer = wire.StreamWriter()
    first = writer.write(StreamStart("chatcmpl-1", "gpt-4o"))
    created = json.loads(first[len(b"data: ") :])["created"]
    meta = (
        f'{{"id":"chatcmpl-1","object":"chat.completion.chunk","created":{created},"model":"gpt-4o"'
    )
    tail = ',"logprobs":null,"finish_reason":null}],"usage":null}\n\n'

    def chunk(delta: str) -> bytes:
        return f'data: {meta},"choices":[{{"index":0,"delta":{delta}{tail}'.encode()

    assert first == chunk('{"role":"assistant","content":""}')
    assert writer.write(TextDelta("Hi")) == chunk('{"content":"Hi"}')
    assert writer.write(ReasoningDelta("r")) == chunk('{"reasoning_content":"r"}')
    assert writer.write(ToolCallStart(0, "call_1", "f")) == chunk(
        '{"tool_calls":[{"index":0,"id":"call_1","type":"function",'
        '"function":{"name":"f","arguments":""}}]}'
    )
    assert writer.write(ToolCallDelta(0, '{"a":1}')) == chunk(
        '{"tool_calls":[{"index":0,"function":{"arguments":"{\\"a\\":1}"}}]}'
    )
    usage = '{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}'
    assert (
        writer.write(StreamEnd("tool_use", Usage(7, 3)))
        == (
            f'data: {meta},"choices":[{{"index":0,"delta":{{}},"logprobs":null,'
            '"finish_reason":"tool_calls"}],"usage":null}\n\n'
            f'data: {meta},"choices":[],"usage":{usage}}}\n\n'
            "data: [DONE]\n\n"
        ).encode()
    )
    assert writer.write(TextDelta("late")) == b""


def test_stream_writer_without_usage() -> None:
    writer = wire.StreamWriter(include_usage=False)
    raw = writer.write(StreamStart("c", "m")) + writer.write(StreamEnd("end_turn", Usage(1, 2)))
    data = sse_data(raw)
    assert len(data) == 3 and data[-1] == "[DONE]"
    assert all("usage" not in json.loads(d) for d in data[:-1])
    assert json.loads(data[1])["choices"][0]["finish_reason"] == "stop"


def test_stream_writer_error_after_end_writes_nothing() -> None:
    """An upstream reset or a gateway shutdown after [DONE] adds no error chunk."""
    writer = wire.StreamWriter()
    raw = writer.write(StreamStart("c", "m")) + writer.write(StreamEnd("end_turn"))
    assert raw.endswith(b"data: [DONE]\n\n")
    assert writer.error("late") == b""


def test_stream_writer_error_finishes_the_stream() -> None:
    writer = wire.StreamWriter()
    writer.write(StreamStart("c", "m"))
    raw = writer.error("Upstream timed out", "timeout_error")
    assert raw == (
        b'data: {"error":{"message":"Upstream timed out","type":"timeout_error",'
        b'"param":null,"code":null}}\n\ndata: [DONE]\n\n'
    )
    assert writer.write(TextDelta("more")) == b""
    assert writer.error("again") == b""
    assert writer.write(StreamEnd()) == b""
    with pytest.raises(UpstreamError) as caught:
        parse_stream(raw)
    assert (caught.value.message, caught.value.upstream_type) == (
        "Upstream timed out",
        "timeout_error",
    )


def test_stream_writer_without_start_still_writes_valid_chunks() -> None:
    writer = wire.StreamWriter()
    data = sse_data(writer.write(TextDelta("x")))
    assert len(data) == 2
    chunks = [ChatCompletionChunk.model_validate_json(d) for d in data]
    assert chunks[0].id.startswith("chatcmpl-") and chunks[1].choices[0].delta.content == "x"
    assert writer.write(StreamStart("late", "m")) == b""


# ---- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "invalid_request_error"),
        (422, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (502, "api_error"),
        (529, "api_error"),
    ],
)
def test_build_error_derives_type_from_status(status: int, error_type: str) -> None:
    assert wire.build_error("boom", status=status) == {
        "error": {"message": "boom", "type": error_type, "param": None, "code": None}
    }


def test_build_error_explicit_fields() -> None:
    body = wire.build_error(
        "No such model",
        status=404,
        error_type="invalid_request_error",
        param="model",
        code="model_not_found",
    )
    assert body == {
        "error": {
            "message": "No such model",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"error":{"message":"Incorrect API key provided: sk-abc***xyz.",'
            b'"type":"invalid_request_error","param":null,"code":"invalid_api_key"}}',
            ("Incorrect API key provided: sk-abc***xyz.", "invalid_request_error"),
        ),
        (
            '{"error":{"message":"You exceeded your current quota","type":null,'
            '"code":"insufficient_quota"}}',
            ("You exceeded your current quota", "insufficient_quota"),
        ),
        ('{"error":"Model llama4 not found"}', ("Model llama4 not found", None)),
        ('{"message":"Unauthorized"}', ("Unauthorized", None)),
        ('{"detail":"Not Found"}', ("Not Found", None)),
        (
            '{"detail":[{"loc":["body","messages"],"msg":"Field required","type":"missing"}]}',
            ("Field required", None),
        ),
        (
            '{"object":"error","message":"The model `foo` does not exist.",'
            '"type":"NotFoundError","param":null,"code":404}',
            ("The model `foo` does not exist.", "NotFoundError"),
        ),
        (
            '[{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}]',
            ("API key not valid.", "INVALID_ARGUMENT"),
        ),
        (
            b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
            b"</body>\r\n</html>\r\n",
            ("502 Bad Gateway 502 Bad Gateway nginx", None),
        ),
        (
            "<html><head><style>body{color:red}</style><script>var a=1;</script></head>"
            "<body>Rate &amp; limit</body></html>",
            ("Rate & limit", None),
        ),
        (
            "upstream connect error or disconnect/reset before headers",
            ("upstream connect error or disconnect/reset before headers", None),
        ),
        (b"", ("HTTP 503 with an empty body", None)),
        ("{}", ("HTTP 503 with an empty body", None)),
        ('{"foo": 1}', ('{"foo":1}', None)),
        (b"\xff\xfe bad bytes", ("\ufffd\ufffd bad bytes", None)),
    ],
)
def test_parse_error(body: bytes | str, expected: tuple[str, str | None]) -> None:
    assert wire.parse_error(503, body) == expected


def test_parse_error_truncates_long_text() -> None:
    message, kind = wire.parse_error(500, "<p>" + "word " * 200 + "</p>")
    assert kind is None
    assert len(message) == 200 and message.startswith("word word")
