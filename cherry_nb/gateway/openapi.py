"""The gateway's OpenAPI document, generated from the models that validate requests.

`build_openapi` returns an OpenAPI 3.1.0 document (served at /api-docs.json); it is
built once per (version, server_url) and cached, so treat the returned dict as
read-only. `openapi_downgrade.openapi_30` rewrites it as OpenAPI 3.0.3 for the bundled
Swagger UI (version 4), which cannot render 3.1 documents.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from ..config.kinds import PROVIDER_TYPES
from . import schemas
from .errors import Envelope, error_body

__all__ = ["build_openapi"]

OPENAPI_VERSION = "3.1.0"
_REF = "#/components/schemas/{model}"
_JSON = "application/json"
_SSE = "text/event-stream"
_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"apiKeyAuth": []}]

_COMPONENT_MODELS: tuple[type[BaseModel], ...] = (
    schemas.ChatCompletionRequest,
    schemas.MessagesRequest,
    schemas.ResponsesRequest,
    schemas.CountTokensRequest,
    schemas.ChatCompletion,
    schemas.ChatCompletionChunk,
    schemas.PromptFilterChunk,
    schemas.Message,
    schemas.MessageStreamEvent,
    schemas.ResponseObject,
    schemas.ResponseStreamEvent,
    schemas.InputTokenCount,
    schemas.CountTokensResponse,
    schemas.EmbeddingsRequest,
    schemas.EmbeddingList,
    schemas.ModelList,
    schemas.Health,
    schemas.ServiceInfo,
    schemas.OpenAIErrorEnvelope,
    schemas.AnthropicErrorEnvelope,
)

_DESCRIPTION = """\
One local, authenticated endpoint for every enabled provider, in both the OpenAI and
the Anthropic wire formats, whatever format the upstream speaks.

**Authentication.** Send the gateway key as `Authorization: Bearer <key>` or
`X-API-Key: <key>` (Anthropic SDKs and Claude Code send `x-api-key`: header names are
case-insensitive). `/`, `/health` and the docs need no key.

**Models.** `model` is `provider-id:model-id`, split at the first colon, e.g.
`my-openai:gpt-4o-mini`; `GET /v1/models` lists them. On `/{provider_id}/v1/messages`
and `/{provider_id}/v1/responses` a bare model id is enough (point `ANTHROPIC_BASE_URL`
at `http://HOST:PORT/provider-id`), and so on `/{provider_id}/v1/embeddings`.

**Embeddings.** `POST /v1/embeddings` in OpenAI's format reaches OpenAI-compatible and
Azure OpenAI providers unchanged and Gemini providers translated (`batchEmbedContents`);
a provider type without embeddings (Anthropic) answers 400.

