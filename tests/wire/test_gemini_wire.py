"""Gemini wire converter: recorded-shape fixtures, tables and round trips."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from cherry_nb._exceptions import RateLimitError, UpstreamError, WireFormatError
from cherry_nb.wire import gemini
from cherry_nb.wire.neutral import (
    ChatRequest,
    ChatResponse,
    Document,
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
from cherry_nb.wire.sse import SSEEvent, SSEParser

FIXTURES = Path(__file__).parent / "fixtures" / "gemini"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def recorded_sse(events: list[dict[str, Any]]) -> bytes:
    """The bytes Gemini sends for alt=sse: one `data:` line per chunk, CRLF framing."""
    return b"".join(b"data: " + json.dumps(e).encode() + b"\r\n\r\n" for e in events)


def parse_stream(raw: bytes, *, model: str = "gemini-2.5-flash", step: int = 7) -> list[Any]:
    """Feed raw bytes through SSEParser + StreamParser in awkward chunk sizes."""
    sse, parser = SSEParser(), gemini.StreamParser(model=model)
    out: list[StreamEvent] = []
    for i in range(0, len(raw), step):
        for event in sse.feed(raw[i : i + step]):
            out += parser.feed(event)
    for event in sse.close():
        out += parser.feed(event)
    return out + parser.close()


def user(*parts: Any) -> Message:
    return Message("user", list(parts))


def assistant(*parts: Any) -> Message:
    return Message("assistant", list(parts))


# ---- parse_request ---------------------------------------------------------------


def test_parse_request_recorded_history() -> None:
    req = gemini.parse_request(
        load("request_tools_history.json"), model="gemini-2.5-flash", stream=True
    )
    assert (req.model, req.stream) == ("gemini-2.5-flash", True)
    assert req.system == "You are a concise travel assistant.\nAnswer in English."
    assert [m.role for m in req.messages] == [
        "user", "assistant", "user", "assistant", "user", "assistant", "user",
    ]  # fmt: skip
    first = req.messages[0].content
    assert isinstance(first[0], Text)
    assert first[1] == Image(media_type="image/png", data=first[1].data)
    assert first[1].data and first[1].data.startswith("iVBORw0KGgo")
    assert first[2] == Document(  # a PDF by file URI: a document, not an image
        url="https://generativelanguage.googleapis.com/v1beta/files/8k2ojz3x5m1d"
    )
    assert req.messages[1].content[1:] == [  # the call's signature first, as Reasoning
        Reasoning("", "CiQBVKhc7kT0yJ2bq3ZPqvN4rWc1cMmt0vS1Yk5n7Qm+e1Y3QeQKZQFUqFzu", "gemini"),
        ToolCall("call_get_weather_0", "get_weather", {"location": "Paris, FR", "unit": "celsius"}),
        ToolCall("call_get_time_1", "get_time", {"tz": "Europe/Paris"}),
    ]
    assert req.messages[2].content == [
        ToolResult(
            "call_get_weather_0",
            [Text('{"temperature": 18, "conditions": "cloudy"}')],
            name="get_weather",
        ),
        ToolResult("call_get_time_1", [Text("14:05")], name="get_time"),
    ]
    assert req.messages[5].content == [
        ToolCall("fc-7b1d0e", "get_weather", {"location": "Lyon, FR"})
    ]
    assert req.messages[6].content == [
        ToolResult(
            "fc-7b1d0e", [Text("weather service unavailable")], is_error=True, name="get_weather"
        )
    ]
    # googleSearch is a server-side tool: not translated; OpenAPI type names become JSON Schema.
    assert [t.name for t in req.tools] == ["get_weather", "get_time"]
    assert req.tools[0].parameters["properties"]["location"]["type"] == "string"
    assert req.tools[0].parameters["type"] == "object"
    assert req.tool_choice == ToolChoice("auto")
    assert (req.temperature, req.top_p, req.top_k, req.max_tokens, req.stop) == (
        0.4, 0.95, 40, 1024, ["END"],
    )  # fmt: skip


def test_parse_request_pairs_name_only_results_in_call_order() -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "two cities"}]},
            {
                "role": "model",
                "parts": [
                    {"functionCall": {"name": "w", "args": {"c": "A"}}},
                    {"functionCall": {"name": "w", "args": {"c": "B"}}},
                ],
            },
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "w", "response": {"result": "a"}}},
                    {"functionResponse": {"name": "w", "response": {"result": "b"}}},
                    {"functionResponse": {"name": "orphan", "response": {}}},
                ],
            },
        ]
    }
    req = gemini.parse_request(body, model="m")
    calls = [p.id for p in req.messages[1].content if isinstance(p, ToolCall)]
    results = [p.tool_call_id for p in req.messages[2].content if isinstance(p, ToolResult)]
    assert calls == ["call_w_0", "call_w_1"]
    assert results[:2] == calls
    assert results[2] not in calls


@pytest.mark.parametrize(
    ("response", "text", "is_error"),
    [
        ({"result": "ok"}, "ok", False),
        ({"content": "file body"}, "file body", False),
        ({"error": "boom"}, "boom", True),
        ({"result": {"nested": 1}}, '{"result": {"nested": 1}}', False),
        ({"result": "a", "extra": 2}, '{"result": "a", "extra": 2}', False),
        ({}, "{}", False),
    ],
)
def test_parse_request_function_response_shapes(
    response: dict[str, Any], text: str, is_error: bool
) -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": response}}]}
        ]
    }
    (result,) = gemini.parse_request(body, model="m").messages[0].content
    assert isinstance(result, ToolResult)
    assert (result.content, result.is_error, result.name) == ([Text(text)], is_error, "f")


def test_parse_request_accepts_snake_case_and_string_system() -> None:
    body = {
        "system_instruction": "Be brief.",
        "contents": [
            {
                "parts": [
                    {"text": "hi"},
                    {"inline_data": {"mime_type": "image/webp", "data": "AAAA"}},
                ]
            },
            {"role": "model", "parts": [{"function_call": {"name": "f", "args": {"x": 1}}}]},
        ],
        "generation_config": {"max_output_tokens": 64, "stop_sequences": ["\n\n"]},
        "tool_config": {"function_calling_config": {"mode": "ANY"}},
    }
    req = gemini.parse_request(body, model="m")
    assert req.system == "Be brief."
    assert req.messages[0] == user(Text("hi"), Image(media_type="image/webp", data="AAAA"))
    assert req.messages[1] == assistant(ToolCall("call_f_0", "f", {"x": 1}))
    assert (req.max_tokens, req.stop, req.tool_choice) == (64, ["\n\n"], ToolChoice("required"))


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"mode": "AUTO"}, ToolChoice("auto")),
        ({"mode": "NONE"}, ToolChoice("none")),
        ({"mode": "ANY"}, ToolChoice("required")),
        ({"mode": "ANY", "allowedFunctionNames": ["f"]}, ToolChoice("tool", "f")),
        ({"mode": "ANY", "allowedFunctionNames": ["f", "g"]}, ToolChoice("required")),
        ({"mode": "MODE_UNSPECIFIED"}, None),
    ],
)
def test_parse_request_tool_config(config: dict[str, Any], expected: ToolChoice | None) -> None:
    body = {"contents": [], "toolConfig": {"functionCallingConfig": config}}
    assert gemini.parse_request(body, model="m").tool_choice == expected


def test_parse_request_thought_parts_become_reasoning() -> None:
    body = {
        "contents": [
            {
                "role": "model",
                "parts": [
                    {"text": "hmm", "thought": True, "thoughtSignature": "sig"},
                    {"text": "A"},
                ],
            }
        ]
    }
    assert gemini.parse_request(body, model="m").messages[0] == assistant(
        Reasoning("hmm", "sig", "gemini"), Text("A")
    )


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ([], "body"),
        ({}, "contents"),
        ({"contents": {"role": "user"}}, "contents"),
        ({"contents": ["hi"]}, "contents[0]"),
        ({"contents": [{"role": "system", "parts": []}]}, "contents[0].role"),
        ({"contents": [{"role": "user"}]}, "contents[0].parts"),
        ({"contents": [{"role": "user", "parts": [{"text": 3}]}]}, "contents[0].parts[0]"),
        (
            {"contents": [{"parts": [{"text": "a"}]}, {"parts": ["x"]}]},
            "contents[1].parts[0]",
        ),
        (
            {"contents": [{"parts": [{"functionCall": {"args": {}}}]}]},
            "contents[0].parts[0].functionCall.name",
        ),
        (
            {"contents": [{"parts": [{"functionCall": {"name": "f", "args": "x"}}]}]},
            "contents[0].parts[0].functionCall.args",
        ),
        (
            {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png"}}]}]},
            "contents[0].parts[0].inlineData.data",
        ),
        (
            {"contents": [], "generationConfig": {"temperature": "hot"}},
            "generationConfig.temperature",
        ),
        ({"contents": [], "generationConfig": {"topK": 2.5}}, "generationConfig.topK"),
        (
            {"contents": [], "generationConfig": {"stopSequences": "END"}},
            "generationConfig.stopSequences",
        ),
        (
            {"contents": [], "tools": [{"functionDeclarations": [{}]}]},
            "tools[0].functionDeclarations[0].name",
        ),
    ],
)
def test_parse_request_rejects_malformed(body: Any, param: str) -> None:
    with pytest.raises(WireFormatError) as info:
        gemini.parse_request(body, model="m")
    assert info.value.param == param


def test_parse_request_ignores_unknown_fields() -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "x", "future": 1}], "future": True}],
        "cachedContent": "cachedContents/abc",
        "labels": {"team": "a"},
    }
    assert gemini.parse_request(body, model="m").messages == [user(Text("x"))]


# ---- build_request ---------------------------------------------------------------


def test_build_request_full() -> None:
    request = ChatRequest(
        model="gemini-2.5-flash",
        system="sys",
        messages=[
            user(Text("look"), Image(media_type="image/png", data="AAAA")),
            user(Image(url="https://example.com/cat.PNG?size=2")),
            assistant(
                Reasoning("thinking...", "sig", "gemini"),
                Text("calling"),
                ToolCall("t1", "get", {"q": 1}),
            ),
            user(ToolResult("t1", [Text('{"temp": 18}')])),
            assistant(ToolCall("t2", "get", {"q": 2}), ToolCall("t3", "other", {})),
            user(
                ToolResult("t2", [Text("plain")]),
                ToolResult("t3", [Text("bad"), Text("worse")], is_error=True),
                ToolResult("missing", [Text("?")]),
                Text(""),
            ),
            assistant(Reasoning("only thoughts")),
            user(Text("next")),
        ],
        max_tokens=100,
        temperature=0.0,
        stop=["X"],
        tools=[
            Tool("get", "Get it.", {"type": "object", "properties": {"q": {"type": "integer"}}})
        ],
        tool_choice=ToolChoice("tool", "get"),
    )
    body = gemini.build_request(request)
    assert "model" not in body
    assert body["systemInstruction"] == {"parts": [{"text": "sys"}]}
    assert body["contents"] == [
        {
            "role": "user",
            "parts": [
                {"text": "look"},
                {"inlineData": {"mimeType": "image/png", "data": "AAAA"}},
                {
                    "fileData": {
                        "mimeType": "image/png",
                        "fileUri": "https://example.com/cat.PNG?size=2",
                    }
                },
            ],
        },
        {
            "role": "model",
            "parts": [  # a signature rides on the part after its reasoning
                {"text": "calling", "thoughtSignature": "sig"},
                {"functionCall": {"name": "get", "args": {"q": 1}}},
            ],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "get", "response": {"temp": 18}}}],
        },
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "get", "args": {"q": 2}}},
                {"functionCall": {"name": "other", "args": {}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get", "response": {"result": "plain"}}},
                {"functionResponse": {"name": "other", "response": {"error": "bad\nworse"}}},
                {"functionResponse": {"name": "unknown_tool", "response": {"result": "?"}}},
                {"text": "next"},
            ],
        },
    ]
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get",
                    "description": "Get it.",
                    "parameters": {"type": "object", "properties": {"q": {"type": "integer"}}},
                }
            ]
        }
    ]
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get"]}
    }
    assert body["generationConfig"] == {
        "temperature": 0.0,
        "maxOutputTokens": 100,
        "stopSequences": ["X"],
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (ToolChoice("auto"), {"mode": "AUTO"}),
        (ToolChoice("none"), {"mode": "NONE"}),
        (ToolChoice("required"), {"mode": "ANY"}),
        (ToolChoice("tool", "f"), {"mode": "ANY", "allowedFunctionNames": ["f"]}),
    ],
)
def test_build_request_tool_choice(choice: ToolChoice, expected: dict[str, Any]) -> None:
    request = ChatRequest("m", [user(Text("x"))], tools=[Tool("f")], tool_choice=choice)
    assert gemini.build_request(request)["toolConfig"] == {"functionCallingConfig": expected}


def test_build_request_minimal_omits_empty_fields() -> None:
    body = gemini.build_request(ChatRequest("gemini-2.0-flash", [user(Text("hi"))]))
    assert body == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def test_build_request_parameterless_tool_has_no_parameters() -> None:
    # Gemini: "parameters.properties: should be non-empty for OBJECT type".
    tool = Tool("now", "", {"type": "object", "properties": {}, "additionalProperties": False})
    body = gemini.build_request(ChatRequest("m", [user(Text("x"))], tools=[tool]))
    assert body["tools"] == [{"functionDeclarations": [{"name": "now"}]}]


def test_build_request_tool_result_name_comes_from_earlier_call() -> None:
    request = ChatRequest(
        "m",
        [
            assistant(ToolCall("toolu_01A", "Read", {"file_path": "/a"})),
            user(ToolResult("toolu_01A", [Text("contents")])),
            user(ToolResult("toolu_01A", [Text("again")], name="Explicit")),
        ],
    )
    parts = gemini.build_request(request)["contents"][1]["parts"]
    assert [p["functionResponse"]["name"] for p in parts] == ["Read", "Explicit"]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (Image(data="/9j/4AAQ"), {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}}),
        (Image(data="QQ=="), {"inlineData": {"mimeType": "image/png", "data": "QQ=="}}),
        (
            Image(url="gs://bucket/scan.pdf"),
            {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/scan.pdf"}},
        ),
        (
            Image(url="https://x.test/a.webp#frag"),
            {"fileData": {"mimeType": "image/webp", "fileUri": "https://x.test/a.webp#frag"}},
        ),
        (
            Image(url="https://x.test/v1.2/photo"),
            {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://x.test/v1.2/photo"}},
        ),
        (
            Image(media_type="image/heic", url="https://x.test/p.jpg"),
            {"fileData": {"mimeType": "image/heic", "fileUri": "https://x.test/p.jpg"}},
        ),
    ],
)
def test_build_request_images(image: Image, expected: dict[str, Any]) -> None:
    body = gemini.build_request(ChatRequest("m", [user(image)]))
    assert body["contents"][0]["parts"] == [expected]


def test_build_request_tool_result_images_ride_along() -> None:
    result = ToolResult(
        "c", [Text("shot"), Image(media_type="image/png", data="AA")], name="screenshot"
    )
    parts = gemini.build_request(ChatRequest("m", [user(result)]))["contents"][0]["parts"]
    assert parts == [
        {"functionResponse": {"name": "screenshot", "response": {"result": "shot"}}},
        {"inlineData": {"mimeType": "image/png", "data": "AA"}},
    ]


@pytest.mark.parametrize(
    ("model", "signed"),
    [
        ("gemini-2.5-flash", False),
        ("gemini-2.0-flash-001", False),
        ("gemini-3-pro-preview", True),
        ("gemini-3.1-flash-lite", True),
        ("gemma-3-27b-it", False),
    ],
)
def test_build_request_thought_signature_sentinel_for_gemini_3(model: str, signed: bool) -> None:
    request = ChatRequest(model, [assistant(ToolCall("c", "f", {}))])
    (part,) = gemini.build_request(request)["contents"][0]["parts"]
    assert ("thoughtSignature" in part) is signed
    if signed:
        assert part["thoughtSignature"] == "skip_thought_signature_validator"


def _without_call_ids(request: ChatRequest) -> ChatRequest:
    """build_request does not send ids (Gemini pairs by name), so ids are regenerated."""
    out = copy.deepcopy(request)
    for message in out.messages:
        for part in message.content:
            if isinstance(part, ToolCall):
                part.id = ""
            elif isinstance(part, ToolResult):
                part.tool_call_id = ""
    return out


def test_request_round_trip_from_recording() -> None:
    original = gemini.parse_request(load("request_tools_history.json"), model="gemini-2.5-flash")
    assert original.dropped == ["safetySettings"]
    rebuilt = gemini.parse_request(gemini.build_request(original), model="gemini-2.5-flash")
    rebuilt.dropped = original.dropped
    assert _without_call_ids(rebuilt) == _without_call_ids(original)


def test_request_round_trip_from_neutral() -> None:
    request = ChatRequest(
        model="gemini-2.5-pro",
        system="s",
        messages=[
            user(Text("q"), Image(media_type="image/png", data="AA")),
            assistant(Text("a"), ToolCall("call_f_0", "f", {"x": [1, 2]})),
            user(ToolResult("call_f_0", [Text("done")], name="f")),
            user(Text("thanks")),
        ],
        max_tokens=5,
        top_p=0.5,
        top_k=3,
        tools=[
            Tool(
                "f",
                "d",
                {
                    "type": "object",
                    "properties": {"x": {"type": "array", "items": {"type": "integer"}}},
                },
            )
        ],
        tool_choice=ToolChoice("required"),
    )
    rebuilt = gemini.parse_request(gemini.build_request(request), model="gemini-2.5-pro")
    merged = dataclasses.replace(
        request,
        messages=[
            *request.messages[:2],
            user(ToolResult("call_f_0", [Text("done")], name="f"), Text("thanks")),
        ],
    )
    assert rebuilt == merged


# ---- parse_response / build_response ---------------------------------------------


def test_parse_response_recorded_function_call() -> None:
    response = gemini.parse_response(load("response_function_call.json"))
    assert response.id == "qPHBaN-aLM2_qtsPq4Ww0Qs"
    assert response.model == "gemini-2.5-flash"
    reasoning, signature, call = response.content
    assert signature == Reasoning("", "CpwCAdHtim9vJbZ6Qm3n1yWf0Xo8cFQ2kqz3RkYp1Lr5T8A0=", "gemini")
    assert reasoning == Reasoning(
        "**Planning the lookup**\n\nThe user wants the weather in Paris. "
        "I should call get_weather with the city.",
        None,
    )
    assert isinstance(call, ToolCall)
    assert (call.name, call.arguments) == (
        "get_weather",
        {"location": "Paris, FR", "unit": "celsius"},
    )
    assert call.id.startswith("call_") and len(call.id) > len("call_")
    assert response.stop_reason == "tool_use"
    assert response.usage == Usage(input_tokens=83, output_tokens=18 + 84, reasoning_tokens=84)
    assert response.text == ""


def test_parse_response_joins_text_and_keeps_call_ids() -> None:
    body = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "Hel"},
                        {"text": "lo"},
                        {"functionCall": {"id": "abc", "name": "f"}},
                        {"text": "!"},
                    ],
                },
                "finishReason": "STOP",
            },
            {"content": {"parts": [{"text": "second candidate ignored"}]}},
        ],
        "usageMetadata": {
            "promptTokenCount": 5,
            "candidatesTokenCount": 2,
            "cachedContentTokenCount": 4,
        },
    }
    response = gemini.parse_response(body)
    assert response.content == [Text("Hello"), ToolCall("abc", "f", {}), Text("!")]
    assert response.text == "Hello!"
    assert response.usage == Usage(5, 2, 4)
    assert response.model == ""
    assert response.id


@pytest.mark.parametrize(
    ("finish", "has_call", "expected"),
    [
        ("STOP", False, "end_turn"),
        ("STOP", True, "tool_use"),
        ("MAX_TOKENS", False, "max_tokens"),
        ("MAX_TOKENS", True, "max_tokens"),
        ("SAFETY", False, "content_filter"),
        ("RECITATION", False, "content_filter"),
        ("BLOCKLIST", False, "content_filter"),
        ("PROHIBITED_CONTENT", False, "content_filter"),
        ("SPII", False, "content_filter"),
        ("IMAGE_SAFETY", False, "content_filter"),
        ("MALFORMED_FUNCTION_CALL", False, "error"),
        ("OTHER", False, "end_turn"),
        ("LANGUAGE", False, "end_turn"),
        ("FINISH_REASON_UNSPECIFIED", False, "end_turn"),
    ],
)
def test_parse_response_finish_reasons(finish: str, has_call: bool, expected: str) -> None:
    parts: list[dict[str, Any]] = [{"text": "x"}]
    if has_call:
        parts.append({"functionCall": {"name": "f", "args": {}}})
    body = {"candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": finish}]}
    assert gemini.parse_response(body).stop_reason == expected


@pytest.mark.parametrize("case", ["prompt_blocked", "candidate_blocked"])
def test_parse_response_safety_blocked(case: str) -> None:
    body = load("response_safety_blocked.json")[case]
    response = gemini.parse_response(body)
    assert response.content == []
    assert response.stop_reason == "content_filter"
    assert response.id == body["responseId"]
    assert response.usage.input_tokens == body["usageMetadata"]["promptTokenCount"]


def test_parse_response_error_body_raises() -> None:
    with pytest.raises(UpstreamError, match="overloaded") as info:
        gemini.parse_response(
            {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}
        )
    assert info.value.upstream_type == "UNAVAILABLE"


def test_build_response_shape() -> None:
    response = ChatResponse(
        id="r1",
        model="gemini-2.5-flash",
        content=[Reasoning("think", "sig"), Text("Hi"), ToolCall("c1", "f", {"a": 1})],
        stop_reason="tool_use",
        usage=Usage(10, 7, 3),
    )
    assert gemini.build_response(response) == {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "think", "thought": True, "thoughtSignature": "sig"},
                        {"text": "Hi"},
                        {"functionCall": {"id": "c1", "name": "f", "args": {"a": 1}}},
                    ],
                },
                "index": 0,
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 10,
            "candidatesTokenCount": 7,
            "totalTokenCount": 17,
            "cachedContentTokenCount": 3,
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "r1",
    }


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "STOP"),
        ("stop_sequence", "STOP"),
        ("tool_use", "STOP"),
        ("max_tokens", "MAX_TOKENS"),
        ("content_filter", "SAFETY"),
        ("error", "OTHER"),
        (None, None),
    ],
)
def test_build_response_finish_reason(stop: Any, finish: str | None) -> None:
    body = gemini.build_response(ChatResponse("r", "m", [Text("x")], stop_reason=stop))
    assert body["candidates"][0].get("finishReason") == finish


@pytest.mark.parametrize(
    "response",
    [
        ChatResponse("r", "m", [Text("plain")], "end_turn", Usage(1, 2)),
        ChatResponse(
            "r",
            "m",
            [Reasoning("t", "s", "gemini"), ToolCall("c", "f", {"x": [1]})],
            "tool_use",
            Usage(1, 2, 0),
        ),
        ChatResponse("r", "m", [Text("cut")], "max_tokens", Usage(3, 4)),
        ChatResponse("r", "m", [], "content_filter", Usage()),
    ],
)
def test_response_round_trip(response: ChatResponse) -> None:
    assert gemini.parse_response(gemini.build_response(response)) == response


def test_recorded_response_round_trip() -> None:
    parsed = gemini.parse_response(load("response_function_call.json"))
    assert gemini.parse_response(gemini.build_response(parsed)) == parsed


# ---- StreamParser ----------------------------------------------------------------


@pytest.mark.parametrize("step", [1, 7, 64, 100_000])
def test_stream_parser_recorded_stream(step: int) -> None:
    recording = load("stream_text_then_call.json")
    events = parse_stream(recorded_sse(recording["events"]), model="gemini-2.5-flash", step=step)
    start, *middle, signature, call_start, call_delta, end = events
    assert start == StreamStart("N3XCaPnOJPWBkdUP3pKx2Ac", "gemini-2.5-flash", input_tokens=95)
    assert middle == [
        ReasoningDelta("**Locating the city**\n\nThe user asked about Paris."),
        TextDelta("I'll look up the current"),
        TextDelta(" weather in Paris — one moment."),
    ]
    assert signature == ReasoningDelta("", "CiIBVKhc7l5mzkoZSRQfFeCS44vjuGk3o7tGr=", "gemini")
    assert isinstance(call_start, ToolCallStart)
    assert (call_start.index, call_start.name) == (0, "get_weather")
    assert call_start.id.startswith("call_")
    assert call_delta == ToolCallDelta(0, json.dumps({"location": "Paris, FR", "unit": "celsius"}))
    assert end == StreamEnd(
        "tool_use", Usage(input_tokens=95, output_tokens=31 + 34, reasoning_tokens=34)
    )


def test_stream_parser_model_fallback_and_call_ids() -> None:
    parser = gemini.StreamParser(model="requested-model")
    chunk = {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"functionCall": {"id": "a1", "name": "f", "args": {"x": 1}}},
                        {"functionCall": {"name": "g"}},
                    ]
                },
                "finishReason": "MAX_TOKENS",
            }
        ]
    }
    events = parser.feed(SSEEvent(json.dumps(chunk)))
    assert isinstance(events[0], StreamStart) and events[0].model == "requested-model"
    assert events[1:3] == [ToolCallStart(0, "a1", "f"), ToolCallDelta(0, '{"x": 1}')]
    assert isinstance(events[3], ToolCallStart) and events[3].index == 1
    assert events[4] == ToolCallDelta(1, "{}")
    assert parser.close() == [StreamEnd("max_tokens", None)]
    assert parser.close() == []


def test_stream_parser_truncated_and_empty_streams() -> None:
    parser = gemini.StreamParser(model="m")
    parser.feed(SSEEvent('{"candidates":[{"content":{"parts":[{"text":"par"}]}}]}'))
    assert parser.close() == [StreamEnd(None, None)]  # no finishReason: cut short

    empty = gemini.StreamParser(model="m").close()
    assert [type(e) for e in empty] == [StreamStart, StreamEnd]
    assert isinstance(empty[0], StreamStart) and empty[0].model == "m"


def test_stream_parser_prompt_blocked() -> None:
    parser = gemini.StreamParser(model="m")
    body = load("response_safety_blocked.json")["prompt_blocked"]
    events = parser.feed(SSEEvent(json.dumps(body)))
    assert [type(e) for e in events] == [StreamStart]
    assert parser.close() == [StreamEnd("content_filter", Usage(12, 0))]


RETRY_INFO = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}


@pytest.mark.parametrize(
    ("data", "error", "upstream_type", "retry_after"),
    [
        (
            {"error": {"code": 429, "message": "q", "status": "RESOURCE_EXHAUSTED",
                       "details": [RETRY_INFO]}},
            RateLimitError, "RESOURCE_EXHAUSTED", 37.0,
        ),
        (
            {"error": {"message": "slow down", "status": "RESOURCE_EXHAUSTED"}},
            RateLimitError, "RESOURCE_EXHAUSTED", None,
        ),
        (
            {"error": {"code": 500, "message": "internal", "status": "INTERNAL"}},
            UpstreamError, "INTERNAL", None,
        ),
        (
            [{"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}],
            UpstreamError, "UNAVAILABLE", None,
        ),
    ],
)  # fmt: skip
def test_stream_parser_error_events(
    data: Any, error: type[Exception], upstream_type: str, retry_after: float | None
) -> None:
    parser = gemini.StreamParser(model="m")
    parser.feed(SSEEvent('{"candidates":[{"content":{"parts":[{"text":"a"}]}}]}'))
    with pytest.raises(error) as info:
        parser.feed(SSEEvent(json.dumps(data)))
    assert type(info.value) is error
    assert getattr(info.value, "upstream_type", None) == upstream_type
    if error is RateLimitError:
        assert isinstance(info.value, RateLimitError) and info.value.retry_after == retry_after


@pytest.mark.parametrize("data", ["{not json", '"a string"', "42"])
def test_stream_parser_invalid_json(data: str) -> None:
    with pytest.raises(WireFormatError):
        gemini.StreamParser(model="m").feed(SSEEvent(data))


# ---- StreamWriter ----------------------------------------------------------------


def test_stream_writer_text_chunk_is_gemini_shaped() -> None:
    writer = gemini.StreamWriter(model="gemini-2.5-flash")
    assert writer.write(StreamStart("resp-1", "whatever")) == b""
    raw = writer.write(TextDelta('Hé "quoted"'))
    assert raw.startswith(b"data: ") and raw.endswith(b"\n\n")
    assert json.loads(raw[len(b"data: ") :]) == {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": 'Hé "quoted"'}]}, "index": 0}
        ],
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp-1",
    }


def _collapse(events: list[StreamEvent]) -> list[StreamEvent]:
    """Merge each call's argument fragments into one delta of the parsed-and-dumped JSON."""
    out: list[StreamEvent] = []
    fragments: dict[int, list[str]] = {}
    for event in events:
        if isinstance(event, ToolCallDelta):
            fragments[event.index].append(event.arguments)
            continue
        if isinstance(event, ToolCallStart):
            fragments[event.index] = []
        out.append(event)
    result: list[StreamEvent] = []
    for event in out:
        result.append(event)
        if isinstance(event, ToolCallStart):
            args = json.loads("".join(fragments[event.index]) or "{}")
            result.append(ToolCallDelta(event.index, json.dumps(args)))
    return result


