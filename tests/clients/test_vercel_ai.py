"""The Vercel AI SDK (`ai` with `@ai-sdk/openai` and `@ai-sdk/anthropic`) through every
upstream kind: generateText, streamText and a tool round trip, with the OpenAI provider's
chat-completions model (`.chat()`), its default model (`openai(id)`, the Responses API)
and the Anthropic provider."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import (
    GATEWAY_KEY,
    ClientStack,
    NodeClients,
    record_fixture,
    routed,
    run_client,
)

pytestmark = pytest.mark.slow

#: API name in the script -> the gateway path it calls.
APIS = {
    "openai-chat": "/v1/chat/completions",
    "openai-responses": "/v1/responses",
    "anthropic": "/v1/messages",
}


def vercel(
    stack: ClientStack, node: NodeClients, tmp_path, *, api: str, mode: str, model: str, prompt: str
) -> dict[str, Any]:
    run = run_client(
        [node.node, node.script("vercel_ai.mjs")],
        home=tmp_path / "home",
        env={
            "API": api,
            "MODE": mode,
            "GATEWAY_URL": stack.url,
            "GATEWAY_KEY": GATEWAY_KEY,
            "MODEL": model,
            "PROMPT": prompt,
        },
    )
    result: dict[str, Any] = json.loads(run.ok().strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("mode", ["generate", "stream"])
def test_vercel_text(stack, node_clients, upstream, tmp_path, api, mode):
    prompt = f"hello from the AI SDK {api} {mode} {upstream}"
    out = vercel(
        stack, node_clients, tmp_path, api=api, mode=mode, model=routed(upstream), prompt=prompt
    )
    assert prompt in out["text"]
    assert out["finishReason"] == "stop"
    assert stack.upstream_saw(upstream, prompt)
    assert not stack.proxy.refused()
    sent = stack.proxy.taken(APIS[api])
    assert sent and sent[-1].json.get("stream", False) is (mode == "stream")
    if upstream == "openai" and mode == "stream":
        package = "@ai-sdk/openai" if api.startswith("openai") else "@ai-sdk/anthropic"
        version = node_clients.version(package)
        record_fixture(f"ai-sdk-{package.split('/')[1]}-{version}_{api}_stream_request", sent[-1])


@pytest.mark.parametrize("api", APIS)
def test_vercel_tool_round_trip(stack, node_clients, upstream, tmp_path, api):
    # The simulator calls a tool named in the prompt, then quotes the tool's result.
    out = vercel(
        stack,
        node_clients,
        tmp_path,
        api=api,
        mode="tool",
        model=routed(upstream),
        prompt=f"use weather for Paris ({api} via {upstream})",
    )
    assert out["toolCalls"] == [{"name": "weather", "input": {"city": "example"}}]
    assert out["toolResults"] == ["sunny in example"]
    assert "sunny in example" in out["text"]
    assert not stack.proxy.refused()
