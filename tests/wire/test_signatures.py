"""A reasoning signature reaches only the provider family that made it: every reader
records its origin, every builder sends it to that format alone, and a client of another
format gets it tagged with its origin so that it can be told apart when it comes back."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from cherry_nb.wire import anthropic, gemini, responses
from cherry_nb.wire._signatures import read_signature, write_signature
from cherry_nb.wire.neutral import (
    ChatResponse,
    Reasoning,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    StreamStart,
    Text,
    ToolCall,
    Usage,
)
from cherry_nb.wire.sse import SSEParser

ANTHROPIC_SIG = "EqQBCkgIBxABGAIqQFZ3cmlnaHQgc2lnbmF0dXJlIGJ5dGVz"
OPENAI_ENC = "gAAAAABo-encrypted-reasoning"
CALL = {"type": "tool_use", "id": "c1", "name": "get", "input": {"q": 1}}
RESULT = {"type": "tool_result", "tool_use_id": "c1", "content": "sunny"}


@pytest.mark.parametrize("origin", ["anthropic", "gemini", "responses"])
@pytest.mark.parametrize("own", ["anthropic", "gemini", "responses"])
def test_a_signature_and_its_origin_round_trip_through_any_client(origin: str, own: str) -> None:
    written = write_signature(Reasoning("", ANTHROPIC_SIG, origin), own)
    assert written is not None
    assert (written == ANTHROPIC_SIG) is (origin == own)
    assert read_signature(written, own) == (ANTHROPIC_SIG, origin)


def test_a_tagged_signature_stays_base64() -> None:
    """Gemini's SDKs hold thoughtSignature as bytes: the tag must decode and re-encode
    to itself, so the signature comes back as it was sent."""
    tagged = write_signature(Reasoning("", ANTHROPIC_SIG, "anthropic"), "gemini")
    assert tagged is not None and tagged != ANTHROPIC_SIG
    assert base64.b64encode(base64.b64decode(tagged)).decode() == tagged


def test_untagged_and_missing_signatures() -> None:
    assert read_signature("cherrynbzzzzsig", "gemini") == ("cherrynbzzzzsig", "gemini")
    assert read_signature("", "anthropic") == (None, None)
    assert read_signature(None, "anthropic") == (None, None)
    assert write_signature(Reasoning("text only"), "anthropic") is None
    assert write_signature(Reasoning("", "raw", None), "gemini") == "raw"


def anthropic_tool_turn(thinking: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": "m",
        "max_tokens": 100,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "messages": [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [thinking, CALL]},
            {"role": "user", "content": [RESULT]},
        ],
    }


def test_anthropic_signature_never_reaches_gemini() -> None:
    thinking = {"type": "thinking", "thinking": "check", "signature": ANTHROPIC_SIG}
    request = anthropic.parse_request(anthropic_tool_turn(thinking))
    request.model = "gemini-3-pro-preview"
    parts = gemini.build_request(request)["contents"][1]["parts"]
    assert ANTHROPIC_SIG not in str(parts)
    assert parts[0]["thoughtSignature"] == "skip_thought_signature_validator"


def responses_tool_turn(encrypted: str) -> dict[str, Any]:
    return {
        "model": "m",
        "reasoning": {"effort": "low"},
        "input": [
            {"role": "user", "content": "weather?"},
            {"type": "reasoning", "summary": [], "encrypted_content": encrypted},
            {"type": "function_call", "call_id": "c1", "name": "get", "arguments": '{"q":1}'},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        ],
    }


def test_openai_encrypted_reasoning_never_reaches_anthropic() -> None:
    request = responses.parse_request(responses_tool_turn(OPENAI_ENC))
    body = anthropic.build_request(request)
    assert [b["type"] for b in body["messages"][1]["content"]] == ["tool_use"]
    # Anthropic wants its own signed thinking first on that turn: thinking stays off
    assert "thinking" not in body and "reasoning_effort" in request.dropped


def test_anthropic_signature_round_trips_through_a_responses_client() -> None:
    """Claude's signed thinking reaches a Responses client as encrypted_content (tagged);
    sent back in the next request's input, it reaches Anthropic as it was."""
    reply = ChatResponse(
        "msg_1",
        "claude",
        [Reasoning("check", ANTHROPIC_SIG, "anthropic"), ToolCall("c1", "get", {"q": 1})],
        "tool_use",
        Usage(10, 5),
    )
    item = responses.build_response(reply)["output"][0]
    assert item["type"] == "reasoning" and item["encrypted_content"] != ANTHROPIC_SIG
    request = responses.parse_request(responses_tool_turn(item["encrypted_content"]))
    body = anthropic.build_request(request)
    assert body["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": "",
        "signature": ANTHROPIC_SIG,
    }
    assert body["thinking"]["type"] == "enabled"


def sse_events(data: bytes) -> list[Any]:
    return SSEParser().feed(data)


def test_responses_stream_carries_a_signature_both_ways() -> None:
    events: list[StreamEvent] = [
        StreamStart("msg_1", "claude"),
        ReasoningDelta("check"),
        ReasoningDelta("", ANTHROPIC_SIG, "anthropic"),
        StreamEnd("end_turn", Usage(10, 5)),
    ]
    writer = responses.StreamWriter()
    data = b"".join(writer.write(e) for e in events)
    parser = responses.StreamParser()
    back = [n for e in sse_events(data) for n in parser.feed(e)] + parser.close()
    assert ReasoningDelta("", ANTHROPIC_SIG, "anthropic") in back
    assert b'"encrypted_content":"cherrynbanth' in data


def test_gemini_client_gets_anthropic_signature_tagged_and_anthropic_gets_it_back() -> None:
    reply = ChatResponse(
        "msg_1",
        "claude",
        [Reasoning("check", ANTHROPIC_SIG, "anthropic"), Text("done")],
        "end_turn",
        Usage(10, 5),
    )
    parts = gemini.build_response(reply)["candidates"][0]["content"]["parts"]
    assert parts[0]["thoughtSignature"] != ANTHROPIC_SIG
    contents = [
        {"role": "user", "parts": [{"text": "hi"}]},
        {"role": "model", "parts": parts},
        {"role": "user", "parts": [{"text": "more"}]},
    ]
    request = gemini.parse_request({"contents": contents}, model="m")
    assert request.messages[1].content[0] == Reasoning("check", ANTHROPIC_SIG, "anthropic")
