"""One policy for content-part types a reader does not know, checked for every format.

A client's request: refused with a WireFormatError that names the type and its place,
unless the type is one the module drops on purpose (DROPPED_PART_TYPES). An upstream's
response or stream: skipped, the rest intact.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cherry_nb._exceptions import WireFormatError
from cherry_nb.wire import anthropic as wire_anthropic
from cherry_nb.wire import gemini as wire_gemini
from cherry_nb.wire import openai as wire_openai
from cherry_nb.wire.gemini import _requests as gemini_requests
from cherry_nb.wire.neutral import (
    Message,
    Reasoning,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    StreamStart,
    Text,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    ToolResult,
)
from cherry_nb.wire.openai import _requests as openai_requests
from cherry_nb.wire.sse import SSEEvent

# ---- requests: refused, naming the type and where it was ----------------------------


def openai_body(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": "hi"}, *messages]}


def anthropic_body(*messages: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "model": "m",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}, *messages],
        **fields,
    }


def gemini_body(*contents: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": "hi"}]}, *contents], **fields}


def parse_gemini(body: dict[str, Any]) -> Any:
    return wire_gemini.parse_request(body, model="m")


TEXT = {"type": "text", "text": "see"}
AUDIO = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
PDF = {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"}
CODE = {"executableCode": {"language": "PYTHON", "code": "print(1)"}}
FILE_SOURCE = {"type": "file", "file_id": "file_011CNha8iCJcU1wXNR6q4V8w"}

REFUSED = [
    pytest.param(
        wire_openai.parse_request,
        openai_body({"role": "user", "content": [TEXT, AUDIO]}),
        "input_audio",
        "messages.1.content.1",
        "messages.1.content.1.type",
        id="openai-user-audio",
    ),
    pytest.param(
        wire_openai.parse_request,
        openai_body({"role": "user", "content": [{"type": "file", "file": {"file_id": "f"}}]}),
        "file_id",
        "messages.1.content.0",
        "messages.1.content.0.file.file_id",
        id="openai-user-file-id",
    ),
    pytest.param(
        wire_openai.parse_request,
        openai_body({"role": "assistant", "content": [TEXT, {"type": "future_part"}]}),
        "future_part",
        "messages.1.content.1",
        "messages.1.content.1.type",
        id="openai-assistant-future",
    ),
    pytest.param(
        wire_openai.parse_request,
        {"model": "m", "messages": [{"role": "system", "content": [{"type": 7}]}]},
        "`type` string",  # not a type at all: invalid, not untranslatable
        "messages.0.content.0",
        "messages.0.content.0.type",
        id="openai-system-non-string-type",
    ),
    pytest.param(
        wire_openai.parse_request,
        openai_body({"role": "tool", "tool_call_id": "c", "content": [AUDIO]}),
        "input_audio",
        "messages.1.content.0",
        "messages.1.content.0.type",
        id="openai-tool-result-audio",
    ),
    pytest.param(
        wire_anthropic.parse_request,
        anthropic_body(
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [TEXT, {"type": "search_result", "content": []}]},
        ),
        "search_result",
        "messages.2.content.1",
        "messages.2.content.1.type",
        id="anthropic-user-search-result",
    ),
    pytest.param(
        wire_anthropic.parse_request,
        anthropic_body(
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f"}]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t",
                        "content": [TEXT, {"type": "hologram", "frames": 3}],
                    }
                ],
            },
        ),
        "hologram",
        "messages.2.content.0.content.1",
        "messages.2.content.0.content.1.type",
        id="anthropic-tool-result-content",
    ),
    pytest.param(
        wire_anthropic.parse_request,
        anthropic_body(system=[TEXT, {"type": "image", "source": PDF}]),
        "image",
        "system.1",
        "system.1.type",
        id="anthropic-system-image",
    ),
    pytest.param(
        wire_anthropic.parse_request,
        anthropic_body({"role": "assistant", "content": [{"kind": "text"}]}),
        "must be a string",  # not a type at all: invalid, not untranslatable
        "messages.1.content.0",
        "messages.1.content.0.type",
        id="anthropic-block-without-type",
    ),
    pytest.param(
        wire_anthropic.parse_request,
        anthropic_body(
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "document", "source": FILE_SOURCE}]},
        ),
        "'file'",
        "messages.2.content.0.source.type",
        "messages.2.content.0.source.type",
        id="anthropic-document-file-id",
    ),
    pytest.param(
        wire_anthropic.parse_request,
        anthropic_body(
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "image", "source": {"type": "file"}}]},
        ),
        "'file'",
        "messages.2.content.0.source.type",
        "messages.2.content.0.source.type",
        id="anthropic-image-file-id",
    ),
    pytest.param(
        parse_gemini,
        gemini_body({"role": "model", "parts": [{"text": "run"}, CODE]}),
        "executableCode",
        "contents[1].parts[1]",
        "contents[1].parts[1].executableCode",
        id="gemini-model-code",
    ),
    pytest.param(
        parse_gemini,
        gemini_body({"role": "user", "parts": [{"thought": True, "futurePart": {}}]}),
        "futurePart",
        "contents[1].parts[0]",
        "contents[1].parts[0].futurePart",
        id="gemini-user-future",
    ),
    pytest.param(
        parse_gemini,
        gemini_body(systemInstruction={"parts": [{"text": "sys"}, {"inlineData": {"data": "A"}}]}),
        "inlineData",
        "systemInstruction.parts[1]",
        "systemInstruction.parts[1].inlineData",
        id="gemini-system-image",
    ),
]


@pytest.mark.parametrize(("parse", "body", "kind", "where", "param"), REFUSED)
def test_request_parts_not_translated_are_refused_by_type_and_place(
    parse: Any, body: dict[str, Any], kind: str, where: str, param: str
) -> None:
    with pytest.raises(WireFormatError) as caught:
        parse(body)
    assert caught.value.param == param
    assert kind in str(caught.value) and where in str(caught.value)


# ---- requests: dropped on purpose ---------------------------------------------------


def test_anthropic_drops_opaque_blocks_clients_send_back() -> None:
    assert {"redacted_thinking", "server_tool_use", "web_search_tool_result"} <= (
        wire_anthropic.DROPPED_PART_TYPES
    )
    assistant = [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "redacted_thinking", "data": "EmwKAhgB"},
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_1",
            "content": [{"type": "web_search_result", "url": "u", "encrypted_content": "E"}],
        },
        {"type": "text", "text": "found it"},
    ]
    request = wire_anthropic.parse_request(
        anthropic_body({"role": "assistant", "content": assistant})
    )
    assert request.messages[1] == Message(
        "assistant", [Reasoning("hmm", "sig", "anthropic"), Text("found it")]
    )


def test_anthropic_unknown_blocks_in_assistant_turns_are_dropped_and_named() -> None:
    """The model's own replayed output (a newer server tool's call and result) cannot
    mislead anyone by its absence: left out when translating, and named in `dropped`."""
    assistant = [
        {"type": "mcp_tool_use", "id": "m", "name": "lookup", "server_name": "s", "input": {}},
        {"type": "mcp_tool_result", "tool_use_id": "m", "content": [{"type": "text"}]},
        {"type": "text", "text": "done"},
    ]
    request = wire_anthropic.parse_request(
        anthropic_body({"role": "assistant", "content": assistant})
    )
    assert request.messages[1] == Message("assistant", [Text("done")])
    assert request.dropped == ["messages.1.content.0", "messages.1.content.1"]


def test_anthropic_text_documents_become_text() -> None:
    document = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "the notes"},
        "title": "notes.txt",
    }
    request = wire_anthropic.parse_request(
        anthropic_body(
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f"}]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t", "content": [document]}],
            },
        )
    )
    assert request.messages[2].content == [ToolResult("t", [Text("notes.txt\n\nthe notes")])]


def test_openai_drops_types_listed_as_droppable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert wire_openai.DROPPED_PART_TYPES == frozenset()  # none known yet: all are refused
    monkeypatch.setattr(openai_requests, "DROPPED_PART_TYPES", frozenset({"input_audio"}))
    request = wire_openai.parse_request(openai_body({"role": "user", "content": [TEXT, AUDIO]}))
    assert request.messages[1].content == [Text("see")]


def test_gemini_drops_metadata_only_parts_and_types_listed_as_droppable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert wire_gemini.DROPPED_PART_TYPES == frozenset()
    signature_only = {"thought": True, "thoughtSignature": "c2ln"}
    body = gemini_body({"role": "model", "parts": [{"text": "ok"}, signature_only]})
    assert parse_gemini(body).messages[1] == Message("assistant", [Text("ok")])
    monkeypatch.setattr(gemini_requests, "DROPPED_PART_TYPES", frozenset({"executableCode"}))
    body = gemini_body({"role": "model", "parts": [{"text": "run"}, CODE]})
    assert parse_gemini(body).messages[1] == Message("assistant", [Text("run")])


# ---- responses and streams: skipped, the rest intact --------------------------------


def test_openai_response_skips_unknown_parts() -> None:
    body = {
        "id": "chatcmpl-1",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "a"},
                        {"type": "thinking", "thinking": [{"type": "text", "text": "t"}]},
                        {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
                        {"type": "future_part"},
                        "not even an object",
                        {"type": "text", "text": "b"},
                    ],
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
            }
        ],
    }
    response = wire_openai.parse_response(body)
    assert response.content == [Text("a"), Text("b"), ToolCall("c1", "f", {})]
    assert response.stop_reason == "tool_use"


def openai_chunk(delta: dict[str, Any], finish: str | None = None) -> SSEEvent:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return SSEEvent(json.dumps({"id": "c", "model": "m", "choices": [choice]}))


def test_openai_stream_skips_unknown_parts() -> None:
    parser = wire_openai.StreamParser()
    events: list[StreamEvent] = []
    for event in [
        openai_chunk({"role": "assistant", "content": "a"}),
        openai_chunk({"content": [{"type": "future_part", "x": 1}, {"type": "text", "text": "b"}]}),
        openai_chunk({"future_field": {"type": "text", "text": "no"}, "content": "c"}),
        openai_chunk({}, "stop"),
        SSEEvent("[DONE]"),
    ]:
        events += parser.feed(event)
    assert events == [
        StreamStart("c", "m"),
        TextDelta("a"),
        TextDelta("b"),
        TextDelta("c"),
        StreamEnd("end_turn", None),
    ]


def test_anthropic_response_skips_unknown_blocks() -> None:
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [
            {"type": "redacted_thinking", "data": "E"},
            {"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}},
            {"type": "web_search_tool_result", "tool_use_id": "s", "content": []},
            {"type": "future_block", "text": 5},
            {"type": "text", "text": "a"},
            {"type": "tool_use", "id": "t", "name": "f", "input": {"x": 1}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 1, "output_tokens": 2},
    }
    response = wire_anthropic.parse_response(body)
    assert response.content == [Text("a"), ToolCall("t", "f", {"x": 1})]


def anthropic_event(data: dict[str, Any]) -> SSEEvent:
    return SSEEvent(json.dumps(data), data["type"])


def test_anthropic_stream_skips_unknown_blocks() -> None:
    message = {"id": "msg_1", "model": "m", "usage": {"input_tokens": 3, "output_tokens": 0}}
    parser = wire_anthropic.StreamParser()
    events: list[StreamEvent] = []
    for data in [
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "future_block"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "future_delta", "x": 1}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "a"}},
        {"type": "content_block_stop", "index": 1},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 1},
        },
        {"type": "message_stop"},
    ]:
        events += parser.feed(anthropic_event(data))
    assert [type(e) for e in events] == [StreamStart, TextDelta, StreamEnd]
    assert events[1] == TextDelta("a") and events[2].stop_reason == "end_turn"  # type: ignore[union-attr]


UNKNOWN_GEMINI_PARTS = [
    {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
    {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1"}},
    {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}},
    {"futurePart": {}},
    {"thoughtSignature": "c2ln"},
]


def gemini_reply(parts: list[Any], finish: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "responseId": "r", "modelVersion": "m"}


def test_gemini_response_skips_unknown_parts() -> None:
    call = {"functionCall": {"id": "c", "name": "f", "args": {"x": 1}}}
    body = gemini_reply([{"text": "a"}, *UNKNOWN_GEMINI_PARTS, call], "STOP")
    response = wire_gemini.parse_response(body)
    # a bare signature is kept (as Reasoning): the upstream wants it back on the next turn
    assert response.content == [
        Text("a"),
        Reasoning("", "c2ln", "gemini"),
        ToolCall("c", "f", {"x": 1}),
    ]
    assert response.stop_reason == "tool_use"


def test_gemini_stream_skips_unknown_parts() -> None:
    parser = wire_gemini.StreamParser(model="m")
    events: list[StreamEvent] = []
    for parts, finish in [
        ([{"text": "a"}], None),
        (UNKNOWN_GEMINI_PARTS, None),
        ([{"text": "b"}, {"functionCall": {"id": "c", "name": "f", "args": {}}}], "STOP"),
    ]:
        events += parser.feed(SSEEvent(json.dumps(gemini_reply(parts, finish))))
    events += parser.close()
    assert events == [
        StreamStart("r", "m"),
        TextDelta("a"),
        ReasoningDelta("", "c2ln", "gemini"),
        TextDelta("b"),
        ToolCallStart(0, "c", "f"),
        ToolCallDelta(0, "{}"),
        StreamEnd("tool_use", None),
    ]