@pytest.mark.parametrize(
    "events",
    [
        [
            StreamStart("resp_1", "gemini-2.5-flash"),
            ReasoningDelta("Let me think"),
            TextDelta("Checking "),
            TextDelta("two cities."),
            ToolCallStart(0, "toolu_01", "get_weather"),
            ToolCallDelta(0, '{"location": '),
            ToolCallDelta(0, '"Paris"}'),
            ToolCallStart(1, "toolu_02", "get_weather"),
            ToolCallDelta(1, '{"location":"Lyon",'),
            ToolCallDelta(1, '"unit":"c"}'),
            StreamEnd("tool_use", Usage(20, 9, 5)),
        ],
        [
            StreamStart("resp_2", "gemini-2.5-flash", input_tokens=11),
            TextDelta("Just text"),
            StreamEnd("max_tokens", Usage(11, 2)),
        ],
        [
            # The only chunk is the last one, so its usage already names the prompt size.
            StreamStart("resp_3", "gemini-2.5-flash", input_tokens=1),
            ToolCallStart(0, "c0", "now"),
            StreamEnd("tool_use", Usage(1, 1)),
        ],
    ],
)
def test_stream_writer_round_trip(events: list[StreamEvent]) -> None:
    writer = gemini.StreamWriter(model="gemini-2.5-flash")
    raw = b"".join(writer.write(e) for e in events)
    parsed = parse_stream(raw, step=5)
    assert parsed == _collapse(events)


