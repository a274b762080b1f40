"""A translated stream is written a read's worth of events at a time: the bytes are
the ones event-by-event writing gives, and an error mid-read still ends the stream
after the events before it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.app import create_app
from cherry_nb.wire import anthropic as wire_anthropic
from cherry_nb.wire import openai as wire_openai
from cherry_nb.wire.neutral import StreamStart
from cherry_nb.wire.sse import SSEParser

from ..providers.scripted import Scripted

KEY = "cs-sk-relay-test-0123456789"


def chunk(text: str, finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": {"content": text}, "finish_reason": finish}
    body = {"id": "c1", "model": "upstream-model", "choices": [choice]}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


GOOD = [chunk("Hello") + chunk(", "), chunk("world", "stop") + b"data: [DONE]\n\n"]
BROKEN = [chunk("Hello") + chunk(", ") + b"data: {not json\n\n"]


@pytest.fixture
async def upstream(request: pytest.FixtureRequest) -> AsyncIterator[int]:
    writes: list[bytes] = request.param

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        for data in writes:
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.write(b"0\r\n\r\n")

    async with Scripted(handle) as server:
        yield server.port


async def translated(tmp_path: Path, port: int) -> bytes:
    registry = ProviderRegistry(tmp_path / "config.json")
    registry.add(
        id="up", name="Up", type="openai", base_url=f"http://127.0.0.1:{port}/v1", models=["m"]
    )
    app = create_app(registry, api_key=KEY)
    async with app.test_app():
        response = await app.test_client().post(
            "/v1/messages",
            headers={"x-api-key": KEY},
            json={
                "model": "up:m",
                "max_tokens": 100,
                "stream": True,
                "messages": [{"role": "user", "content": "hi"}],
            },
        )
        assert response.status_code == 200
        return await response.get_data()


def one_event_at_a_time(writes: list[bytes]) -> bytes:
    sse, parser, writer = SSEParser(), wire_openai.StreamParser(), wire_anthropic.StreamWriter()
    out = b""
    for data in writes:
        for event in sse.feed(data):
            for item in parser.feed(event):
                if isinstance(item, StreamStart):
                    item.model = "up:m"
                out += writer.write(item)
    for item in parser.close():
        out += writer.write(item)
    return out


@pytest.mark.parametrize("upstream", [GOOD], indirect=True)
async def test_the_bytes_are_those_of_event_by_event_writing(tmp_path: Path, upstream: int) -> None:
    body = await translated(tmp_path, upstream)
    assert body == one_event_at_a_time(GOOD)
    assert body.count(b"event: content_block_delta") == 3
    assert body.endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')


@pytest.mark.parametrize("upstream", [BROKEN], indirect=True)
async def test_an_error_mid_read_ends_the_stream_after_what_came_before(
    tmp_path: Path, upstream: int
) -> None:
    body = await translated(tmp_path, upstream)
    assert body.count(b"event: content_block_delta") == 2
    assert body.index(b'"text":", "') < body.index(b"event: error")
    assert body.rstrip().endswith(b"}")
    assert b"message_stop" not in body


def test_a_terminal_marker_is_found_at_every_split_point() -> None:
    # A passthrough stream is complete when its terminal event shows, wherever the
    # upstream's reads split it; text that only mentions it does not count.
    from cherry_nb.gateway.relay import _TERMINAL, holds_marker

    markers = _TERMINAL["responses"]
    stream = (
        b'data: {"delta":"x"}\n\nevent: response.completed\ndata: {"type":"response.completed"}\n\n'
    )
    for cut in range(len(stream) + 1):
        for pieces in (
            [stream[:cut], stream[cut:]],
            [stream[:cut], stream[cut : cut + 3], stream[cut + 3 :]],
        ):
            carry, found = b"", False
            for piece in pieces:
                hit, carry = holds_marker(carry, piece, markers)
                found = found or hit
            assert found, cut
    text = b'data: {"delta":"say \\"response.completed\\""}\n\n'
    assert not holds_marker(b"", text, markers)[0]
