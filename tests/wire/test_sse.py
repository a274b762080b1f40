"""SSE framing: the events the HTML standard's parsing rules give, however the bytes arrive."""

from __future__ import annotations

import pytest

from cherry_nb.wire.sse import SSEEvent, SSEParser, encode_sse

E = SSEEvent
CASES: dict[str, tuple[bytes, list[SSEEvent]]] = {
    "LF": (b'data: {"a":1}\n\ndata: [DONE]\n\n', [E('{"a":1}'), E("[DONE]")]),
    "CRLF": (b"data: x\r\n\r\ndata: y\r\n\r\n", [E("x"), E("y")]),
    "CR": (b"data: x\r\rdata: y\r\r", [E("x"), E("y")]),
    "mixed endings": (b"data: a\r\n\ndata: b\r\rdata: c\n\r\n", [E("a"), E("b"), E("c")]),
    "event names": (
        b"event: message_start\ndata: {}\n\nevent: ping\ndata: {}\n\ndata: plain\n\n",
        [E("{}", "message_start"), E("{}", "ping"), E("plain")],
    ),
    "multi-line data": (b"data: one\ndata: two\ndata:three\n\n", [E("one\ntwo\nthree")]),
    "one space only is stripped": (b"data:  two spaces\n\n", [E(" two spaces")]),
    "data with no colon": (b"data\ndata\n\n", [E("\n")]),
    "empty data": (b"data:\n\n", [E("")]),
    "comments and other fields": (
        b": keep-alive\nid: 7\nretry: 10\ndata: x\n:\n\n",
        [E("x")],
    ),
    "blank lines without data": (b"\n\n\nevent: e\n\n\ndata: x\n\n", [E("x")]),
    "event name reset after each event": (
        b"event: a\ndata: 1\n\ndata: 2\n\n",
        [E("1", "a"), E("2")],
    ),
    "UTF-8": ("data: héllo 世界 🎉\n\n".encode(), [E("héllo 世界 🎉")]),
    "invalid UTF-8": (b"data: a\xffb\n\n", [E("a\ufffdb")]),
    "last event without a blank line": (b"data: x\n\ndata: tail", [E("x"), E("tail")]),
}


def parse(pieces: list[bytes]) -> list[SSEEvent]:
    parser = SSEParser()
    events = [event for piece in pieces for event in parser.feed(piece)]
    return events + parser.close()


@pytest.mark.parametrize("name", CASES)
def test_whole(name: str) -> None:
    raw, expected = CASES[name]
    assert parse([raw]) == expected


@pytest.mark.parametrize("name", CASES)
def test_split_anywhere(name: str) -> None:
    raw, expected = CASES[name]
    for cut in range(1, len(raw)):
        assert parse([raw[:cut], raw[cut:]]) == expected, cut
    assert parse([raw[i : i + 1] for i in range(len(raw))]) == expected


def test_events_come_out_as_soon_as_they_end() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\n") == []
    assert parser.feed(b"\ndata: b") == [E("a")]
    assert parser.feed(b"\n\n") == [E("b")]


def test_encode_round_trips() -> None:
    raw = encode_sse('{"x": 1}') + encode_sse("{}", "message_stop")
    assert parse([raw]) == [E('{"x": 1}'), E("{}", "message_stop")]
