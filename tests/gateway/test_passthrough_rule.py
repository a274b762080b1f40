"""The forward-compatibility rule at the gateway: what only the client's own format can
express goes untouched to a same-format upstream, and is refused, naming the field in the
client's envelope, only when the request must be translated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .conftest import GATEWAY_KEY, Stack

HEADERS = {"authorization": f"Bearer {GATEWAY_KEY}", "anthropic-version": "2023-06-01"}
SEARCH_RESULT = {
    "type": "search_result",
    "source": "https://example.com/a",
    "title": "A",
    "content": [{"type": "text", "text": "a result"}],
}
FILE_IMAGE = {"type": "image", "source": {"type": "file", "file_id": "file_011abc"}}
AUDIO = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        yield client


def messages_body(model: str, block: dict[str, Any]) -> dict[str, Any]:
    content = [{"type": "text", "text": "Use this."}, block]
    return {"model": model, "max_tokens": 32, "messages": [{"role": "user", "content": content}]}


def chat_body(model: str, part: dict[str, Any]) -> dict[str, Any]:
    content = [{"type": "text", "text": "Listen."}, part]
    return {"model": model, "messages": [{"role": "user", "content": content}]}


@pytest.mark.parametrize("block", [SEARCH_RESULT, FILE_IMAGE], ids=["search_result", "file"])
def test_anthropic_only_blocks_pass_through_to_anthropic(
    stack: Stack, http: httpx.Client, block: dict[str, Any]
) -> None:
    body = messages_body("up-anthropic:sim-chat", block)
    response = http.post("/v1/messages", json=body, headers=HEADERS)
    assert response.status_code == 200, response.text
    assert stack.upstream.requests[-1].json == {**body, "model": "sim-chat"}


@pytest.mark.parametrize(
    ("block", "param"),
    [(SEARCH_RESULT, "messages.0.content.1"), (FILE_IMAGE, "messages.0.content.1.source")],
    ids=["search_result", "file"],
)
@pytest.mark.parametrize("provider_type", ["openai", "gemini", "azure-openai"])
def test_anthropic_only_blocks_are_refused_when_translated(
    stack: Stack, http: httpx.Client, provider_type: str, block: dict[str, Any], param: str
) -> None:
    sent = len(stack.upstream.requests)
    body = messages_body(f"up-{provider_type}:sim-chat", block)
    response = http.post("/v1/messages", json=body, headers=HEADERS)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert param in error["message"] and "cannot be translated" in error["message"]
    assert len(stack.upstream.requests) == sent


def test_openai_audio_passes_through_to_openai(stack: Stack, http: httpx.Client) -> None:
    body = chat_body("up-openai:sim-chat", AUDIO)
    response = http.post("/v1/chat/completions", json=body, headers=HEADERS)
    assert response.status_code == 200, response.text
    assert stack.upstream.requests[-1].json == {**body, "model": "sim-chat"}


@pytest.mark.parametrize("provider_type", ["anthropic", "gemini"])
def test_openai_audio_is_refused_when_translated(
    stack: Stack, http: httpx.Client, provider_type: str
) -> None:
    body = chat_body(f"up-{provider_type}:sim-chat", AUDIO)
    response = http.post("/v1/chat/completions", json=body, headers=HEADERS)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "messages.0.content.1.type"
    assert "input_audio" in response.json()["error"]["message"]


@pytest.mark.parametrize("provider_type", ["openai", "anthropic", "gemini", "azure-openai"])
def test_an_invalid_body_is_refused_whatever_the_upstream(
    stack: Stack, http: httpx.Client, provider_type: str
) -> None:
    """One validator: the same body gets the same answer for every upstream."""
    body = messages_body(f"up-{provider_type}:sim-chat", SEARCH_RESULT)
    body["thinking"] = "on"
    response = http.post("/v1/messages", json=body, headers=HEADERS)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith("thinking: must be an object")