**Model groups.** `model` may also be a model group's id (GET /v1/models lists groups
with `owned_by: "cherry-nb-group"`), or the group id may stand in the path
(`/{group_id}/v1/...`, the body's `model` then being ignored). The group's strategy
(`fallback`, `round-robin`, `least-busy`) picks the first member to try; a connect error,
timeout, 429, 5xx, a rejected key or an unknown model moves the request to the next
member before any byte is sent. A 400 (the request itself) does not. A bare model id
that several enabled providers list is ambiguous (400): pool them in a group instead.

**Streaming.** With `"stream": true` both formats answer `text/event-stream`. Its
documented schema is that of one event: `data` is a string holding JSON, whose schema
`contentSchema` names (ChatCompletionChunk, MessageStreamEvent, ResponseStreamEvent).

**State.** The gateway stores nothing: `POST /v1/responses` works like `store: false`, and
`previous_response_id` is refused unless the upstream itself speaks the Responses API.

**Errors** come in the caller's envelope: OpenAI's `{"error": {...}}` on the OpenAI
and Responses routes, Anthropic's `{"type": "error", "error": {...}}` on the Messages
routes.
Upstream statuses are mapped (429 stays 429, timeouts are 504), not flattened to 500.
Unknown fields, query parameters and headers never break a request.
"""

_ERRORS: dict[int, str] = {
    400: "Invalid request: the body is not a JSON object or a field is wrong (`param`, in "
    "the OpenAI envelope, names it: e.g. `messages.0.content`). An upstream's own 400 "
    "is passed on with its message.",
    401: "The gateway key is missing or the Authorization header is malformed (or the "
    "upstream rejected the provider's key).",
    403: "The gateway key is wrong.",
    404: "No such route, provider or model, or the provider is disabled.",
    413: "The request body is too large.",
    429: "The upstream's rate limit; `Retry-After` is passed on when the upstream sent it.",
    500: "An unexpected gateway error.",
    502: "The upstream could not be reached, or answered something that is not its protocol.",
    504: "The upstream timed out.",
}
"""Status -> description; the examples are built by the gateway's own error envelopes."""

_CHAT_EXAMPLE = {
    "model": "my-openai:gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You are concise."},
        {"role": "user", "content": "Say hello in French."},
    ],
}
_MESSAGES_EXAMPLE = {
    "model": "my-anthropic:claude-sonnet-4-5",
    "max_tokens": 1024,
    "system": "You are concise.",
    "messages": [{"role": "user", "content": "Say hello in French."}],
}
_RESPONSES_EXAMPLE = {
    "model": "my-openai:gpt-5",
    "instructions": "You are concise.",
    "input": "Say hello in French.",
}
# Stream examples, one event each: name -> (summary, `event:` name, data as JSON or text).
_CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "my-openai:gpt-4o-mini",
}
_CHAT_SSE_EXAMPLES: dict[str, tuple[str, str | None, Any]] = {
    "first": (
        "A chunk of text (the first also names the role)",
        None,
        {
            **_CHUNK,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": "Bonjour"},
                    "finish_reason": None,
                }
            ],
        },
    ),
    "last": (
        "The last chunk: the finish reason",
        None,
        {**_CHUNK, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ),
    "done": ("The end of the stream", None, "[DONE]"),
}
_MESSAGES_SSE_EXAMPLES: dict[str, tuple[str, str | None, Any]] = {
    name: (summary, name, {"type": name, **fields})
    for name, summary, fields in (
        (
            "message_start",
            "The message, still empty",
            {
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": "my-anthropic:claude-sonnet-4-5",
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 12, "output_tokens": 0},
                }
            },
        ),
        (
            "content_block_start",
            "A content block starts",
            {"index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        (
            "content_block_delta",
            "A piece of the block",
            {"index": 0, "delta": {"type": "text_delta", "text": "Bonjour"}},
        ),
        ("content_block_stop", "The block is complete", {"index": 0}),
        (
            "message_delta",
            "The stop reason and final usage",
            {
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 3},
            },
        ),
        ("message_stop", "The end of the stream", {}),
    )
}
_RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1700000000,
    "model": "my-openai:gpt-5",
}
_RESPONSES_EVENTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "response.created",
        "The response, still empty",
        {"response": {**_RESPONSE, "status": "in_progress", "output": []}},
    ),
    (
        "response.output_text.delta",
        "A piece of text",
        {"item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "Bonjour"},
    ),
    (
        "response.completed",
        "The whole response, with usage",
        {
            "response": {
                **_RESPONSE,
                "status": "completed",
                "output": [
                    {
                        "id": "msg_1",
                        "type": "message",
                        "role": "assistant",
                        "status": "completed",
                        "content": [{"type": "output_text", "text": "Bonjour", "annotations": []}],
                    }
                ],
                "usage": {
                    "input_tokens": 12,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens": 3,
                    "output_tokens_details": {"reasoning_tokens": 0},
                    "total_tokens": 15,
                },
            }
        },
    ),
)
_RESPONSES_SSE_EXAMPLES: dict[str, tuple[str, str | None, Any]] = {
    name: (summary, name, {"type": name, "sequence_number": number, **fields})
    for number, (name, summary, fields) in enumerate(_RESPONSES_EVENTS)
}