def test_stream_writer_buffers_calls_until_complete() -> None:
    writer = gemini.StreamWriter(model="m")
    writer.write(StreamStart("r", "m"))
    assert writer.write(ToolCallStart(0, "c0", "f")) == b""
    assert writer.write(ToolCallDelta(0, '{"a":')) == b""
    assert writer.write(ToolCallStart(1, "c1", "g")) == b""
    assert writer.write(ToolCallDelta(1, "not json")) == b""
    assert writer.write(ToolCallDelta(0, "1}")) == b""  # interleaved fragments still land
    final = json.loads(writer.write(StreamEnd("tool_use", Usage(3, 4)))[len(b"data: ") :])
    (candidate,) = final["candidates"]
    assert candidate["content"]["parts"] == [
        {"functionCall": {"id": "c0", "name": "f", "args": {"a": 1}}},
        {"functionCall": {"id": "c1", "name": "g", "args": {}}},
    ]
    assert candidate["finishReason"] == "STOP"
    assert final["usageMetadata"] == {
        "promptTokenCount": 3,
        "candidatesTokenCount": 4,
        "totalTokenCount": 7,
    }
    assert writer.write(TextDelta("late")) == b""


def test_stream_writer_flushes_calls_before_later_text() -> None:
    writer = gemini.StreamWriter(model="m")
    writer.write(StreamStart("r", "m"))
    writer.write(ToolCallStart(0, "c0", "f"))
    writer.write(ToolCallDelta(0, "{}"))
    raw = writer.write(TextDelta("after"))
    chunks = [json.loads(e.data) for e in SSEParser().feed(raw)]
    assert [c["candidates"][0]["content"]["parts"] for c in chunks] == [
        [{"functionCall": {"id": "c0", "name": "f", "args": {}}}],
        [{"text": "after"}],
    ]


