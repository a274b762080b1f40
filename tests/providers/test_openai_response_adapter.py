"""The `openai-response` adapter against the simulator's Responses route over real HTTP:
what it sends, structured output, reasoning, cached tokens and upstream errors."""

from __future__ import annotations

import json

import pytest

from cherry_nb._exceptions import AuthenticationError, RateLimitError, WireFormatError
from cherry_nb.providers.openai_response import OpenAIResponseAdapter
from cherry_nb.providers.pool import AdapterPool
from cherry_nb.providers.transport import RetryPolicy
from cherry_nb.wire.accumulate import ResponseAccumulator
from cherry_nb.wire.neutral import (
    ChatRequest,
    Message,
    Reasoning,
    ReasoningDelta,
    ResponseFormat,
    Text,
)

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "rank": {"type": "integer", "minimum": 3}},
    "required": ["city", "rank"],
    "additionalProperties": False,
}


@pytest.fixture
async def pool():
    pool = AdapterPool(policy=RetryPolicy(attempts=1, backoff=0.01))
    yield pool
    await pool.aclose()


@pytest.fixture
def adapter(make_provider, pool) -> OpenAIResponseAdapter:
    adapter = pool.adapter(make_provider("openai-response"))
    assert isinstance(adapter, OpenAIResponseAdapter)
    return adapter


def ask(text: str, **kwargs: object) -> ChatRequest:
    return ChatRequest(model="sim-chat", messages=[Message("user", [Text(text)])], **kwargs)


async def test_sends_a_stateless_responses_request(adapter, sim):
    await adapter.chat(ask("hi", system="Be brief.", max_tokens=30, temperature=0.5))
    sent = sim.requests[-1]
    assert sent.path == "/v1/responses"
    assert sent.headers["authorization"].startswith("Bearer ")
    assert sent.json == {
        "model": "sim-chat",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
        ],
        "instructions": "Be brief.",
        "max_output_tokens": 30,
        "temperature": 0.5,
        "store": False,
    }


@pytest.mark.parametrize("stream", [False, True])
async def test_structured_output_fits_the_schema(adapter, sim, stream):
    fmt = ResponseFormat("json_schema", SCHEMA, name="place", strict=True)
    request = ask("Where?", response_format=fmt, stream=stream)
    if stream:
        acc = ResponseAccumulator()
        async for event in adapter.stream(request):
            acc.add(event)
        text = acc.text
    else:
        text = (await adapter.chat(request)).text
    assert json.loads(text) == {"city": "example", "rank": 3}
    assert sim.requests[-1].json["text"] == {
        "format": {"type": "json_schema", "name": "place", "schema": SCHEMA, "strict": True}
    }


async def test_reasoning_effort_brings_reasoning(adapter):
    reply = await adapter.chat(ask("Think", reasoning_effort="high"))
    reasoning = [p for p in reply.content if isinstance(p, Reasoning)]
    assert reasoning and reasoning[0].text.startswith("The user wrote 1 words")
    assert reply.usage.reasoning_tokens and reply.usage.reasoning_tokens > 0
    events = [e async for e in adapter.stream(ask("Think", reasoning_effort="low", stream=True))]
    assert any(isinstance(e, ReasoningDelta) for e in events)


async def test_cached_tokens_are_reported(adapter):
    reply = await adapter.chat(ask("word " * 1000))
    assert reply.usage.input_tokens == 1250
    assert reply.usage.cache_read_tokens == 1152


async def test_max_tokens_stop_reason(adapter):
    reply = await adapter.chat(ask("[[sim:words=40]]", max_tokens=5))
    assert reply.stop_reason == "max_tokens"


async def test_upstream_errors_are_mapped(adapter, sim, make_provider, pool):
    sim.script(fail=429, retry_after=0)
    with pytest.raises(RateLimitError):
        await adapter.chat(ask("hi"))
    wrong = pool.adapter(
        make_provider("openai-response", id="wrong", api_key="sk-wrong-key-123456")
    )
    with pytest.raises(AuthenticationError) as caught:
        await wrong.chat(ask("hi"))
    assert "sk-wrong-key-123456" not in str(caught.value)


async def test_n_above_one_is_refused_before_sending(adapter, sim):
    before = len(sim.requests)
    with pytest.raises(WireFormatError, match="one reply per request"):
        await adapter.chat(ask("hi", n=2))
    assert len(sim.requests) == before
