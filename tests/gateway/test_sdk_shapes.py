"""The newest SDKs' request shapes (tests/wire/fixtures/sdk/) are never refused for being
new: through the gateway to every upstream type they get a reply, not a 400; a passthrough
carries them untouched but for the model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import GATEWAY_KEY, TYPES, Stack

FIXTURES = Path(__file__).parent.parent / "wire" / "fixtures" / "sdk"
ANTHROPIC = sorted(p.name for p in FIXTURES.glob("anthropic_*_messages_*.json"))
OPENAI = sorted(p.name for p in FIXTURES.glob("openai_*_chat_*.json"))
HEADERS = {"authorization": f"Bearer {GATEWAY_KEY}", "anthropic-version": "2023-06-01"}
ROUTES = {"anthropic": "/v1/messages", "openai": "/v1/chat/completions"}


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        yield client


CASES = [("anthropic", n) for n in ANTHROPIC] + [("openai", n) for n in OPENAI]


def test_the_captures_are_there() -> None:
    assert len(ANTHROPIC) >= 4 and len(OPENAI) >= 3


@pytest.mark.parametrize(("client", "name"), CASES)
@pytest.mark.parametrize("provider_type", TYPES)
def test_newest_sdk_shapes_reach_every_upstream_type(
    stack: Stack, http: httpx.Client, provider_type: str, client: str, name: str
) -> None:
    body = load(name)
    body["model"] = f"{stack.provider_id(provider_type)}:sim-chat"
    response = http.post(ROUTES[client], json=body, headers=HEADERS)
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("text/event-stream"):
        events = [
            json.loads(line[6:])
            for line in response.text.splitlines()
            if line.startswith("data: {")
        ]
        assert events and not any("error" in e or e.get("type") == "error" for e in events)
    upstream = stack.upstream.requests[-1].json
    passthrough = client == provider_type or (client, provider_type) == (
        "openai",
        "azure-openai",
    )
    if passthrough and provider_type != "azure-openai":  # azure: the model is in the path
        assert upstream == {**load(name), "model": "sim-chat"}