@pytest.mark.parametrize(
    ("stop", "finish"),
    [("end_turn", "STOP"), ("stop_sequence", "STOP"), ("max_tokens", "MAX_TOKENS"),
     ("content_filter", "SAFETY"), ("error", "OTHER")],
)  # fmt: skip
def test_stream_writer_end_chunk(stop: Any, finish: str) -> None:
    writer = gemini.StreamWriter(model="m")
    raw = writer.write(StreamEnd(stop, None))  # no StreamStart: an id is made up
    chunk = json.loads(raw[len(b"data: ") :])
    assert chunk["candidates"][0]["finishReason"] == finish
    assert chunk["responseId"] and "usageMetadata" not in chunk


def test_stream_writer_error_event() -> None:
    writer = gemini.StreamWriter(model="m")
    raw = writer.error("quota gone", "RESOURCE_EXHAUSTED")
    assert raw.endswith(b"\n\n")
    assert json.loads(raw[len(b"data: ") :]) == {
        "error": {"code": 429, "message": "quota gone", "status": "RESOURCE_EXHAUSTED"}
    }
    assert writer.error("again") == b"" and writer.write(TextDelta("more")) == b""
    other = gemini.StreamWriter(model="m").error("boom")
    assert json.loads(other[len(b"data: ") :])["error"]["code"] == 500
    with pytest.raises(RateLimitError):
        gemini.StreamParser(model="m").feed(SSEParser().feed(raw)[0])


