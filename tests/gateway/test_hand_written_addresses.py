"""A provider written into the config file by hand is normalised at use by the gateway
too: Cherry Studio's vLLM recipe (no /v1, a trailing /) and a pasted full endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.server import GatewayServer

from .conftest import GATEWAY_KEY, SIM_KEY, Stack

AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}


def test_hand_written_addresses_work_through_the_gateway(stack: Stack, tmp_path: Path) -> None:
    url = stack.upstream.url
    path = tmp_path / "config.json"
    providers = [
        {"id": "vllm", "type": "openai", "base_url": url + "/", "api_key": SIM_KEY},
        {"id": "full", "base_url": url + "/v1/chat/completions", "api_key": SIM_KEY},
        {"id": "claude", "type": "anthropic", "base_url": url + "/v1/", "api_key": SIM_KEY},
    ]
    path.write_text(json.dumps({"providers": providers, "server": {"api_key": GATEWAY_KEY}}))
    server = GatewayServer(ProviderRegistry(path))
    base = server.start(port=0)
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            for provider_id in ("vllm", "full", "claude"):
                body = {
                    "model": f"{provider_id}:sim-chat",
                    "messages": [{"role": "user", "content": f"via {provider_id}"}],
                }
                response = http.post("/v1/chat/completions", json=body, headers=AUTH)
                assert response.status_code == 200, response.text
                assert f"via {provider_id}" in response.json()["choices"][0]["message"]["content"]
                expected = "/v1/messages" if provider_id == "claude" else "/v1/chat/completions"
                assert stack.upstream.requests[-1].path == expected
    finally:
        server.stop()
