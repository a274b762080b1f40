"""The gateway's Quart app: the routes that are not chat routes, behind the gate.

The gate (gateway/gate.py) checks Host, key, CORS, method and body size for every
route before Quart sees a request; Quart only routes and answers.

Provider definitions are read from the registry on every request, so changes
made in the kernel (or, standalone, in the config file) apply to the next
request without a restart.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from quart import Quart, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .._exceptions import CherryError, RequestError
from .._secrets import redact
from .._version import __version__
from ..config.kinds import PROVIDER_TYPES
from ..config.models import Config
from ..config.registry import ProviderRegistry
from ..ledger.recorder import Recorder
from ..wire import anthropic as wire_anthropic
from ..wire.formats import ANTHROPIC, RESPONSES, CheckedRequest, WireFormat
from .chat_routes import ChatRoutes
from .checks import check_request, json_object, resolve_model
from .docs import docs_blueprint
from .embeddings import answer_embeddings
from .errors import (
    envelope_for_path,
    error_body,
    error_reply,
    method_not_allowed,
    shown,
    too_large,
    unexpected,
)
from .gate import Gate
from .reply import Reply, json_reply
from .state import GatewayState
from .usage import request_usage


def create_app(
    registry: ProviderRegistry,
    *,
    api_key: str,
    reload_config: bool = False,
    cors_origins: tuple[str, ...] | list[str] = (),
    max_body_bytes: int | None = None,
    recorder: Recorder | None = None,
) -> Quart:
    """The gateway app over `registry`, accepting `api_key` from clients.

    Body limit, CORS origins, upstream timeout and connection cap come from the
    config's `server` section (as it is now: read once) unless given. Usage goes to
    `recorder`, by default one of the app's own over the ledger beside the config file
    (closed, so flushed, when the app stops serving) and this process's metrics.
    """
    settings = registry.config.server
    app = Quart("cherry_nb.gateway")
    state = GatewayState(
        registry,
        api_key,
        reload_config,
        tuple(cors_origins or settings.cors_origins),
        settings.upstream_read_timeout,
        max_body_bytes or settings.max_body_bytes,
        upstream_connections=settings.upstream_connections,
        recorder=recorder or Recorder.open(registry.path),
    )
    app.extensions["cherry_nb"] = state
    app.config["MAX_CONTENT_LENGTH"] = None  # the gate limits bodies
    app.config["RESPONSE_TIMEOUT"] = None  # streams may legitimately run for minutes
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.register_blueprint(docs_blueprint(get_openapi=_openapi_document))
    # Quart's documented middleware hook: every request meets the gate, and the chat
    # routes never reach Quart.
    app.asgi_app = Gate(state, ChatRoutes(state, app.asgi_app))  # type: ignore[method-assign,assignment]

    @app.after_serving
    async def _close_pool() -> None:
        await state.aclose()
        if recorder is None:  # the app's own: flush its ledger (a thread join: off the loop)
            await asyncio.to_thread(state.recorder.close)

    @app.errorhandler(CherryError)
    async def _cherry_error(error: CherryError) -> Response:
        if (usage := request_usage(request.scope)) is not None:
            usage.failed(error)
        return to_response(error_reply(envelope_for_path(request.path), error))

    @app.errorhandler(HTTPException)
    async def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            allowed = list(error.valid_methods)
            return to_response(method_not_allowed(request.method, request.path, allowed))
        if status == 413:
            return to_response(too_large(request.path, state.max_body_bytes))
        message = (
            f"No route {request.method} {shown(request.path)}. See /api-docs for the API."
            if status == 404
            else error.description or error.name
        )
        # The path is the client's text: it may hold a key pasted into a base URL.
        body = error_body(envelope_for_path(request.path), redact(message), status)
        return to_response(json_reply(body, status))

    @app.errorhandler(Exception)
    async def _unexpected(error: Exception) -> Response:
        return to_response(unexpected(request.path, error))

    @app.get("/")
    async def index() -> dict[str, Any]:
        return {
            "name": "cherry-nb gateway",
            "version": __version__,
            "endpoints": {
                "health": "GET /health",
                "docs": "GET /api-docs",
                "openapi": "GET /api-docs.json",
                "models": "GET /v1/models",
                "chat_completions": "POST /v1/chat/completions",
                "messages": "POST /v1/messages",
                "responses": "POST /v1/responses",
                "count_tokens": "POST /v1/messages/count_tokens",
                "input_tokens": "POST /v1/responses/input_tokens",
                "provider_messages": "POST /{provider-id}/v1/messages",
                "embeddings": "POST /v1/embeddings",
                "provider_embeddings": "POST /{provider-id}/v1/embeddings",
                "metrics": "GET /metrics",
                "provider_responses": "POST /{provider-id}/v1/responses",
            },
        }

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "uptime_seconds": round(time.monotonic() - state.started, 3),
        }

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return list_models(state.config(), request.args)

    @app.get("/metrics")
    async def metrics() -> Response:
        from ..ledger.metrics import CONTENT_TYPE

        usage_metrics = state.recorder.metrics
        if usage_metrics is None:
            raise RequestError("This gateway keeps no metrics.", status=404)
        return Response(usage_metrics.render(), status=200, content_type=CONTENT_TYPE)

    @app.post("/v1/messages/count_tokens")
    async def count_tokens() -> Response:
        return to_response(await _count_tokens(state, *await _checked_body()))

    @app.post("/<provider_id>/v1/messages/count_tokens")
    async def provider_count_tokens(provider_id: str) -> Response:
        return to_response(await _count_tokens(state, *await _checked_body(), provider_id))

    @app.post("/v1/responses/input_tokens")
    async def input_tokens() -> Response:
        return to_response(_input_tokens(state, *await _checked_body(RESPONSES)))

    @app.post("/<provider_id>/v1/responses/input_tokens")
    async def provider_input_tokens(provider_id: str) -> Response:
        return to_response(_input_tokens(state, *await _checked_body(RESPONSES), provider_id))

    @app.post("/v1/embeddings")
    async def embeddings() -> Response:
        raw = await request.get_data(cache=False, as_text=False, parse_form_data=False)
        return to_response(await answer_embeddings(state, raw, None, request_usage(request.scope)))

    @app.post("/<provider_id>/v1/embeddings")
    async def provider_embeddings(provider_id: str) -> Response:
        raw = await request.get_data(cache=False, as_text=False, parse_form_data=False)
        return to_response(
            await answer_embeddings(state, raw, provider_id, request_usage(request.scope))
        )

    return app


def _openapi_document() -> dict[str, Any]:
    """The OpenAPI document, built (from pydantic schemas) at the first request for it,
    not at start-up; `build_openapi` caches it."""
    from .openapi import build_openapi

    return build_openapi(version=__version__)


def gateway_state(app: Quart) -> GatewayState:
    state: GatewayState = app.extensions["cherry_nb"]
    return state


def to_response(reply: Reply) -> Response:
    return Response(
        reply.body, status=reply.status, headers=reply.headers, content_type=reply.content_type
    )


async def _checked_body(wire: WireFormat = ANTHROPIC) -> tuple[dict[str, Any], CheckedRequest]:
    """A body validated by `wire`; a count_tokens body as a Messages request, which
    needs a `max_tokens` that count_tokens does not."""
    body = json_object(await request.get_data(cache=False, as_text=False, parse_form_data=False))
    checked = body
    if wire is ANTHROPIC and body.get("max_tokens") is None:
        checked = dict(body, max_tokens=1)
    return body, check_request(wire, checked)


async def _count_tokens(
    state: GatewayState,
    body: dict[str, Any],
    checked: CheckedRequest,
    provider_id: str | None = None,
) -> Reply:
    provider, model = resolve_model(state.config(), body.get("model"), provider_id)
    _served_by(provider.id, model)
    counted = await state.pool.adapter(provider).count_tokens(body, model)
    return Reply(200, counted)


def _input_tokens(
    state: GatewayState,
    body: dict[str, Any],
    checked: CheckedRequest,
    provider_id: str | None = None,
) -> Reply:
    """A Responses request's input tokens, estimated locally for every upstream (as
    count_tokens does for non-Anthropic ones): the model must still name one."""
    provider, model = resolve_model(state.config(), body.get("model"), provider_id)
    _served_by(provider.id, model)
    count = wire_anthropic.count_tokens(checked.to_translate())
    return json_reply({"object": "response.input_tokens", "input_tokens": count})


#: `owned_by` of a model group in GET /v1/models.
GROUP_OWNER = "cherry-nb-group"


def _served_by(provider_id: str, model: str) -> None:
    """Note the upstream a Quart route's request went to, for its usage record (counting
    tokens uses none: its tokens are not recorded as spent)."""
    if (usage := request_usage(request.scope)) is not None:
        usage.served_by(provider_id, model)


def list_models(config: Config, args: Any) -> dict[str, Any]:
    """GET /v1/models from the enabled providers' configured models, then the model
    groups (unless filtered by providerType)."""
    provider_type = args.get("providerType")
    if provider_type is not None and provider_type not in PROVIDER_TYPES:
        raise RequestError(
            f"providerType must be one of {', '.join(PROVIDER_TYPES)}.", param="providerType"
        )
    limit = _int_arg(args, "limit", minimum=1)
    offset = _int_arg(args, "offset", minimum=0) or 0
    data = [
        {
            "id": f"{p.id}:{m.id}",
            "object": "model",
            "name": m.label,
            "created": 0,
            "owned_by": p.name,
            "provider": p.id,
            "provider_name": p.name,
            "provider_type": p.type,
            "provider_model_id": m.id,
        }
        for p in config.providers
        if p.enabled and (provider_type is None or p.type == provider_type)
        for m in p.models
    ]
    if provider_type is None:  # a group may span types
        data += [
            {
                "id": g.id,
                "object": "model",
                "name": g.id,
                "created": 0,
                "owned_by": GROUP_OWNER,
                "provider": None,
                "provider_name": None,
                "provider_type": None,
                "provider_model_id": None,
                "members": list(g.models),
                "strategy": g.strategy,
            }
            for g in config.groups
        ]
    end = None if limit is None else offset + limit
    return {"object": "list", "data": data[offset:end]}


def _int_arg(args: Any, name: str, *, minimum: int) -> int | None:
    raw = args.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise RequestError(f"{name} must be an integer.", param=name) from None
    if value < minimum:
        raise RequestError(f"{name} must be at least {minimum}.", param=name)
    return value
