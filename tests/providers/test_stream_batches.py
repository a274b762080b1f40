"""Stream events grouped by upstream read: one batch per read, in order, with an error
mid-read arriving after the events decoded before it.

The upstream body is an async generator, so the test, not TCP, decides where reads split.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from cherry_nb import _exceptions as errors
from cherry_nb.config.models import Provider
from cherry_nb.providers.client import UpstreamClient
from cherry_nb.providers.openai import OpenAIAdapter
from cherry_nb.wire.neutral import StreamEnd, StreamEvent, StreamStart, TextDelta

URL = "http://upstream.invalid/v1/chat/completions"


def chunk(text: str) -> bytes:
    body = {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": text}}]}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


async def batches_of(*reads: bytes) -> AsyncIterator[list[StreamEvent]]:
    """`iter_batches` over a response whose body arrives as exactly `reads`."""

    async def body() -> AsyncIterator[bytes]:
        for read in reads:
            yield read

    provider = Provider.model_validate(
        {"id": "up", "type": "openai", "base_url": "http://upstream.invalid/v1"}
    )
    response = httpx.Response(
        200,
        headers={"content-type": "text/event-stream"},
        content=body(),
        request=httpx.Request("POST", URL),
    )
    async with UpstreamClient() as client:
        async for batch in OpenAIAdapter(provider, client).iter_batches(response, "m"):
            yield batch


async def test_one_batch_per_read_in_order() -> None:
    reads = (chunk("a") + chunk("b"), chunk("c") + b"data: [DONE]\n\n")
    batches = [batch async for batch in batches_of(*reads)]
    assert [[type(e) for e in batch] for batch in batches] == [
        [StreamStart, TextDelta, TextDelta],
        [TextDelta, StreamEnd],
    ]
    texts = [[e.text for e in batch if isinstance(e, TextDelta)] for batch in batches]
    assert texts == [["a", "b"], ["c"]]


async def test_an_error_mid_read_comes_after_the_events_before_it() -> None:
    received: list[list[StreamEvent]] = []
    with pytest.raises(errors.BadResponseError):
        async for batch in batches_of(chunk("a") + chunk("b") + b"data: {not json\n\n"):
            received.append(batch)
    assert [[type(e) for e in batch] for batch in received] == [[StreamStart, TextDelta, TextDelta]]
