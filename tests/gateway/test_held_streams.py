"""Many streams held at once: none waits behind a connection cap it should not meet, and
the cap a config sets (`server.upstream_connections`) is the one the gateway keeps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import httpx

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.server import GatewayServer
from cherry_nb.simulator import SimulatorThread

from .conftest import GATEWAY_KEY, SIM_KEY, Stack

T = TypeVar("T")
AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}
# Long enough that every stream is still running when the last one starts.
PACED = "[[sim:words=60]] [[sim:delay=0.05]] Hello"


async def _peak_while(upstream: SimulatorThread, work: Awaitable[T]) -> tuple[T, int]:
    """`work`'s result, and the most streams the upstream was sending at once meanwhile."""
    task = asyncio.ensure_future(work)
    peak = 0
    while not task.done():
        peak = max(peak, upstream.active_streams)
        await asyncio.wait({task}, timeout=0.005)
    return task.result(), peak


async def _streams(url: str, provider: str, count: int) -> list[str]:
    """`count` OpenAI streams at once, each on its own connection; each one's text."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=0)

    async def one(client: httpx.AsyncClient) -> str:
        body = {
            "model": f"{provider}:sim-chat",
            "messages": [{"role": "user", "content": PACED}],
            "stream": True,
        }
        async with client.stream("POST", "/v1/chat/completions", json=body) as reply:
            assert reply.status_code == 200, await reply.aread()
            return (await reply.aread()).decode()

    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=60, limits=limits) as client:
        return await asyncio.wait_for(
            asyncio.gather(*(one(client) for _ in range(count))), timeout=120
        )


async def test_more_than_256_streams_are_relayed_at_once(stack: Stack) -> None:
    count = 300  # the pool's cap used to be 256: streams 257-300 waited for a connection
    texts, peak = await _peak_while(
        stack.upstream, _streams(stack.url, stack.provider_id("openai"), count)
    )
    assert all(text.rstrip().endswith("data: [DONE]") for text in texts)
    assert peak > 256, f"at most {peak} streams were in flight upstream at once"


async def test_the_configured_connection_cap_is_kept(tmp_path: Path) -> None:
    upstream = SimulatorThread(api_key=SIM_KEY).start()
    registry = ProviderRegistry(tmp_path / "config.json")
    registry.add(
        id="capped",
        name="Capped",
        type="openai",
        base_url=upstream.base_url("openai"),
        api_key=SIM_KEY,
        models=["sim-chat"],
    )
    registry.set_server(api_key=GATEWAY_KEY, upstream_connections=3)
    server = GatewayServer(registry)
    try:
        url = server.start(port=0)
        texts, peak = await _peak_while(upstream, _streams(url, "capped", 8))
    finally:
        server.stop()
        upstream.stop()
    assert all(text.rstrip().endswith("data: [DONE]") for text in texts)  # the rest waited
    assert 1 <= peak <= 3