def test_stream_writer_error_after_end_writes_nothing() -> None:
    """An upstream reset or a gateway shutdown after the last chunk adds no error event."""
    writer = gemini.StreamWriter(model="m")
    assert writer.write(StreamEnd("end_turn", None))
    assert writer.error("late") == b""


# ---- errors and models -----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (400, None, "INVALID_ARGUMENT"),
        (401, None, "UNAUTHENTICATED"),
        (403, None, "PERMISSION_DENIED"),
        (404, None, "NOT_FOUND"),
        (429, None, "RESOURCE_EXHAUSTED"),
        (500, None, "INTERNAL"),
        (503, None, "UNAVAILABLE"),
        (504, None, "DEADLINE_EXCEEDED"),
        (418, None, "INVALID_ARGUMENT"),
        (599, None, "INTERNAL"),
        (400, "FAILED_PRECONDITION", "FAILED_PRECONDITION"),
    ],
)
def test_build_error(status: int, error_type: str | None, expected: str) -> None:
    assert gemini.build_error("msg", status=status, error_type=error_type) == {
        "error": {"code": status, "message": "msg", "status": expected}
    }


@pytest.mark.parametrize("case", load("errors.json"), ids=lambda c: c["name"])
def test_parse_error_recorded(case: dict[str, Any]) -> None:
    for body in (case["body"], case["body"].encode()):
        assert gemini.parse_error(case["status"], body) == (case["message"], case["type"])


def test_parse_error_round_trips_build_error() -> None:
    body = json.dumps(gemini.build_error("nope", status=403))
    assert gemini.parse_error(403, body) == ("nope", "PERMISSION_DENIED")


def test_parse_error_plain_text_is_bounded() -> None:
    message, kind = gemini.parse_error(502, b"upstream connect error " * 50)
    assert kind is None and len(message) <= 200 and message.startswith("upstream connect error")


def test_list_models_from_wire() -> None:
    assert gemini.list_models_from_wire(load("models.json")) == [
        ("gemini-2.5-flash", "Gemini 2.5 Flash"),
        ("gemini-2.5-pro", "Gemini 2.5 Pro"),
        ("gemma-3-27b-it", "Gemma 3 27B"),
        ("learnlm-experimental", None),
    ]
    assert gemini.list_models_from_wire({}) == []
    with pytest.raises(WireFormatError):
        gemini.list_models_from_wire({"models": "nope"})