class _Generator(GenerateJsonSchema):
    """pydantic's JSON Schema, tuned for API docs.

    Unions tagged by a function (`schemas._base._pick`) may overlap (a fallback member takes
    any other `type`), so they are `anyOf`, not `oneOf`; field titles ("Max Tokens")
    only repeat the property names and are left out.
    """

    def tagged_union_schema(self, schema: core_schema.TaggedUnionSchema) -> JsonSchemaValue:
        generated = super().tagged_union_schema(schema)
        if "discriminator" not in generated and "oneOf" in generated:
            generated["anyOf"] = generated.pop("oneOf")
        return generated

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def build_openapi(*, version: str, server_url: str | None = None) -> dict[str, Any]:
    """The gateway's OpenAPI 3.1.0 document; cached: do not modify the returned dict.

    `server_url` (e.g. "http://127.0.0.1:23333") is listed under `servers`; without it
    clients use the document's own origin, which is what the docs page wants.
    """
    return _build(version, server_url)


@functools.lru_cache(maxsize=8)
def _build(version: str, server_url: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "cherry-nb gateway",
            "version": version,
            "description": _DESCRIPTION,
            "license": {"name": "MIT"},
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url.rstrip("/") or "/"}]
    doc["tags"] = [
        {"name": "Service", "description": "Health, index and these docs (no key needed)."},
        {"name": "Models", "description": "The models of the enabled providers."},
        {"name": "OpenAI", "description": "OpenAI Chat Completions format."},
        {"name": "Anthropic", "description": "Anthropic Messages format (Claude Code)."},
        {"name": "OpenAI Responses", "description": "OpenAI Responses API (Codex, Agents SDK)."},
        {
            "name": "Embeddings",
            "description": "OpenAI embeddings format, to any provider type with embeddings.",
        },
    ]
    doc["paths"] = _paths()
    doc["components"] = {
        "schemas": _component_schemas(),
        "responses": _error_responses(),
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "`Authorization: Bearer <gateway key>` (OpenAI SDKs, "
                "ANTHROPIC_AUTH_TOKEN).",
            },
            "apiKeyAuth": {
                "type": "apiKey",
                "in": "header",
                "name": "X-API-Key",
                "description": "`X-API-Key: <gateway key>`; Anthropic SDKs' `x-api-key` is "
                "the same header (names are case-insensitive).",
            },
        },
    }
    return doc


def _component_schemas() -> dict[str, Any]:
    _, top = models_json_schema(
        [(model, "validation") for model in _COMPONENT_MODELS],
        ref_template=_REF,
        schema_generator=_Generator,
    )
    return dict(sorted(top.get("$defs", {}).items()))


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _error_name(envelope: str, status: int) -> str:
    return f"{envelope}Error{status}"


def _error_responses() -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, description in _ERRORS.items():
        envelopes: tuple[tuple[str, Envelope, type[BaseModel]], ...] = (
            ("OpenAI", "openai", schemas.OpenAIErrorEnvelope),
            ("Anthropic", "anthropic", schemas.AnthropicErrorEnvelope),
        )
        for name, envelope, model in envelopes:
            param = "messages.0.content" if status == 400 else None
            example = error_body(envelope, description, status, param=param)
            responses[_error_name(name, status)] = {
                "description": description,
                "content": {_JSON: {"schema": _ref(model), "example": example}},
            }
    return responses


def _errors(envelope: str, statuses: tuple[int, ...] = tuple(_ERRORS)) -> dict[str, Any]:
    return {
        str(status): {"$ref": f"#/components/responses/{_error_name(envelope, status)}"}
        for status in statuses
    }


def _json_body(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {_JSON: {"schema": _ref(model), "example": example}},
    }


