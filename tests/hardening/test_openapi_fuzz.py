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
Streamed bodies are checked by schemathesis too: the documented `text/event-stream`
schema is that of one event, its `data` JSON described by `contentSchema`
(`test_documented_sse_schema_matches_streamed_events` shows the check really applies).
`_check_stream` adds what that schema cannot say: a Messages event's name is its data's
`type`, and `[DONE]` belongs to OpenAI streams only.
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
from schemathesis.core.failures import FailureGroup
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
EMBEDDING_MODEL = "text-embedding-3-small"  # the embeddings examples' model
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
    upstream = SimulatorThread(
        api_key=SIM_KEY, models=(*MODELS, "sim-chat"), embedding_models=(EMBEDDING_MODEL,)
    )
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
    # Schemathesis calls the ASGI app as host "testserver": a name the Host check must
    # be told about, as a user would for a name of their own.
    registry.set_server(api_key=KEY, upstream_read_timeout=5.0, allowed_hosts=["testserver"])
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
        elif "prompt_filter_results" in payload:
            schemas.PromptFilterChunk.model_validate(payload)
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
    case.validate_response(response)
    if response.headers.get("content-type", [""])[0].startswith("text/event-stream"):
        _check_stream(case.path, response.text)


async def test_served_document_is_the_fuzzed_one(gateway_app: Quart) -> None:
    response = await gateway_app.test_client().get("/api-docs.json")
    assert response.status_code == 200
    assert await response.get_json() == json.loads(json.dumps(build_openapi(version=__version__)))


# (route, provider id, prompt): both formats' routes over every upstream protocol, and
# streams that fail after they started (the upstream drops the connection mid-reply; the
# translated Azure stream is one the gateway then ends with the protocol's error event).
REPLY = "Say hello [[sim:words=12]]"
DROPPED = "go [[sim:words=40]] [[sim:drop_after=5]]"
STREAMS = [
    *(("/v1/chat/completions", provider, REPLY) for provider in PROVIDERS),
    *(("/v1/messages", provider, REPLY) for provider in PROVIDERS),
    ("/{provider_id}/v1/messages", "my-anthropic", REPLY),
    ("/{provider_id}/v1/messages", "my-gemini", REPLY),
    ("/v1/chat/completions", "my-azure", DROPPED),
    ("/v1/messages", "my-azure", DROPPED),
]
STREAM_IDS = [f"{p}-{u}-{'dropped' if t == DROPPED else 'reply'}" for p, u, t in STREAMS]
SSE_FAILURES = {"SSE event violates schema", "SSE event payload violates content schema"}
# Changes to a stream's data that the documented event schema must refuse.
TAMPER = {
    "/v1/chat/completions": (b'"chat.completion.chunk"', b'"chat.completion"'),
    "/messages": (b'"type":"content_block_delta"', b'"type":"content_block_grew"'),
}


def _stream_case(path: str, provider: str, prompt: str) -> Any:
    body: dict[str, Any] = {
        "model": MODELS[0] if "{provider_id}" in path else f"{provider}:{MODELS[0]}",
        "stream": True,
        "messages": [{"role": "user", "content": prompt}],
    }
    if "/messages" in path:
        body["max_tokens"] = 256
    return schema[path]["POST"].Case(
        body=body,
        path_parameters={"provider_id": provider} if "{provider_id}" in path else None,
        headers={"authorization": f"Bearer {KEY}"},
        media_type="application/json",
    )


def _with_content(response: schemathesis.Response, content: bytes) -> schemathesis.Response:
    return schemathesis.Response(
        status_code=response.status_code,
        headers=response.headers,
        content=content,
        request=response.request,
        elapsed=response.elapsed,
        verify=response.verify,
        message=response.message,
        http_version=response.http_version,
        encoding=response.encoding,
    )


@pytest.mark.parametrize(("path", "provider", "prompt"), STREAMS, ids=STREAM_IDS)
def test_documented_sse_schema_matches_streamed_events(
    gateway_app: Quart, path: str, provider: str, prompt: str
) -> None:
    """Schemathesis checks each streamed event against the document's event schema.

    The document's `text/event-stream` schema is one event, its `data` JSON described
    by `contentSchema`; the same check refuses a stream whose data was altered, so it
    really reads the events (a schema it could not apply would pass anything).
    """
    case = _stream_case(path, provider, prompt)
    response = case.call()
    assert response.status_code == 200, response.text
    assert response.headers["content-type"][0].startswith("text/event-stream")
    events = sse_events(response.text)
    assert len(events) >= 4
    failed = any(name == "error" or '"error"' in data for name, data in events)
    assert failed is (prompt == DROPPED), response.text
    case.validate_response(response, checks=[response_schema_conformance])
    _check_stream(case.path, response.text)

    old, new = TAMPER["/messages" if "/messages" in path else path]
    assert old in response.content
    tampered = _with_content(response, response.content.replace(old, new, 1))
    with pytest.raises(FailureGroup) as info:
        case.validate_response(tampered, checks=[response_schema_conformance])
    assert {failure.title for failure in info.value.exceptions} <= SSE_FAILURES


def test_documented_sse_schema_refuses_events_of_the_wrong_shape(gateway_app: Quart) -> None:
    """A Messages event needs an `event:` name, and one of the event types."""
    case = _stream_case("/v1/messages", "my-gemini", REPLY)
    response = case.call()
    assert response.status_code == 200
    # Without an `event:` line an event is a "message" (the SSE default), not a Messages type.
    for old, new in (
        (b"event: message_stop\n", b"event: message_end\n"),
        (b"event: message_start\n", b""),
    ):
        assert old in response.content
        tampered = _with_content(response, response.content.replace(old, new, 1))
        with pytest.raises(FailureGroup) as info:
            case.validate_response(tampered, checks=[response_schema_conformance])
        assert {failure.title for failure in info.value.exceptions} == {"SSE event violates schema"}
