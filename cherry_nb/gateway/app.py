"""The gateway's Quart app: routes, auth, body limits, CORS and error envelopes.

Provider definitions are read from the registry on every request, so changes
made in the kernel (or, standalone, in the config file) apply to the next
request without a restart.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from quart import Quart, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RequestRedirect

from .._exceptions import CherryError, RequestError
from .._secrets import redact
from .._version import __version__
from ..config.models import PROVIDER_TYPES, Config
from ..config.registry import ProviderRegistry
from ..providers.anthropic import AnthropicAdapter
from ..wire import anthropic as wire_anthropic
from . import schemas
from .auth import authenticate
from .chat_routes import ChatRoutes
from .checks import json_object, resolve_model, validate
from .docs import docs_blueprint
from .errors import (
    envelope_for_path,
    error_body,
    error_reply,
    method_not_allowed,
    shown,
    slash_redirect,
    too_large,
    unexpected,
)
from .openapi import build_openapi
from .reply import Reply, json_reply
from .state import GatewayState

_NO_AUTH = frozenset({"/", "/health", "/api-docs", "/api-docs.json"})


def create_app(
    registry: ProviderRegistry,
    *,
    api_key: str,
    reload_config: bool = False,
    cors_origins: tuple[str, ...] | list[str] = (),
    max_body_bytes: int | None = None,
) -> Quart:
    """The gateway app over `registry`, accepting `api_key` from clients.

    Body limit, CORS origins and upstream timeout come from the config's
    `server` section unless given.
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
    )
    app.extensions["cherry_nb"] = state
    app.config["MAX_CONTENT_LENGTH"] = state.max_body_bytes
    app.config["RESPONSE_TIMEOUT"] = None  # streams may legitimately run for minutes
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.register_blueprint(docs_blueprint(get_openapi=lambda: build_openapi(version=__version__)))
    # Quart's documented middleware hook: the chat routes never reach Quart.
    app.asgi_app = ChatRoutes(state, app.asgi_app)  # type: ignore[method-assign,assignment]

    @app.after_serving
    async def _close_pool() -> None:
        await state.aclose()

    @app.before_request
    async def _gate() -> Response | None:
        if request.method == "OPTIONS":
            return _preflight(state)
        if isinstance(request.routing_exception, RequestRedirect):
            target = urlsplit(request.routing_exception.new_url)
            return to_response(slash_redirect(target.path, target.query))
        path = request.path
        if path in _NO_AUTH or path.startswith("/api-docs/"):
            return None
        authenticate(
            request.headers.getlist("authorization"),
            request.headers.getlist("x-api-key"),
            state.api_key,
        )
        state.requests += 1  # API requests served: not refused keys, health or docs
        return None

    @app.after_request
    async def _cors(response: Response) -> Response:
        response.headers.update(state.cors_headers(request.headers.get("origin")))
        return response

    @app.errorhandler(CherryError)
    async def _cherry_error(error: CherryError) -> Response:
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
                "count_tokens": "POST /v1/messages/count_tokens",
                "provider_messages": "POST /{provider-id}/v1/messages",
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

    @app.post("/v1/messages/count_tokens")
    async def count_tokens() -> Response:
        return to_response(await _count_tokens(state, await _checked_body()))

    @app.post("/<provider_id>/v1/messages/count_tokens")
    async def provider_count_tokens(provider_id: str) -> Response:
        return to_response(await _count_tokens(state, await _checked_body(), provider_id))

    return app


def gateway_state(app: Quart) -> GatewayState:
    state: GatewayState = app.extensions["cherry_nb"]
    return state


def to_response(reply: Reply) -> Response:
    return Response(
        reply.body, status=reply.status, headers=reply.headers, content_type=reply.content_type
    )


async def _checked_body() -> dict[str, Any]:
    body = json_object(await request.get_data(cache=False, as_text=False, parse_form_data=False))
    validate(schemas.validate_count_tokens, body)
    return body


def _preflight(state: GatewayState) -> Response:
    origin = request.headers.get("origin", "")
    if not state.cors_origins or origin not in state.cors_origins:
        return Response("", status=403)
    return Response(
        "",
        status=204,
        headers={
            "access-control-allow-origin": origin,
            "access-control-allow-methods": "GET, POST, OPTIONS",
            "access-control-allow-headers": (
                "authorization, content-type, x-api-key, anthropic-version, anthropic-beta"
            ),
            "access-control-max-age": "600",
            "vary": "Origin",
        },
    )


async def _count_tokens(
    state: GatewayState, body: dict[str, Any], provider_id: str | None = None
) -> Reply:
    provider, model = resolve_model(state.config(), body.get("model"), provider_id)
    adapter = state.pool.adapter(provider)
    if isinstance(adapter, AnthropicAdapter):  # the upstream counts for itself
        body = dict(body, model=model)
        upstream = await adapter.request(
            "POST",
            adapter.count_tokens_url(),
            content=json.dumps(body).encode(),
            model=model,
        )
        return Reply(200, await adapter.read_body(upstream, model))
    parsed = wire_anthropic.parse_request(dict(body, max_tokens=body.get("max_tokens") or 1))
    return json_reply({"input_tokens": wire_anthropic.count_tokens(parsed)})


def list_models(config: Config, args: Any) -> dict[str, Any]:
    """GET /v1/models from the enabled providers' configured models."""
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