def _ok(
    description: str, model: type[BaseModel], stream: dict[str, Any] | None = None
) -> dict[str, Any]:
    content: dict[str, Any] = {_JSON: {"schema": _ref(model)}}
    if stream is not None:
        content[_SSE] = stream
    return {"200": {"description": description, "content": content}}


def _event_stream(
    description: str,
    properties: dict[str, Any],
    examples: dict[str, tuple[str, str | None, Any]],
) -> dict[str, Any]:
    """A text/event-stream media type whose `schema` is that of one event.

    OpenAPI 3.1 has no `itemSchema` (3.2 does); tools that read streams, schemathesis
    among them, take an event stream's `schema` as the schema of each event: an object
    of the event's fields (`event`, `data`, `id`, `retry`), all strings. `data` holds
    JSON, so `contentMediaType` + `contentSchema` name its model. The examples are
    events in that shape too, so they validate against the schema.
    """
    return {
        "schema": {
            "type": "object",
            "description": description,
            "properties": properties,
            "required": sorted(properties),
        },
        "examples": {
            name: {"summary": summary, "value": _event_example(event, data)}
            for name, (summary, event, data) in examples.items()
        },
    }


def _event_example(event: str | None, data: Any) -> dict[str, str]:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return {"data": text} if event is None else {"event": event, "data": text}


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    """A string schema's keywords saying the string is JSON that `schema` describes."""
    return {"contentMediaType": _JSON, "contentSchema": schema}


_STREAMED = 'Server-sent events, when the request has `"stream": true`. '
_CHAT_STREAM = _event_stream(
    _STREAMED + "This schema is one event: `data: <ChatCompletionChunk JSON>` and a blank "
    "line. Azure upstreams may send a PromptFilterChunk first; an error after the stream "
    "started is an event whose data is an OpenAIErrorEnvelope; `data: [DONE]` always ends "
    "the stream.",
    {
        "data": {
            "type": "string",
            "description": "A ChatCompletionChunk as JSON (or a PromptFilterChunk, or an "
            "OpenAIErrorEnvelope); `[DONE]` in the last event.",
            "if": {"const": "[DONE]"},
            "else": _json_content(
                {
                    "anyOf": [
                        _ref(schemas.ChatCompletionChunk),
                        _ref(schemas.PromptFilterChunk),
                        _ref(schemas.OpenAIErrorEnvelope),
                    ]
                }
            ),
        }
    },
    _CHAT_SSE_EXAMPLES,
)
_MESSAGES_STREAM = _event_stream(
    _STREAMED + "This schema is one event: `event: <type>`, `data: <MessageStreamEvent "
    "JSON>` of that type, and a blank line. Order: message_start, then per content block "
    "content_block_start, content_block_delta..., content_block_stop, then message_delta "
    "and message_stop; ping may come at any time, and error ends a stream that failed "
    "after it started.",
    {
        "event": {
            "type": "string",
            "enum": list(schemas.MESSAGE_STREAM_EVENT_TYPES),
            "description": "The event's type; its data's `type` is the same.",
        },
        "data": {
            "type": "string",
            "description": "A MessageStreamEvent as JSON.",
            **_json_content(_ref(schemas.MessageStreamEvent)),
        },
    },
    _MESSAGES_SSE_EXAMPLES,
)

_RESPONSES_STREAM = _event_stream(
    _STREAMED + "This schema is one event: `event: <type>`, `data: <ResponseStreamEvent "
    "JSON>` of that type, and a blank line. Order: response.created, response.in_progress, "
    "then per output item response.output_item.added, its deltas and their done events, "
    "response.output_item.done; the last is response.completed or response.incomplete. "
    "A stream that fails after it started ends with error, then response.failed.",
    {
        "event": {
            "type": "string",
            "enum": list(schemas.RESPONSE_STREAM_EVENT_TYPES),
            "description": "The event's type; its data's `type` is the same.",
        },
        "data": {
            "type": "string",
            "description": "A ResponseStreamEvent as JSON.",
            **_json_content(_ref(schemas.ResponseStreamEvent)),
        },
    },
    _RESPONSES_SSE_EXAMPLES,
)


