"""Per-key health and the per-provider concurrency limit, provoked over real HTTP.

Whether a retry waited is seen by counting calls of the transport's one backoff
function, never by timing.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import ValidationError

from cherry_nb import _exceptions as errors
from cherry_nb.config.models import Provider
from cherry_nb.providers import key_health, transport
from cherry_nb.providers.key_health import (
    QUOTA_COOLDOWN,
    RATE_LIMIT_COOLDOWN,
    KeyState,
    verdict,
)
from cherry_nb.providers.pool import AdapterPool
from cherry_nb.simulator import Simulator
from cherry_nb.wire.neutral import ChatRequest, Message, Text

KEY_A = "sim-key-aaaa-0123456789"
KEY_B = "sim-key-bbbb-0123456789"
AUTH_HEADERS = ("authorization", "x-api-key", "x-goog-api-key", "api-key")


def ask(text: str = "hi", **kwargs: object) -> ChatRequest:
    return ChatRequest(model="sim-chat", messages=[Message("user", [Text(text)])], **kwargs)


def key_of(headers: dict[str, str]) -> str:
    for name in AUTH_HEADERS:
        if name in headers:
            value = headers[name]
            return value[7:] if value.lower().startswith("bearer ") else value
    raise AssertionError(f"no key in {sorted(headers)}")


def chat_keys(sim: Simulator) -> list[str]:
    return [key_of(r.headers) for r in sim.requests if r.method == "POST"]


def make(sim: Simulator, provider_type: str = "openai", **changes: object) -> Provider:
    fields: dict[str, object] = {
        "id": f"keys-{provider_type}",
        "type": provider_type,
        "base_url": sim.base_url(provider_type),
        "api_key": f"{KEY_A},{KEY_B}",
        "models": ["sim-chat"],
    }
    fields.update(changes)
    return Provider.model_validate(fields)


@pytest.fixture(autouse=True)
def _fresh_health():
    key_health.HEALTH.reset()
    yield
    key_health.HEALTH.reset()


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every backoff the transport asks for, taken without waiting."""
    waits: list[float] = []

    async def counted(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(transport, "_backoff", counted)
    return waits


@pytest.fixture
async def any_key_sim():
    async with Simulator(api_key=None) as simulator:
        yield simulator


@pytest.fixture
async def pool():
    pool = AdapterPool()
    yield pool
    await pool.aclose()


@pytest.mark.parametrize("provider_type", ["openai", "anthropic", "gemini", "azure-openai"])
@pytest.mark.parametrize("status", [429, 500, 503])
async def test_a_failing_key_is_replaced_at_once(
    provider_type, status, any_key_sim, pool, backoffs
):
    any_key_sim.script(fail=status, retry_after=20, count=1)
    adapter = pool.adapter(make(any_key_sim, provider_type))
    reply = await adapter.chat(ask())
    assert "hi" in reply.text
    assert chat_keys(any_key_sim) == [KEY_A, KEY_B]
    assert backoffs == []  # served by the second key with no wait
    # The next request skips the cooling key, where rotation alone would pick it.
    await adapter.chat(ask())
    assert chat_keys(any_key_sim)[-1] == KEY_B
    assert adapter.keys.states()[0][0] is KeyState.COOLING


async def test_a_streamed_request_switches_keys_before_the_first_byte(any_key_sim, pool, backoffs):
    any_key_sim.script(fail=429, count=1)
    adapter = pool.adapter(make(any_key_sim, "anthropic"))
    events = [event async for event in adapter.stream(ask(stream=True))]
    assert events and chat_keys(any_key_sim) == [KEY_A, KEY_B] and backoffs == []


async def test_every_key_cooling_backs_off_as_before(any_key_sim, pool, backoffs):
    any_key_sim.script(fail=429, retry_after=20, count=2)
    adapter = pool.adapter(make(any_key_sim))
    reply = await adapter.chat(ask())
    assert "hi" in reply.text
    assert chat_keys(any_key_sim)[:2] == [KEY_A, KEY_B]
    assert len(chat_keys(any_key_sim)) == 3
    assert backoffs == [20]  # the upstream's Retry-After, once both keys were cooling


async def test_one_key_backs_off_as_before(any_key_sim, pool, backoffs):
    any_key_sim.script(fail=500, count=2)
    adapter = pool.adapter(make(any_key_sim, api_key=KEY_A))
    await adapter.chat(ask())
    assert chat_keys(any_key_sim) == [KEY_A] * 3
    assert len(backoffs) == 2


async def test_a_rejected_key_is_skipped_until_a_check_passes(backoffs):
    from cherry_nb.key_check import check

    async with Simulator(api_key=KEY_B) as sim:
        pool = AdapterPool()
        try:
            adapter = pool.adapter(make(sim))
            await adapter.chat(ask())  # key A: 401, then key B at once
            assert chat_keys(sim) == [KEY_A, KEY_B] and backoffs == []
            for _ in range(3):
                await adapter.chat(ask())
            assert chat_keys(sim)[2:] == [KEY_B] * 3  # never A again, not even in its turn
            assert adapter.keys.states()[0] == (KeyState.BAD, "401 rejected")

            sim.api_key = None  # the key was fixed at the provider: a passing check clears it
            result = await check(make(sim), "sim-chat")
            assert result.ok
            await adapter.chat(ask())
            await adapter.chat(ask())
            assert KEY_A in chat_keys(sim)[-2:]
        finally:
            await pool.aclose()


async def test_every_key_rejected_reports_the_upstreams_refusal(backoffs):
    async with Simulator(api_key="sim-only-other-key-123") as sim:
        pool = AdapterPool()
        try:
            adapter = pool.adapter(make(sim, "gemini"))
            with pytest.raises(errors.AuthenticationError):
                await adapter.chat(ask())
            assert chat_keys(sim) == [KEY_A, KEY_B]
            with pytest.raises(errors.AuthenticationError):  # still tried, never refused here
                await adapter.chat(ask())
            assert backoffs == []
        finally:
            await pool.aclose()


@pytest.mark.parametrize(("provider_type", "status"), [("openai", 402), ("gemini", 429)])
async def test_out_of_quota_cools_the_key_for_longer(provider_type, status, any_key_sim, pool):
    """402, and Gemini's RESOURCE_EXHAUSTED "exceeded your current quota" 429."""
    any_key_sim.script(fail=status, retry_after=1, count=1)
    adapter = pool.adapter(make(any_key_sim, provider_type))
    await adapter.chat(ask())
    assert chat_keys(any_key_sim) == [KEY_A, KEY_B]
    (state, reason), _ = adapter.keys.states()
    assert (state, reason) == (KeyState.COOLING, "out of quota")
    fingerprint = key_health.fingerprint(KEY_A, adapter.base)
    _, until = key_health.HEALTH.state(adapter.provider.id, fingerprint, time.monotonic())
    assert until - time.monotonic() > RATE_LIMIT_COOLDOWN * 10


def test_verdicts():
    def error(status: int, message: str, code: str | None = None) -> errors.ProviderError:
        if status == 429:
            return errors.RateLimitError(message, status=status, upstream_type=code)
        return errors.UpstreamError(message, status=status, upstream_type=code)

    assert verdict(error(429, "You exceeded your current quota", "insufficient_quota")).cooldown
    assert verdict(error(429, "Check your billing details")).cooldown == QUOTA_COOLDOWN
    assert verdict(error(429, "slow down"), retry_after=3).cooldown == 3
    assert verdict(error(429, "slow down")).cooldown == RATE_LIMIT_COOLDOWN
    assert verdict(errors.AuthenticationError("no", status=403)).bad
    assert not verdict(error(400, "bad request")).counts
    assert not verdict(error(404, "no such model")).counts


def test_health_reprs_never_show_the_key(any_key_sim):
    adapter_keys = key_health.KeyRing("p", "http://x", [KEY_A, KEY_B])
    adapter_keys.failed(KEY_A, verdict(errors.AuthenticationError("no", status=401)))
    shown = repr(adapter_keys) + repr(key_health.HEALTH._entries)
    assert KEY_A not in shown and KEY_B not in shown


# ---- concurrency limit --------------------------------------------------------------------


def test_max_concurrency_must_be_positive(any_key_sim):
    with pytest.raises(ValidationError, match="max_concurrency"):
        make(any_key_sim, max_concurrency=0)
    assert make(any_key_sim, max_concurrency=3).max_concurrency == 3


async def until(condition, what: str) -> None:
    """Yield to the loop until `condition()` holds (a hang guard, not a timing)."""
    async with asyncio.timeout(20):
        while not condition():
            await asyncio.sleep(0.005)
    assert condition(), what


async def test_the_limit_holds_streams_open_to_the_upstream(any_key_sim, pool):
    adapter = pool.adapter(make(any_key_sim, "anthropic", max_concurrency=2))
    limit = adapter.limit
    assert limit is not None
    started: list[int] = []
    done = [asyncio.Event() for _ in range(3)]

    async def one(i: int) -> None:
        batches = adapter.stream_batches(ask("[[sim:words=2000]] [[sim:delay=0.01]]", stream=True))
        try:
            await anext(batches)
            started.append(i)
            await done[i].wait()  # the stream stays open, unread
        finally:
            await batches.aclose()

    tasks = [asyncio.create_task(one(i)) for i in range(3)]
    try:
        await until(lambda: len(started) == 2, "two streams started")
        await until(lambda: len(getattr(limit, "_waiters", None) or ()) == 1, "third waits")
        assert any_key_sim.active_streams == 2
        assert len(chat_keys(any_key_sim)) == 2  # the third never reached the upstream
        done[started[0]].set()
        await until(lambda: len(started) == 3, "the third started once a slot was free")
        assert any_key_sim.active_streams <= 2
        for event in done:
            event.set()
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    assert len(chat_keys(any_key_sim)) == 3


async def test_failures_and_cancellations_give_their_slot_back(any_key_sim, pool):
    adapter = pool.adapter(make(any_key_sim, max_concurrency=1))
    with pytest.raises(errors.ModelNotFoundError):
        await adapter.chat(ChatRequest(model="sim-nope", messages=[Message("user", [Text("x")])]))
    any_key_sim.script(delay=30, count=1)
    slow = asyncio.create_task(adapter.chat(ask()))
    await until(lambda: len(chat_keys(any_key_sim)) == 1, "the slow request was sent")
    waiting = asyncio.create_task(adapter.chat(ask()))
    await until(lambda: len(getattr(adapter.limit, "_waiters", None) or ()) == 1, "one waits")
    waiting.cancel()
    slow.cancel()
    await asyncio.gather(slow, waiting, return_exceptions=True)
    async with asyncio.timeout(20):  # would hang if a slot had leaked
        reply = await adapter.chat(ask())
    assert "hi" in reply.text


async def test_the_limit_survives_an_edit_that_keeps_it(any_key_sim, pool):
    first = pool.adapter(make(any_key_sim, max_concurrency=2))
    same = pool.adapter(make(any_key_sim, max_concurrency=2, name="Renamed"))
    other = pool.adapter(make(any_key_sim, max_concurrency=3))
    assert same is not first and same.limit is first.limit
    assert other.limit is not first.limit
