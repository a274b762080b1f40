"""Which client headers a passthrough forwards upstream: the protocol's own, the first of
each, never an empty one, whatever their case."""

from __future__ import annotations

from pathlib import Path

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.app import create_app
from cherry_nb.gateway.relay import forwarded_headers
from cherry_nb.simulator import Simulator

KEY = "cs-sk-relay-headers-0123456789"


def test_forwarded_headers() -> None:
    headers = [
        (b"host", b"x"),
        (b"Anthropic-Beta", b"tools-2024"),
        (b"anthropic-beta", b"ignored-second"),
        (b"openai-organization", b""),
        (b"OpenAI-Organization", b"ignored-after-empty"),
        (b"anthropic-version", b"2023-06-01"),
        (b"x-other", b"no"),
    ]
    assert forwarded_headers(headers) == {
        "anthropic-beta": "tools-2024",
        "anthropic-version": "2023-06-01",
    }


async def test_anthropic_passthrough_forwards_the_beta_header(tmp_path: Path) -> None:
    async with Simulator() as sim:
        registry = ProviderRegistry(tmp_path / "config.json")
        registry.add(
            id="up", name="Up", type="anthropic", base_url=sim.base_url("anthropic"), models=["m"]
        )
        app = create_app(registry, api_key=KEY)
        async with app.test_app():
            response = await app.test_client().post(
                "/v1/messages?beta=true",
                headers={"x-api-key": KEY, "anthropic-beta": "prompt-caching-2024-07-31"},
                json={
                    "model": "up:sim-chat",
                    "max_tokens": 50,
                    "messages": [{"role": "user", "content": "hi"}],
                },
            )
        assert response.status_code == 200
        (upstream,) = [r for r in sim.requests if r.path == "/v1/messages"]
    assert upstream.headers["anthropic-beta"] == "prompt-caching-2024-07-31"
    assert upstream.headers["anthropic-version"] == "2023-06-01"
    assert upstream.json["model"] == "sim-chat"