_BETA_QUERY = {
    "name": "beta",
    "in": "query",
    "required": False,
    "description": "Sent by Anthropic SDKs for beta features (`?beta=true`); accepted and ignored.",
    "schema": {"type": "string"},
}
_ANTHROPIC_HEADERS = [
    {
        "name": "anthropic-version",
        "in": "header",
        "required": False,
        "description": "Accepted; Anthropic upstreams get the version they need.",
        "schema": {"type": "string", "examples": ["2023-06-01"]},
    },
    {
        "name": "anthropic-beta",
        "in": "header",
        "required": False,
        "description": "Beta flags; passed on to Anthropic upstreams, ignored by others.",
        "schema": {"type": "string"},
    },
]
_PROVIDER_PATH = {
    "name": "provider_id",
    "in": "path",
    "required": True,
    "description": "The provider's id (`model` may then be a bare model id), or a model "
    "group's id (`model` is then ignored).",
    "schema": {"type": "string", "examples": ["my-anthropic"]},
}


def _messages_op(*, provider: bool) -> dict[str, Any]:
    where = " of the provider in the path" if provider else ""
    return {
        "tags": ["Anthropic"],
        "operationId": "createProviderMessage" if provider else "createMessage",
        "summary": "Create a message (Anthropic format)"
        + (", provider in the path" if provider else ""),
        "description": f"An Anthropic Messages request to any model{where}, whatever "
        "protocol its upstream speaks: text, system prompts, images, tools and tool "
        "results, stop reasons and usage are translated. When the upstream speaks "
        "Anthropic's protocol too, the body is passed through with only `model` changed. "
        "Claude Code: set ANTHROPIC_BASE_URL to this server"
        + ("/{provider_id}" if provider else "")
        + ", the gateway key in ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN.",
        "security": _SECURITY,
        "parameters": ([_PROVIDER_PATH] if provider else []) + [_BETA_QUERY, *_ANTHROPIC_HEADERS],
        "requestBody": _json_body(schemas.MessagesRequest, _MESSAGES_EXAMPLE),
        "responses": {
            **_ok(
                "The message (JSON), or its stream of events (text/event-stream).",
                schemas.Message,
                _MESSAGES_STREAM,
            ),
            **_errors("Anthropic"),
        },
    }


def _responses_op(*, provider: bool) -> dict[str, Any]:
    where = " of the provider in the path" if provider else ""
    return {
        "tags": ["OpenAI Responses"],
        "operationId": "createProviderResponse" if provider else "createResponse",
        "summary": "Create a response (OpenAI Responses API)"
        + (", provider in the path" if provider else ""),
        "description": f"An OpenAI Responses API request to any model{where}, whatever "
        "protocol its upstream speaks: input items (messages, function calls and their "
        "outputs, reasoning), instructions, function tools, `text.format`, "
        "`reasoning.effort` and usage are translated. When the upstream speaks the "
        "Responses API too (type openai-response), the body is passed through with only "
        "`model` changed. The gateway stores nothing: translated requests refuse "
        "`previous_response_id`; send the whole conversation in `input`.",
        "security": _SECURITY,
        "parameters": [_PROVIDER_PATH] if provider else [],
        "requestBody": _json_body(schemas.ResponsesRequest, _RESPONSES_EXAMPLE),
        "responses": {
            **_ok(
                "The response (JSON), or its stream of typed events (text/event-stream).",
                schemas.ResponseObject,
                _RESPONSES_STREAM,
            ),
            **_errors("OpenAI"),
        },
    }


