"""What the real clients sent (fixtures/, recorded by the client tests), replayed through
every upstream kind with plain httpx: no Node needed, so a regression on a client's request
shape shows up in the fast suite too. Codex's recorded turns are replayed in test_pending.py
(they need POST /v1/responses), with the others that wait on a gateway fix."""

from __future__ import annotations

import json

import httpx
import pytest

from .conftest import FIXTURES, GATEWAY_KEY, ClientStack, load_fixture, routed
from .test_pending import PENDING_FIXTURES

RECORDED = sorted(
    p.name
    for p in FIXTURES.glob("*_request.json")
    if not p.name.startswith("codex-") and p.name not in PENDING_FIXTURES
)
#: Not replayed: hop-by-hop or recomputed headers, and the (redacted) credentials.
_DROPPED = {"host", "content-length", "accept-encoding", "connection", "transfer-encoding"}
_DROPPED |= {"authorization", "x-api-key", "api-key", "x-goog-api-key"}


def replay(stack: ClientStack, fixture: str, model: str) -> tuple[int, str]:
    recorded = load_fixture(fixture)
    body = recorded["body"]
    body["model"] = model
    headers = {k: v for k, v in recorded["headers"].items() if k not in _DROPPED}
    headers["authorization"] = f"Bearer {GATEWAY_KEY}"
    with httpx.stream(
        recorded["method"],
        stack.gateway_url + recorded["path"],
        content=json.dumps(body).encode(),
        headers=headers,
        timeout=30,
    ) as reply:
        return reply.status_code, reply.read().decode()


def test_every_client_has_a_recorded_request():
    prefixes = {p.name.split("-")[0] for p in FIXTURES.glob("*_request.json")}
    assert {"claude", "codex", "ai", "openai", "langchain"} <= prefixes


@pytest.mark.parametrize("fixture", RECORDED)
def test_recorded_request_through_every_upstream(stack: ClientStack, upstream, fixture):
    status, text = replay(stack, fixture, routed(upstream))
    assert status == 200, text
    if load_fixture(fixture)["body"].get("stream"):
        anthropic_route = load_fixture(fixture)["path"].split("?")[0].endswith("/messages")
        last = "event: message_stop" if anthropic_route else "data: [DONE]"
        assert last in text, text[-2000:]
        assert "error" not in [
            json.loads(line[6:]).get("type") for line in text.splitlines() if line[:7] == "data: {"
        ]
