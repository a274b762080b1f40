"""Retry, backoff and error mapping at the httpx boundary, provoked for real."""

from __future__ import annotations

import socket
import time

import pytest

from cherry_nb import _exceptions as errors
from cherry_nb.providers.pool import AdapterPool
from cherry_nb.providers.transport import RetryPolicy
from cherry_nb.wire.neutral import ChatRequest, Message, StreamStart, Text, TextDelta


def ask(text: str = "hi", **kwargs: object) -> ChatRequest:
    return ChatRequest(model="sim-chat", messages=[Message("user", [Text(text)])], **kwargs)


@pytest.fixture
async def pool():
    pool = AdapterPool(policy=RetryPolicy(attempts=3, backoff=0.01, max_retry_after=2))
    yield pool
    await pool.aclose()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_429_is_retried_honouring_retry_after(make_provider, pool, sim):
    sim.script(fail=429, retry_after=0.3, count=1)
    started = time.perf_counter()
    reply = await pool.adapter(make_provider("openai")).chat(ask())
    assert "hi" in reply.text
    assert time.perf_counter() - started >= 0.3
    assert [r.path for r in sim.requests].count("/v1/chat/completions") == 2


async def test_429_with_long_retry_after_fails_at_once(make_provider, pool, sim):
    sim.script(fail=429, retry_after=60, count=1)
    with pytest.raises(errors.RateLimitError) as caught:
        await pool.adapter(make_provider("anthropic")).chat(ask())
    assert caught.value.retry_after == 60
    assert caught.value.status == 429


@pytest.mark.parametrize("provider_type", ["openai", "anthropic", "gemini", "azure-openai"])
async def test_500_is_retried_then_reported(provider_type, make_provider, pool, sim):
    sim.script(fail=500, count=3)
    with pytest.raises(errors.UpstreamError) as caught:
        await pool.adapter(make_provider(provider_type)).chat(ask())
    assert caught.value.status == 500
    chats = [r for r in sim.requests if r.method == "POST"]
    assert len(chats) == 3


async def test_connection_refused_is_a_network_error(make_provider, pool):
    provider = make_provider("openai", base_url=f"http://127.0.0.1:{closed_port()}/v1")
    with pytest.raises(errors.NetworkError) as caught:
        await pool.adapter(provider).chat(ask())
    assert "refused" in caught.value.message


@pytest.mark.parametrize("provider_type", ["openai", "anthropic", "gemini", "azure-openai"])
async def test_drop_mid_stream_is_not_retried(provider_type, make_provider, pool, sim):
    adapter = pool.adapter(make_provider(provider_type))
    received = []
    with pytest.raises(errors.NetworkError) as caught:
        async for event in adapter.stream(
            ask("[[sim:words=50]] [[sim:drop_after=5]]", stream=True)
        ):
            received.append(event)
    assert "dropped" in caught.value.message
    assert [type(e) for e in received] == [StreamStart] + [TextDelta] * 5
    assert [r.method for r in sim.requests].count("POST") == 1


async def test_read_timeout_is_reported(make_provider, sim):
    import httpx

    pool = AdapterPool(timeout=httpx.Timeout(5.0, read=0.2), policy=RetryPolicy(attempts=1))
    try:
        sim.script(delay=1.0, count=1)
        with pytest.raises(errors.UpstreamTimeoutError):
            await pool.adapter(make_provider("openai")).chat(ask())
    finally:
        await pool.aclose()


async def test_wrong_key_is_authentication_error_without_the_key(make_provider, pool):
    secret = "sk-wrong-SECRET-0123456789abcdef"
    with pytest.raises(errors.AuthenticationError) as caught:
        await pool.adapter(make_provider("openai", api_key=secret)).chat(ask())
    assert secret not in str(caught.value)
    assert caught.value.status == 401


async def test_gemini_bad_key_400_is_authentication_error(make_provider, pool):
    with pytest.raises(errors.AuthenticationError):
        await pool.adapter(make_provider("gemini", api_key="wrong-key-123456")).chat(ask())


@pytest.mark.parametrize("provider_type", ["openai", "anthropic", "gemini", "azure-openai"])
async def test_unknown_model_is_model_not_found(provider_type, make_provider, pool):
    request = ask()
    request.model = "no-such-model"
    with pytest.raises(errors.ModelNotFoundError) as caught:
        await pool.adapter(make_provider(provider_type)).chat(request)
    assert caught.value.model == "no-such-model"


async def test_html_page_is_bad_response(make_provider, pool, sim):
    sim.script(html=True, count=1)
    with pytest.raises(errors.BadResponseError) as caught:
        await pool.adapter(make_provider("openai")).chat(ask())
    assert "HTML" in caught.value.message


async def test_duplicated_path_is_not_found(make_provider, pool, sim):
    provider = make_provider("openai", base_url=sim.base_url("openai") + "/v1#")
    with pytest.raises(errors.NotFoundError) as caught:
        await pool.adapter(provider).chat(ask())
    assert not isinstance(caught.value, errors.ModelNotFoundError)
    assert "/v1/v1/chat/completions" in (caught.value.url or "")