def _input_tokens_op(*, provider: bool) -> dict[str, Any]:
    return {
        "tags": ["OpenAI Responses"],
        "operationId": "countProviderInputTokens" if provider else "countInputTokens",
        "summary": "Count a response's input tokens"
        + (", provider in the path" if provider else ""),
        "description": "How many input tokens a Responses request would use, estimated by "
        "the gateway whatever the upstream (the same estimate as count_tokens for "
        "non-Anthropic upstreams).",
        "security": _SECURITY,
        "parameters": [_PROVIDER_PATH] if provider else [],
        "requestBody": _json_body(schemas.ResponsesRequest, _RESPONSES_EXAMPLE),
        "responses": {
            **_ok("The token count.", schemas.InputTokenCount),
            **_errors("OpenAI"),
        },
    }


def _count_tokens_op(*, provider: bool) -> dict[str, Any]:
    return {
        "tags": ["Anthropic"],
        "operationId": "countProviderTokens" if provider else "countTokens",
        "summary": "Count input tokens" + (", provider in the path" if provider else ""),
        "description": "How many input tokens a Messages request would use: counted by the "
        "upstream for Anthropic providers, estimated locally for the others. `max_tokens` "
        "is not needed.",
        "security": _SECURITY,
        "parameters": ([_PROVIDER_PATH] if provider else []) + [_BETA_QUERY, *_ANTHROPIC_HEADERS],
        "requestBody": _json_body(
            schemas.CountTokensRequest,
            {k: v for k, v in _MESSAGES_EXAMPLE.items() if k != "max_tokens"},
        ),
        "responses": {
            **_ok("The token count.", schemas.CountTokensResponse),
            **_errors("Anthropic"),
        },
    }


_EMBEDDINGS_PROVIDER_PATH = {
    **_PROVIDER_PATH,
    "schema": {"type": "string", "examples": ["my-openai"]},
}
_EMBEDDINGS_EXAMPLE = {
    "model": "my-openai:text-embedding-3-small",
    "input": ["The food was delicious.", "The waiter was friendly."],
}


def _embeddings_op(*, provider: bool) -> dict[str, Any]:
    return {
        "tags": ["Embeddings"],
        "operationId": "createProviderEmbeddings" if provider else "createEmbeddings",
        "summary": "Create embeddings (OpenAI format)"
        + (", provider in the path" if provider else ""),
        "description": "One vector per input. OpenAI-compatible and Azure OpenAI upstreams "
        "get the body with only `model` changed; Gemini upstreams get it translated to "
        "`batchEmbedContents` (text inputs only; usage estimated, as Gemini reports none). "
        "`encoding_format: base64` is honoured for every upstream. A provider whose type "
        "has no embeddings endpoint (Anthropic) answers 400, naming the types that do.",
        "security": _SECURITY,
        "parameters": [_EMBEDDINGS_PROVIDER_PATH] if provider else [],
        "requestBody": _json_body(
            schemas.EmbeddingsRequest,
            {**_EMBEDDINGS_EXAMPLE, "model": "text-embedding-3-small"}
            if provider
            else _EMBEDDINGS_EXAMPLE,
        ),
        "responses": {
            **_ok("The embeddings, in the inputs' order.", schemas.EmbeddingList),
            **_errors("OpenAI"),
        },
    }


