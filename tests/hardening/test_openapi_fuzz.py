"""Schemathesis against the gateway's own OpenAPI document, in process (ASGI).

Every documented operation gets its schema examples, schemathesis' coverage cases
(boundaries, missing fields, wrong types) and a bounded number of fuzzed requests, in
positive and negative mode, seeded and derandomized. The gateway runs over a simulator
speaking the four upstream protocols, with providers named like the document's examples
(`my-openai:gpt-4o-mini`, `my-anthropic:claude-sonnet-4-5`), so valid requests really
reach an upstream and come back translated.

Checks: schemathesis' defaults (no 5xx, status codes, content types, headers and bodies
as documented, invalid input refused, auth enforced, 405 for undocumented methods)
except `positive_data_acceptance`: the gateway is deliberately stricter than JSON Schema
can say (`100.0` is a JSON Schema integer but not a `max_tokens`; a `model` with control
characters is a string but never a model id), so schema-valid requests may get a 400.
Streamed bodies are checked against the documented event models here (see
`_check_stream`), because schemathesis reads the documented `text/event-stream` schema
differently (`test_documented_sse_schema_matches_streamed_events`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from quart import Quart
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from cherry_nb._version import __version__
from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway import schemas
from cherry_nb.gateway.app import create_app
from cherry_nb.gateway.openapi import build_openapi
from cherry_nb.simulator import SimulatorThread

from .conftest import sse_events

KEY = "cs-sk-test-hardening-fuzz-0123456789"
SIM_KEY = "sim-hardening-fuzz-key-0123456789"
# The models the document's examples name, served by every example provider.
MODELS = ("gpt-4o-mini", "claude-sonnet-4-5")
PROVIDERS = {
    "my-openai": "openai",
    "my-anthropic": "anthropic",
    "my-gemini": "gemini",
    "my-azure": "azure-openai",
}

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class _AppUnderTest:
    """The ASGI app schemathesis calls: the gateway the `gateway_app` fixture builds.

    Schemathesis collects one test per operation at import time, before any fixture
    runs; this forwarder lets the schema name an app that is built later, per module.
    """

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is None:
            raise RuntimeError("the gateway_app fixture has not built the gateway")
        await self.app(scope, receive, send)


APP = _AppUnderTest()
# Hypothesis (and schemathesis, while collecting) cache source constants in ./.hypothesis
# even without an example database; keep that cache out of the working tree.
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "cherry-nb-hypothesis")
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20240611,
        "request-timeout": 15,
        "auth": {"openapi": {"bearerAuth": {"bearer": KEY}}},
        "generation": {"deterministic": True, "database": "none", "max-examples": 20},
        "phases": {"stateful": {"enabled": False}},
        "checks": {"positive_data_acceptance": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_dict(build_openapi(version=__version__), config=CONFIG)
schema.app = APP


@pytest.fixture(scope="module")
def gateway_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Quart]:
    upstream = SimulatorThread(api_key=SIM_KEY, models=(*MODELS, "sim-chat"))
    upstream.start()
    registry = ProviderRegistry(tmp_path_factory.mktemp("fuzz") / "config.json")
    for provider_id, provider_type in PROVIDERS.items():
        registry.add(
            id=provider_id,
            name=provider_id,
            type=provider_type,
            base_url=upstream.base_url(provider_type),
            api_key=SIM_KEY,
            models=list(MODELS),
        )
    registry.set_server(api_key=KEY, upstream_read_timeout=5.0)
    app = create_app(registry, api_key=KEY)
    APP.app = app
    try:
        yield app
    finally:
        asgi.shutdown_lifespans()  # runs after_serving: the app's upstream clients close
        APP.app = None
        upstream.stop()


def _check_stream(path: str, text: str) -> None:
    """Every event of a streamed reply is a documented event model (or the error envelope)."""
    events = sse_events(text)
    assert events, "a text/event-stream reply without events"
    for name, data in events:
        if data == "[DONE]":
            assert "/messages" not in path
            continue
        payload = json.loads(data)
        if "/messages" in path:
            event = schemas.MessageStreamEvent.model_validate(payload)
            assert name == event.root.type, f"event: {name} carries a {event.root.type} event"
        elif "error" in payload:
            schemas.OpenAIErrorEnvelope.model_validate(payload)
        else:
            schemas.ChatCompletionChunk.model_validate(payload)


@schema.parametrize()
@settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=20,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_gateway_conforms_to_its_openapi_document(case: Any, gateway_app: Quart) -> None:
    response = case.call()
    streamed = response.headers.get("content-type", [""])[0].startswith("text/event-stream")
    case.validate_response(
        response, excluded_checks=[response_schema_conformance] if streamed else None
    )
    if streamed:
        _check_stream(case.path, response.text)


async def test_served_document_is_the_fuzzed_one(gateway_app: Quart) -> None:
    response = await gateway_app.test_client().get("/api-docs.json")
    assert response.status_code == 200
    assert await response.get_json() == json.loads(json.dumps(build_openapi(version=__version__)))


@pytest.mark.xfail(
    strict=True,
    reason="cherry_nb/gateway/openapi.py documents each text/event-stream reply as "
    '{"type": "string"}; OpenAPI tools (schemathesis, OpenAPI 3.2 itemSchema) read a '
    "text/event-stream schema as the schema of each event ({event, data, id, retry}), so "
    "every streamed reply breaks the document. Fix: in _ok(), give the SSE media type an "
    'event schema, e.g. {"type": "object", "properties": {"event": {"type": "string"}, '
    '"data": {"type": "string", "contentMediaType": "application/json", "contentSchema": '
    '<ref to the event model>}}, "required": ["data"]} (and `data` may be "[DONE]").',
)
def test_documented_sse_schema_matches_streamed_events(gateway_app: Quart) -> None:
    operation = schema["/v1/chat/completions"]["POST"]
    body = {
        "model": "my-openai:gpt-4o-mini",
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    case = operation.Case(
        body=body, headers={"authorization": f"Bearer {KEY}"}, media_type="application/json"
    )
    case.call_and_validate(checks=[response_schema_conformance])
