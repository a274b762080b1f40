"""A real gateway (Hypercorn in a thread) over simulator upstreams of all four types.

The simulator runs in its own thread too, so sync SDK calls in a test never
block the loop that has to answer them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.server import GatewayServer
from cherry_nb.simulator import SimulatorThread

SIM_KEY = "sim-upstream-key-0123456789"
GATEWAY_KEY = "cs-sk-test-gateway-key-0123456789"
TYPES = ["openai", "anthropic", "gemini", "azure-openai", "openai-response"]


@dataclass
class Stack:
    upstream: SimulatorThread
    registry: ProviderRegistry
    server: GatewayServer

    @property
    def url(self) -> str:
        assert self.server.url is not None
        return self.server.url

    def provider_id(self, provider_type: str) -> str:
        return f"up-{provider_type}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    upstream = SimulatorThread(api_key=SIM_KEY)
    upstream.start()
    registry = ProviderRegistry(tmp_path_factory.mktemp("gw") / "config.json")
    for provider_type in TYPES:
        registry.add(
            id=f"up-{provider_type}",
            name=f"Upstream {provider_type}",
            type=provider_type,
            base_url=upstream.base_url(provider_type),
            api_key=SIM_KEY,
            models=["sim-chat", "sim-fast"],
        )
    registry.add(
        id="off", name="Disabled", base_url=upstream.base_url("openai"), models=["sim-chat"]
    )
    registry.disable("off")
    registry.set_server(api_key=GATEWAY_KEY, upstream_read_timeout=2.0)
    server = GatewayServer(registry)
    server.start(port=0)
    try:
        yield Stack(upstream, registry, server)
    finally:
        server.stop()
        upstream.stop()
