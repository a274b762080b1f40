"""Stream events grouped by upstream read: the same events, in the same order, with an
error mid-read arriving after the events decoded before it."""

from __future__ import annotations

import asyncio
import json

import pytest

from cherry_nb import _exceptions as errors
from cherry_nb.config.models import Provider
from cherry_nb.providers.pool import AdapterPool
from cherry_nb.wire.neutral import ChatRequest, Message, StreamEnd, StreamStart, Text, TextDelta

from .scripted import Scripted


def chunk(text: str) -> bytes:
    body = {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": text}}]}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def sse_reply(*writes: bytes) -> bytes:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    return head + b"".join(b"%x\r\n%s\r\n" % (len(w), w) for w in writes) + b"0\r\n\r\n"


def upstream(reply: bytes) -> Scripted:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply)
        await writer.drain()

    return Scripted(handle)


def provider(server: Scripted) -> Provider:
    return Provider.model_validate(
        {"id": "up", "type": "openai", "base_url": f"http://127.0.0.1:{server.port}/v1"}
    )


REQUEST = ChatRequest(model="m", messages=[Message("user", [Text("hi")])], stream=True)


async def test_batches_hold_the_events_of_one_read_in_order() -> None:
    reply = sse_reply(chunk("a") + chunk("b"), chunk("c") + b"data: [DONE]\n\n")
    pool = AdapterPool()
    async with upstream(reply) as server:
        try:
            adapter = pool.adapter(provider(server))
            batches = [batch async for batch in adapter.stream_batches(REQUEST)]
            events = [event async for event in adapter.stream(REQUEST)]
        finally:
            await pool.aclose()
    assert all(batches)
    flat = [event for batch in batches for event in batch]
    assert [type(e) for e in flat] == [type(e) for e in events]
    assert isinstance(flat[0], StreamStart)
    assert [e.text for e in flat if isinstance(e, TextDelta)] == ["a", "b", "c"]
    assert isinstance(flat[-1], StreamEnd)


async def test_an_error_mid_read_comes_after_the_events_before_it() -> None:
    pool = AdapterPool()
    received = []
    async with upstream(sse_reply(chunk("a") + chunk("b") + b"data: {not json\n\n")) as server:
        try:
            adapter = pool.adapter(provider(server))
            with pytest.raises(errors.BadResponseError):
                async for event in adapter.stream(REQUEST):
                    received.append(event)
        finally:
            await pool.aclose()
    assert [e.text for e in received if isinstance(e, TextDelta)] == ["a", "b"]
