"""What the user is shown is what the adapter calls: for every kind and every preset,
the URL preview equals the request the simulator receives; and an address written by
hand (not normalised on save) works, because adapters normalise at use."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from cherry_nb._exceptions import ProviderError
from cherry_nb.config import KINDS, PRESETS, Provider, endpoint_preview, provider_address
from cherry_nb.providers.pool import ADAPTERS, AdapterPool
from cherry_nb.providers.transport import RetryPolicy
from cherry_nb.simulator import PROVIDER_TYPES as SIMULATED
from cherry_nb.simulator import Simulator
from cherry_nb.wire.neutral import ChatRequest, Message, Text

from ..conftest import SIM_KEY


@pytest.fixture
async def pool():
    pool = AdapterPool(policy=RetryPolicy(attempts=1))
    yield pool
    await pool.aclose()


def ask(stream: bool) -> ChatRequest:
    return ChatRequest(model="sim-chat", messages=[Message("user", [Text("hi")])], stream=stream)


def on_sim(url: str, sim: Simulator) -> str:
    """`url` with its scheme and host replaced by the simulator's, path and query kept."""
    parts = urlsplit(url)
    return (
        sim.url
        + parts.path
        + (f"?{parts.query}" if parts.query else "")
        + ("#" if url.endswith("#") else "")
    )


def sim_base(sim: Simulator, kind: str) -> str:
    """The simulator's address for `kind`; its bare address for a kind it does not speak
    (the request URL is still observed, and normalisation still applies)."""
    return sim.base_url(kind) if kind in SIMULATED else sim.url


def seen(url: str) -> tuple[str, dict[str, str]]:
    """A URL as the simulator records a request: unquoted path and query parameters."""
    parts = urlsplit(url)
    return unquote(parts.path), dict(parse_qsl(parts.query, keep_blank_values=True))


async def called(sim: Simulator, pool: AdapterPool, provider: Provider, *, stream: bool):
    """The path and query of the chat request the adapter for `provider` sends."""
    before = len(sim.requests)
    adapter = pool.adapter(provider)
    try:
        if stream:
            async for _ in adapter.stream(ask(True)):
                pass
        else:
            await adapter.chat(ask(False))
    except ProviderError:
        pass  # a preset's path is not served by the simulator: only the URL matters here
    assert len(sim.requests) == before + 1
    request = sim.requests[-1]
    return request.path, request.query


def test_every_kind_has_an_adapter() -> None:
    assert set(ADAPTERS) == set(KINDS)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("stream", [True, False])
async def test_preview_is_what_the_adapter_calls_for_every_kind(kind, stream, sim, pool):
    provider = Provider(id=f"k-{kind}", type=kind, base_url=sim_base(sim, kind), api_key=SIM_KEY)
    place = provider_address(provider)
    assert await called(sim, pool, provider, stream=stream) == seen(
        place.chat_url("sim-chat", stream=stream)
    )
    if stream:
        assert seen(endpoint_preview(provider.base_url, kind, "sim-chat")) == seen(
            place.chat_url("sim-chat", stream=True)
        )
    try:
        await pool.adapter(provider).list_models()
    except ProviderError:
        pass  # a kind the simulator does not speak: only the URL matters here
    assert (sim.requests[-1].path, sim.requests[-1].query) == seen(place.models_url())


@pytest.mark.parametrize("key", list(PRESETS))
async def test_preview_is_what_the_adapter_calls_for_every_preset(key, sim, pool):
    preset = PRESETS[key]
    base_url = on_sim(preset.base_url, sim)
    provider = Provider(
        id=f"p-{key}",
        type=preset.type,
        base_url=base_url,
        api_key=SIM_KEY,
        api_version=preset.api_version,
    )
    preview = endpoint_preview(base_url, preset.type, "sim-chat", preset.api_version)
    assert await called(sim, pool, provider, stream=True) == seen(preview)


@pytest.mark.parametrize("kind", list(KINDS))
async def test_the_key_goes_in_the_kinds_header(kind, sim, pool):
    provider = Provider(id="k", type=kind, base_url=sim_base(sim, kind), api_key=SIM_KEY)
    try:
        await pool.adapter(provider).list_models()
    except ProviderError:
        pass
    spec = KINDS[kind]
    sent = sim.requests[-1].headers[spec.auth_header]
    assert sent == (f"Bearer {SIM_KEY}" if spec.bearer else SIM_KEY)


@pytest.mark.parametrize(
    ("kind", "typed"),
    [
        ("openai", "{url}/"),  # Cherry Studio's vLLM recipe: no /v1
        ("openai", "{url}"),
        ("openai", "{url}/v1/chat/completions"),  # a full endpoint, as ACTIVATE gives it
        ("openai", "  {url}/v1/  "),
        ("anthropic", "{url}/v1"),
        ("anthropic", "{url}/v1/messages"),
        ("gemini", "{url}/v1beta"),
        ("gemini", "{url}/v1beta/models/sim-chat:streamGenerateContent?alt=sse"),
        ("azure-openai", "{url}/openai"),
        (
            "azure-openai",
            "{url}/openai/deployments/sim-chat/chat/completions?api-version=2024-10-21",
        ),
        ("azure-openai", "{url}/openai/v1/"),
    ],
)
async def test_a_hand_written_address_works(kind, typed, sim, pool):
    provider = Provider(id="hand", type=kind, base_url=typed.format(url=sim.url), api_key=SIM_KEY)
    assert provider_address(provider).notes  # the user is told how it was read
    adapter = pool.adapter(provider)
    assert "sim-chat" in [m.id for m in await adapter.list_models()]
    reply = await adapter.chat(ask(False))
    assert reply.text
