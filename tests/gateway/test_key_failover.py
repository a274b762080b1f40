"""Through the gateway, with the official SDKs: a key the upstream refuses or rate limits
is replaced by the provider's next key at once, before any byte reaches the client."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.server import GatewayServer
from cherry_nb.providers import key_health, transport
from cherry_nb.simulator import SimulatorThread

from .conftest import GATEWAY_KEY

KEY_A = "sim-gw-key-aaaa-0123456789"
KEY_B = "sim-gw-key-bbbb-0123456789"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SimulatorThread]]:
    upstream = SimulatorThread(api_key=None)
    upstream.start()
    registry = ProviderRegistry(tmp_path_factory.mktemp("failover") / "config.json")
    for provider_type in ("openai", "anthropic"):
        registry.add(
            id=f"two-{provider_type}",
            name=f"Two keys {provider_type}",
            type=provider_type,
            base_url=upstream.base_url(provider_type),
            api_key=f"{KEY_A},{KEY_B}",
            models=["sim-chat"],
        )
    registry.set_server(api_key=GATEWAY_KEY)
    server = GatewayServer(registry)
    server.start(port=0)
    try:
        assert server.url is not None
        yield server.url, upstream
    finally:
        server.stop()
        upstream.stop()


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoffs the gateway's transport asks for (it runs in this process), not taken."""
    waits: list[float] = []

    async def counted(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(transport, "_backoff", counted)
    key_health.HEALTH.reset()
    return waits


def chat_keys(upstream: SimulatorThread, since: int) -> list[str]:
    posts = [r for r in upstream.requests[since:] if r.method == "POST"]
    return [r.headers.get("x-api-key") or r.headers["authorization"][7:] for r in posts]


def test_openai_client_served_by_the_second_key(gateway, backoffs):
    url, upstream = gateway
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=GATEWAY_KEY, max_retries=0)
    since = len(upstream.requests)
    upstream.script(fail=429, retry_after=20, count=1)
    reply = client.chat.completions.create(
        model="two-openai:sim-chat", messages=[{"role": "user", "content": "hello"}]
    )
    assert "hello" in (reply.choices[0].message.content or "")
    assert chat_keys(upstream, since) == [KEY_A, KEY_B] and backoffs == []


def test_anthropic_stream_served_by_the_second_key(gateway, backoffs):
    url, upstream = gateway
    client = anthropic.Anthropic(base_url=url, api_key=GATEWAY_KEY, max_retries=0)
    since = len(upstream.requests)
    upstream.script(fail=503, count=1)
    with client.messages.stream(
        model="two-anthropic:sim-chat",
        max_tokens=64,
        messages=[{"role": "user", "content": "hello"}],
    ) as stream:
        text = "".join(stream.text_stream)
    assert "hello" in text
    assert chat_keys(upstream, since) == [KEY_A, KEY_B] and backoffs == []
