"""Every diagnosis category, provoked for real against the simulator or a closed port."""

from __future__ import annotations

import socket

import httpx
import pytest

from cherry_nb._exceptions import ConfigError, ModelNotFoundError, WireFormatError
from cherry_nb.diagnosis import Category, closest_models, diagnose
from cherry_nb.key_check import check, diagnose_failure
from cherry_nb.providers.pool import AdapterPool


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("provider_type", ["openai", "anthropic", "gemini", "azure-openai"])
async def test_ok_with_model_and_without(provider_type, make_provider):
    provider = make_provider(provider_type)
    with_model = await check(provider, "sim-chat")
    assert with_model.ok and with_model.category is Category.OK
    assert with_model.latency_ms > 0
    listing = await check(provider)
    assert listing.ok and "sim-chat" in listing.models


async def test_check_abandons_the_stream_after_the_first_chunk(make_provider, sim):
    sim.script(words=5000, delay=0.01, count=1)
    result = await check(make_provider("openai"), "sim-chat")
    assert result.ok
    assert result.latency_ms < 5000  # 5,000 words at 10 ms each would take 50 s


@pytest.mark.parametrize("provider_type", ["openai", "anthropic", "gemini", "azure-openai"])
async def test_bad_key(provider_type, make_provider):
    secret = "sk-bad-SECRETSECRET-987654321"
    result = await check(make_provider(provider_type, api_key=secret), "sim-chat")
    assert not result.ok and result.category is Category.BAD_KEY
    assert "rejected" in result.hint
    assert secret not in str(result) and secret not in repr(result)


async def test_missing_key_says_none_is_set(make_provider):
    result = await check(make_provider("anthropic", api_key=""), "sim-chat")
    assert result.category is Category.BAD_KEY
    assert "none is set" in result.hint


async def test_unknown_model_names_the_closest(make_provider):
    result = await check(make_provider("openai"), "sim-chta")
    assert result.category is Category.MODEL_NOT_FOUND
    assert "sim-chat" in result.hint


async def test_wrong_address_duplicated_v1(make_provider, sim):
    provider = make_provider("openai", base_url=sim.url + "/v1/v1#")
    result = await check(provider, "sim-chat")
    assert result.category is Category.WRONG_ADDRESS
    assert "doubled" in result.hint


async def test_wrong_address_html_page(make_provider, sim):
    sim.script(html=True, count=1)
    result = await check(make_provider("openai"), "sim-chat")
    assert result.category is Category.WRONG_ADDRESS


async def test_wrong_address_without_model_lists_on_a_web_server(make_provider, sim):
    provider = make_provider("openai", base_url=sim.url + "/console#", models=[])
    result = await check(provider)
    assert result.category is Category.WRONG_ADDRESS


async def test_closed_port(make_provider):
    provider = make_provider("openai", base_url=f"http://127.0.0.1:{closed_port()}/v1")
    result = await check(provider, "sim-chat")
    assert result.category is Category.NETWORK
    assert "nothing is listening" in result.hint


async def test_slow_upstream_times_out(make_provider, sim):
    sim.script(delay=2.0, count=1)
    result = await check(make_provider("openai"), "sim-chat", timeout=httpx.Timeout(5.0, read=0.3))
    assert result.category is Category.NETWORK
    assert "did not answer in time" in result.hint


async def test_rate_limited(make_provider, sim):
    sim.script(fail=429, retry_after=7, count=1)
    result = await check(make_provider("anthropic"), "sim-chat")
    assert result.category is Category.RATE_LIMITED
    assert "7 s" in result.hint


async def test_upstream_error_keeps_its_message(make_provider, sim):
    sim.script(fail=500, count=1)
    result = await check(make_provider("gemini"), "sim-chat")
    assert result.category is Category.UPSTREAM_ERROR
    assert result.status == 500


async def test_env_key_not_set(make_provider, monkeypatch):
    monkeypatch.delenv("CHERRY_NB_TEST_UNSET", raising=False)
    result = await check(make_provider("openai", api_key="env:CHERRY_NB_TEST_UNSET"), "sim-chat")
    assert result.category is Category.CONFIG
    assert "CHERRY_NB_TEST_UNSET" in result.message
    assert result.hint == ""  # the message says what to fix: shown once, not twice
    assert str(result).count("which is not set") == 1


async def test_unknown_model_hint_falls_back_to_the_configured_models(make_provider):
    provider = make_provider("openai", base_url=f"http://127.0.0.1:{closed_port()}/v1")
    error = ModelNotFoundError("no such model", model="sim-chta")
    pool = AdapterPool()
    try:
        category, hint = await diagnose_failure(error, provider, pool)
    finally:
        await pool.aclose()
    assert category is Category.MODEL_NOT_FOUND
    assert "Closest it lists: sim-chat" in hint  # listing failed: the configured models


@pytest.mark.parametrize(
    "error",
    [ConfigError("Set the variable X."), WireFormatError("The reply was not JSON.")],
)
def test_no_hint_repeats_the_message(error, make_provider):
    category, hint = diagnose(error, make_provider("openai"))
    assert category in (Category.CONFIG, Category.UPSTREAM_ERROR)
    assert hint == ""


@pytest.mark.parametrize(
    ("model", "available", "expected"),
    [
        ("gpt-4o", ["gpt-4o-2024-08-06", "gpt-4o-mini", "o3"], "gpt-4o-2024-08-06"),
        (
            "claude-sonet-4",
            ["claude-sonnet-4-20250514", "claude-opus-4"],
            "claude-sonnet-4-20250514",
        ),
        ("llama3", ["llama3:8b", "qwen2.5:7b"], "llama3:8b"),
    ],
)
def test_closest_models(model, available, expected):
    assert closest_models(model, available)[0] == expected


async def test_every_key_is_checked_and_reported_masked():
    from cherry_nb.config.models import Provider
    from cherry_nb.simulator import Simulator

    good, bad = "sk-good-key-0123456789abcd", "sk-bad-key-SECRET98765wxyz"
    async with Simulator(api_key=good) as sim:
        fields = {"id": "two", "type": "openai", "base_url": sim.base_url("openai")}
        provider = Provider.model_validate({**fields, "api_key": f"{good},{bad}"})
        result = await check(provider, "sim-chat")
        assert not result.ok and result.category is Category.BAD_KEY
        assert result.key_lines == ["key 1 sk-…abcd ✓", "key 2 sk-…wxyz ✗ 401 invalid key"]
        assert "1 key fails: key 2 (sk-…wxyz)" in result.message
        assert bad not in str(result) + repr(result)
        posts = [r for r in sim.requests if r.method == "POST"]
        assert len(posts) == 2  # each key once, not the next in rotation

        sim.api_key = None
        result = await check(provider, "sim-chat")
        assert result.ok and "all 2 keys work" in result.message
        assert [k.ok for k in result.keys] == [True, True]
        listing = await check(provider)
        assert listing.ok and "sim-chat" in listing.models