def _paths() -> dict[str, Any]:
    no_auth: list[dict[str, Any]] = []
    return {
        "/": {
            "get": {
                "tags": ["Service"],
                "operationId": "serviceInfo",
                "summary": "Service name, version and endpoints",
                "description": "What this server is and where its endpoints are. No key needed.",
                "security": no_auth,
                "responses": _ok(
                    "The service's name, version and endpoint map.", schemas.ServiceInfo
                ),
            }
        },
        "/health": {
            "get": {
                "tags": ["Service"],
                "operationId": "health",
                "summary": "Health check",
                "description": "Answers 200 while the gateway is up. No key needed.",
                "security": no_auth,
                "responses": _ok("The gateway is up.", schemas.Health),
            }
        },
        "/api-docs": {
            "get": {
                "tags": ["Service"],
                "operationId": "apiDocs",
                "summary": "These docs (Swagger UI)",
                "description": "Interactive API docs, served entirely by the gateway (no CDN, "
                "works offline). No key needed.",
                "security": no_auth,
                "responses": {
                    "200": {
                        "description": "The Swagger UI page.",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/api-docs.json": {
            "get": {
                "tags": ["Service"],
                "operationId": "openapiDocument",
                "summary": "This OpenAPI document",
                "description": "The OpenAPI 3.1 document, generated from the same models that "
                "validate requests. No key needed.",
                "security": no_auth,
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {_JSON: {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/metrics": {
            "get": {
                "tags": ["Service"],
                "operationId": "metrics",
                "summary": "Usage metrics (Prometheus)",
                "description": "Requests, errors, tokens (input, output, cached, reasoning), "
                "duration and time-to-first-token histograms by provider, model, route and "
                "status class, in Prometheus' text format. Under `--workers N`, the sum "
                "over every worker.",
                "security": _SECURITY,
                "responses": {
                    "200": {
                        "description": "The metrics, in Prometheus' text exposition format.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_errors("OpenAI", (401, 403, 404, 500)),
                },
            }
        },
        "/v1/models": {
            "get": {
                "tags": ["Models"],
                "operationId": "listModels",
                "summary": "List models",
                "description": "The configured models of the enabled providers, as "
                "`provider-id:model-id` ids to send as `model`.",
                "security": _SECURITY,
                "parameters": [
                    {
                        "name": "providerType",
                        "in": "query",
                        "required": False,
                        "description": "Only providers of this type.",
                        "schema": {"type": "string", "enum": list(PROVIDER_TYPES)},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "description": "At most this many models.",
                        "schema": {"type": "integer", "minimum": 1},
                    },
                    {
                        "name": "offset",
                        "in": "query",
                        "required": False,
                        "description": "Skip this many models first.",
                        "schema": {"type": "integer", "minimum": 0, "default": 0},
                    },
                ],
                "responses": {
                    **_ok("The models.", schemas.ModelList),
                    **_errors("OpenAI", (400, 401, 403, 429, 500)),
                },
            }
        },
        "/v1/chat/completions": {
            "post": {
                "tags": ["OpenAI"],
                "operationId": "createChatCompletion",
                "summary": "Create a chat completion (OpenAI format)",
                "description": "An OpenAI Chat Completions request to any model of any "
                "enabled provider, whatever protocol its upstream speaks: text, system "
                "prompts, images, tools and tool results, stop reasons and usage are "
                "translated. When the upstream speaks OpenAI's protocol too, the body is "
                "passed through with only `model` changed.",
                "security": _SECURITY,
                "requestBody": _json_body(schemas.ChatCompletionRequest, _CHAT_EXAMPLE),
                "responses": {
                    **_ok(
                        "The completion (JSON), or its chunks (text/event-stream).",
                        schemas.ChatCompletion,
                        _CHAT_STREAM,
                    ),
                    **_errors("OpenAI"),
                },
            }
        },
        "/v1/responses": {"post": _responses_op(provider=False)},
        "/{provider_id}/v1/responses": {"post": _responses_op(provider=True)},
        "/v1/responses/input_tokens": {"post": _input_tokens_op(provider=False)},
        "/{provider_id}/v1/responses/input_tokens": {"post": _input_tokens_op(provider=True)},
        "/v1/messages": {"post": _messages_op(provider=False)},
        "/v1/messages/count_tokens": {"post": _count_tokens_op(provider=False)},
        "/{provider_id}/v1/messages": {"post": _messages_op(provider=True)},
        "/{provider_id}/v1/messages/count_tokens": {"post": _count_tokens_op(provider=True)},
        "/v1/embeddings": {"post": _embeddings_op(provider=False)},
        "/{provider_id}/v1/embeddings": {"post": _embeddings_op(provider=True)},
    }
