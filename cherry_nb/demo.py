"""`cherry-nb demo`: the whole product offline, in one command.

Starts the upstream simulator, a gateway over a throwaway config with one
provider of each type pointed at it, runs a sample exchange in both wire
formats (streamed, translated across formats, with a tool call), then keeps
serving so the user can try their own clients. The user's config is untouched.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from ._exceptions import ConfigError
from .config.kinds import PROVIDER_TYPES
from .config.models import DEFAULT_PORT
from .config.registry import ProviderRegistry
from .gateway.server import GatewayServer
from .simulator import SimulatorThread
from .wire.sse import SSEParser


def run_demo(port: int = DEFAULT_PORT, once: bool = False, out: Any = None) -> int:
    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="cherry-nb-demo-") as tmp, SimulatorThread() as sim:
        registry = ProviderRegistry(Path(tmp) / "config.json")
        for provider_type in PROVIDER_TYPES:
            registry.add(
                id=f"sim-{provider_type}",
                name=f"Simulator ({provider_type})",
                type=provider_type,
                base_url=sim.base_url(provider_type),
                models=["sim-chat", "sim-fast"],
            )
        server = GatewayServer(registry)
        try:
            url = server.start(port=port)
        except ConfigError:
            url = server.start(port=0)
            print(f"(port {port} is busy; using a free one)", file=out)
        try:
            _exchange(url, server.api_key, out)
            _usage(url, server.api_key, out)
            if not once:
                print("Serving until Ctrl-C ...", file=out, flush=True)
                while True:
                    time.sleep(3600)
        except KeyboardInterrupt:
            print("\nStopped.", file=out)
        finally:
            server.stop()
    return 0


def _exchange(url: str, key: str, out: Any) -> None:
    print(f"Gateway on {url}, upstream: the offline simulator.\n", file=out)
    with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=30) as client:
        print("1) OpenAI format -> Anthropic-type upstream, streamed:", file=out)
        body = {
            "model": "sim-anthropic:sim-chat",
            "stream": True,
            "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "Hello from the OpenAI SDK side!"},
            ],
        }
        for data in _sse(client, "/v1/chat/completions", body):
            if data != "[DONE]":
                for choice in json.loads(data).get("choices", []):
                    print(choice["delta"].get("content") or "", end="", file=out, flush=True)
        print("\n", file=out)

        print("2) Anthropic format -> OpenAI-type upstream, streamed with a tool:", file=out)
        body = {
            "model": "sim-openai:sim-chat",
            "max_tokens": 200,
            "stream": True,
            "tools": [
                {
                    "name": "get_weather",
                    "description": "Current weather for a city",
                    "input_schema": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    },
                }
            ],
            "messages": [{"role": "user", "content": "Use get_weather for Paris."}],
        }
        arguments = ""
        for data in _sse(client, "/v1/messages", body):
            event = json.loads(data)
            if event["type"] == "content_block_start":
                block = event["content_block"]
                if block["type"] == "tool_use":
                    print(f"   tool call: {block['name']}", end="", file=out)
            elif event["type"] == "content_block_delta":
                delta = event["delta"]
                arguments += delta.get("partial_json", "")
                print(delta.get("text", ""), end="", file=out, flush=True)
            elif event["type"] == "message_delta":
                reason = event["delta"]["stop_reason"]
                print(f"({arguments}) -> stop_reason {reason}\n", file=out)

        print("3) Responses API (Codex, Agents SDK) -> Gemini-type upstream, streamed:", file=out)
        body = {
            "model": "sim-gemini:sim-chat",
            "stream": True,
            "instructions": "Be brief.",
            "input": "Hello from the Responses API side!",
        }
        for data in _sse(client, "/v1/responses", body):
            event = json.loads(data)
            if event["type"] == "response.output_text.delta":
                print(event["delta"], end="", file=out, flush=True)
            elif event["type"] == "response.completed":
                usage = event["response"]["usage"]
                print(f"\n   ({usage['output_tokens']} output tokens)\n", file=out)

        print("4) The models every client can ask for (GET /v1/models):", file=out)
        models = client.get("/v1/models").json()["data"]
        print("   " + ", ".join(m["id"] for m in models) + "\n", file=out)


def _sse(client: httpx.Client, path: str, body: dict[str, Any]) -> Iterator[str]:
    parser = SSEParser()
    with client.stream("POST", path, json=body) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            for event in parser.feed(chunk):
                yield event.data


def _usage(url: str, key: str, out: Any) -> None:
    print(
        f"Try it yourself (demo key, valid only while this demo runs: {key}):\n"
        f"  curl {url}/v1/chat/completions -H 'Authorization: Bearer {key}' \\\n"
        "    -H 'content-type: application/json' \\\n"
        '    -d \'{"model":"sim-gemini:sim-chat","messages":[{"role":"user","content":"hi"}]}\'\n'
        f"  OpenAI SDK:    OpenAI(base_url='{url}/v1', api_key='{key}')\n"
        f"  Anthropic SDK: Anthropic(base_url='{url}', api_key='{key}')\n"
        f"  Claude Code:   ANTHROPIC_BASE_URL={url} ANTHROPIC_AUTH_TOKEN={key} "
        "ANTHROPIC_MODEL=sim-openai:sim-chat claude\n"
        f'  Codex:         a [model_providers.cherry] with base_url = "{url}/v1", '
        'wire_api = "responses", env_key naming a variable that holds the key\n'
        f"  API docs:      {url}/api-docs\n",
        file=out,
        flush=True,
    )
