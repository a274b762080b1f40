"""Usage read from passthrough bytes: every format, any chunking, never fooled by text."""

from __future__ import annotations

import json

import pytest

from cherry_nb.wire import usage_scan
from cherry_nb.wire.neutral import Usage
from cherry_nb.wire.usage_scan import StreamUsage, reply_usage


def _sse(*events: dict[str, object], done: bool = False) -> bytes:
    out = b"".join(f"data: {json.dumps(event)}\n\n".encode() for event in events)
    return out + (b"data: [DONE]\n\n" if done else b"")


OPENAI_STREAM = _sse(
    {"choices": [{"delta": {"content": 'say "usage": {"prompt_tokens": 99}'}}], "usage": None},
    {"choices": [{"delta": {}, "finish_reason": "stop"}], "usage": None},
    {
        "choices": [],
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": 5,
            "prompt_tokens_details": {"cached_tokens": 4},
            "completion_tokens_details": {"reasoning_tokens": 2},
        },
    },
    done=True,
)
ANTHROPIC_STREAM = (
    b"event: message_start\n"
    + _sse(
        {
            "type": "message_start",
            "message": {
                "usage": {
                    "input_tokens": 7,
                    "cache_read_input_tokens": 3,
                    "cache_creation_input_tokens": 2,
                    "output_tokens": 1,
                }
            },
        }
    )
    + b"event: content_block_delta\n"
    + _sse({"type": "content_block_delta", "delta": {"type": "text_delta", "text": '"usage"'}})
    + b"event: message_delta\n"
    + _sse({"type": "message_delta", "usage": {"output_tokens": 9}})
)
RESPONSES_STREAM = _sse(
    {"type": "response.created", "response": {"usage": None}},
    {"type": "response.output_text.delta", "delta": "usage"},
    {
        "type": "response.completed",
        "response": {
            "output": [{"type": "message", "content": [{"text": '"usage":{"input_tokens":1}'}]}],
            "usage": {
                "input_tokens": 20,
                "input_tokens_details": {"cached_tokens": 8},
                "output_tokens": 6,
                "output_tokens_details": {"reasoning_tokens": 4},
            },
        },
    },
)
EXPECTED = {
    "openai": (OPENAI_STREAM, Usage(12, 5, 4, None, 2)),
    "anthropic": (ANTHROPIC_STREAM, Usage(12, 9, 3, 2, None)),
    "responses": (RESPONSES_STREAM, Usage(20, 6, 8, None, 4)),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("size", [1, 2, 3, 5, 17, 64, 10_000])
def test_a_stream_in_any_chunking(name: str, size: int) -> None:
    data, expected = EXPECTED[name]
    scanner = StreamUsage(name)
    for at in range(0, len(data), size):
        scanner.feed(data[at : at + size])
    assert scanner.usage() == expected


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_crlf_line_endings(name: str) -> None:
    data, expected = EXPECTED[name]
    scanner = StreamUsage(name)
    scanner.feed(data.replace(b"\n", b"\r\n"))
    assert scanner.usage() == expected


def test_a_stream_that_states_no_usage() -> None:
    scanner = StreamUsage("openai")
    scanner.feed(_sse({"choices": [{"delta": {"content": "hi"}}]}, done=True))
    assert scanner.usage() is None


def test_only_lines_stating_usage_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = usage_scan.loads

    def counting(text: str) -> object:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(usage_scan, "loads", counting)
    scanner = StreamUsage("openai")
    scanner.feed(OPENAI_STREAM)
    assert len(parsed) == 1 and '"completion_tokens": 5' in parsed[0]


def test_an_endless_line_is_not_held(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(usage_scan, "MAX_EVENT_BYTES", 100)
    scanner = StreamUsage("openai")
    scanner.feed(b'data: {"usage": {"prompt_tokens": 1, "text": "')
    for _ in range(10):
        scanner.feed(b"x" * 50)
    assert scanner._open is None  # dropped, not grown
    scanner.feed(b'"}}\n\n' + OPENAI_STREAM)  # the next lines are read again
    assert scanner.usage() == EXPECTED["openai"][1]


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        (
            "openai",
            {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}},
            Usage(3, 4),
        ),
        (
            "anthropic",
            {"content": [], "usage": {"input_tokens": 3, "output_tokens": 4}},
            Usage(3, 4),
        ),
        (
            "responses",
            {"output": [], "usage": {"input_tokens": 3, "output_tokens": 4}},
            Usage(3, 4),
        ),
        ("openai", {"choices": []}, None),
        (  # the last "usage" is not the reply's: the whole reply is read
            "responses",
            {"usage": {"input_tokens": 3, "output_tokens": 4}, "metadata": {"usage": "x"}},
            Usage(3, 4),
        ),
    ],
)
def test_a_whole_reply(name: str, body: dict[str, object], expected: Usage | None) -> None:
    assert reply_usage(name, json.dumps(body).encode()) == expected


def test_a_reply_that_is_not_json_states_nothing() -> None:
    assert reply_usage("openai", b'<html>"usage"</html>') is None
