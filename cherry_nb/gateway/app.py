"""The gateway's Quart app: routes, auth, body limits, CORS and error envelopes.

Provider definitions are read from the registry on every request, so changes
made in the kernel (or, standalone, in the config file) apply to the next
request without a restart.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import ValidationError
from quart import Quart, Response, request
from werkzeug.exceptions import HTTPException

from .._exceptions import CherryError, ModelNotFoundError, RequestError, UnknownProviderError
from .._secrets import redact
from .._version import __version__
from ..config.models import PROVIDER_TYPES, Config, Provider
from ..config.registry import ProviderRegistry
from ..providers.pool import AdapterPool
from ..wire import anthropic as wire_anthropic
from . import schemas
from .auth import authenticate
from .docs import docs_blueprint
from .errors import Envelope, envelope_for_path, error_body, error_response
from .openapi import build_openapi
from .relay import ChatCall, relay_chat

log = logging.getLogger("cherry_nb.gateway")

# Model ids travel into URLs and headers upstream: no control characters there.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
_NO_AUTH = frozenset({"/", "/health", "/api-docs", "/api-docs.json"})


@dataclass
class GatewayState:
    """What the routes share: the registry, the key, and the adapters of this loop."""

    registry: ProviderRegistry
    api_key: str
    reload_config: bool = False
    cors_origins: tuple[str, ...] = ()
    read_timeout: float = 300.0
    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    _pool: AdapterPool | None = None

    @property
    def pool(self) -> AdapterPool:
        # Created lazily on the serving loop: httpx clients must not cross loops.
        if self._pool is None:
            self._pool = AdapterPool(timeout=httpx.Timeout(10.0, read=self.read_timeout))
        return self._pool

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    def config(self) -> Config:
        if self.reload_config:
            self.registry.reload_if_changed()
        return self.registry.config


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
    )
    app.extensions["cherry_nb"] = state
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes or settings.max_body_bytes
    app.config["RESPONSE_TIMEOUT"] = None  # streams may legitimately run for minutes
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.register_blueprint(docs_blueprint(get_openapi=lambda: build_openapi(version=__version__)))

    @app.after_serving
    async def _close_pool() -> None:
        await state.aclose()

    @app.before_request
    async def _gate() -> Response | None:
        state.requests += 1
        if request.method == "OPTIONS":
            return _preflight(state)
        path = request.path
        if path in _NO_AUTH or path.startswith("/api-docs/"):
            return None
        try:
            authenticate(
                request.headers.getlist("authorization"),
                request.headers.getlist("x-api-key"),
                state.api_key,
            )
        except RequestError as error:
            # Refused before its body was read: the connection cannot be reused,
            # and a client that tries would see it dropped mid-request.
            error.headers["connection"] = "close"
            raise
        return None

    @app.after_request
    async def _cors(response: Response) -> Response:
        origin = request.headers.get("origin")
        if origin and origin in state.cors_origins:
            response.headers["access-control-allow-origin"] = origin
            response.headers["vary"] = "Origin"
        return response

    @app.errorhandler(CherryError)
    async def _cherry_error(error: CherryError) -> Response:
        return error_response(envelope_for_path(request.path), error)

    @app.errorhandler(HTTPException)
    async def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        message = {
            404: f"No route {request.method} {request.path}. See /api-docs for the API.",
            405: f"{request.method} is not allowed on {request.path}.",
            413: f"Request body too large (limit {app.config['MAX_CONTENT_LENGTH']} bytes).",
        }.get(status, error.description or error.name)
        body = error_body(envelope_for_path(request.path), message, status)
        headers = {"connection": "close"} if status == 413 else {}
        return Response(
            json.dumps(body), status=status, headers=headers, content_type="application/json"
        )

    @app.errorhandler(Exception)
    async def _unexpected(error: Exception) -> Response:
        log.error("Unexpected error on %s: %s", request.path, redact(repr(error)))
        body = error_body(envelope_for_path(request.path), "Internal gateway error.", 500)
        return Response(json.dumps(body), status=500, content_type="application/json")

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

    @app.post("/v1/chat/completions")
    async def chat_completions() -> Response:
        body = await _json_body()
        _validate(schemas.validate_chat, body)
        return await _chat(state, "openai", body)

    @app.post("/v1/messages")
    async def messages() -> Response:
        body = await _json_body()
        _validate(schemas.validate_messages, body)
        return await _chat(state, "anthropic", body)

    @app.post("/<provider_id>/v1/messages")
    async def provider_messages(provider_id: str) -> Response:
        body = await _json_body()
        _validate(schemas.validate_messages, body)
        return await _chat(state, "anthropic", body, provider_id)

    @app.post("/v1/messages/count_tokens")
    async def count_tokens() -> Response:
        body = await _json_body()
        _validate(schemas.validate_count_tokens, body)
        return await _count_tokens(state, body)

    @app.post("/<provider_id>/v1/messages/count_tokens")
    async def provider_count_tokens(provider_id: str) -> Response:
        body = await _json_body()
        _validate(schemas.validate_count_tokens, body)
        return await _count_tokens(state, body, provider_id)

    return app


def gateway_state(app: Quart) -> GatewayState:
    state: GatewayState = app.extensions["cherry_nb"]
    return state


# ---- request helpers ---------------------------------------------------------------


async def _json_body() -> dict[str, Any]:
    raw = await request.get_data(cache=False)
    try:
        body = json.loads(raw)
    except RecursionError:
        raise RequestError("The request body is nested too deeply.", status=400) from None
    except ValueError as exc:
        reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not valid JSON"
        raise RequestError(f"The request body is {reason}.", status=400) from None
    if not isinstance(body, dict):
        raise RequestError("The request body must be a JSON object.", status=400)
    return body


def _validate(validator: Any, body: dict[str, Any]) -> None:
    try:
        validator(body)
    except ValidationError as exc:
        message, param = schemas.validation_message(exc)
        raise RequestError(message, status=400, param=param) from None
    except RecursionError:
        raise RequestError("The request body is nested too deeply.", status=400) from None


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


def resolve_model(
    config: Config, model: Any, provider_id: str | None = None
) -> tuple[Provider, str]:
    """The enabled provider and bare model id a request's `model` names.

    `provider-id:model-id` splits at the first colon. A bare id is looked up
    among the enabled providers' configured models, so clients that send fixed
    model names (Claude Code's background model) still land somewhere sensible.
    """
    if not isinstance(model, str) or not model.strip():
        raise RequestError("`model` is required, as provider-id:model-id.", param="model")
    if _UNSAFE.search(model):
        raise RequestError("`model` contains control characters.", param="model")
    if provider_id is not None:
        if _UNSAFE.search(provider_id) or "/" in provider_id:
            raise RequestError("Invalid provider id in the path.", status=404)
        prefix = f"{provider_id}:"
        bare = model[len(prefix) :] if model.startswith(prefix) else model
        return _enabled(config, provider_id), bare
    provider_part, sep, bare = model.partition(":")
    if sep and any(p.id == provider_part for p in config.providers):
        return _enabled(config, provider_part), bare
    for provider in config.providers:
        if provider.enabled and model in provider.model_ids():
            return provider, model
    available = [f"{p.id}:{m}" for p in config.providers if p.enabled for m in p.model_ids()]
    raise RequestError(
        f"Model {model!r} not found. Write it as provider-id:model-id; available: "
        f"{', '.join(available[:20]) or 'none (add a provider first)'}.",
        status=404,
        error_type="not_found_error",
        param="model",
    )


def _enabled(config: Config, provider_id: str) -> Provider:
    try:
        provider = config.provider(provider_id)
    except UnknownProviderError as error:
        raise RequestError(error.message, status=404, error_type="not_found_error") from None
    if not provider.enabled:
        raise RequestError(
            f"Provider {provider_id!r} is disabled. Enable it in `%chat setup` or the config.",
            status=404,
            error_type="not_found_error",
        )
    return provider


async def _chat(
    state: GatewayState, envelope: Envelope, body: dict[str, Any], provider_id: str | None = None
) -> Response:
    config = state.config()
    requested = body.get("model")
    provider, model = resolve_model(config, requested, provider_id)
    call = ChatCall(
        envelope=envelope,
        body=body,
        adapter=state.pool.adapter(provider),
        model=model,
        requested_model=str(requested),
        headers=request.headers,
    )
    try:
        return await relay_chat(call)
    except ModelNotFoundError as error:
        if provider.models:
            error.message += f" Configured for {provider.id}: {', '.join(provider.model_ids())}."
        raise


async def _count_tokens(
    state: GatewayState, body: dict[str, Any], provider_id: str | None = None
) -> Response:
    provider, model = resolve_model(state.config(), body.get("model"), provider_id)
    adapter = state.pool.adapter(provider)
    if provider.type == "anthropic":
        from ..providers.anthropic import AnthropicAdapter

        assert isinstance(adapter, AnthropicAdapter)
        body = dict(body, model=model)
        upstream = await adapter.request(
            "POST",
            adapter.count_tokens_url(),
            content=json.dumps(body).encode(),
            model=model,
        )
        try:
            data = await upstream.aread()
        finally:
            await upstream.aclose()
        return Response(data, content_type="application/json")
    parsed = wire_anthropic.parse_request(dict(body, max_tokens=body.get("max_tokens") or 1))
    return Response(
        json.dumps({"input_tokens": wire_anthropic.count_tokens(parsed)}),
        content_type="application/json",
    )


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
