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
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError
from quart import Quart, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RequestRedirect

from .._exceptions import CherryError, ModelNotFoundError, RequestError, UnknownProviderError
from .._secrets import redact
from .._version import __version__
from ..config.models import PROVIDER_ID_RE, PROVIDER_TYPES, Config, Provider
from ..config.registry import ProviderRegistry
from ..providers.anthropic import AnthropicAdapter
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
# Gemini and Azure (deployments) upstreams take the model id as a URL path segment: one
# that holds a separator or a dot segment would address another endpoint of the upstream
# with the provider's key (`../../v1/files?`), so such ids are refused.
_URL_BOUND = frozenset({"gemini", "azure-openai"})
_NOT_A_SEGMENT = re.compile(r"[/\\?#%]|^\.{1,2}$")
# A \uD800-\uDFFF escape with no partner: valid JSON syntax, but not Unicode (it cannot be
# encoded to send upstream). Only bodies that match are checked further.
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
# Any \uD800-\uDFFF escape: a cheap scan that skips the lookaround search above on
# nearly every body (that one costs ~4 ms on a 140 KB Claude Code request).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
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
        if isinstance(request.routing_exception, RequestRedirect):
            return _redirect(request.routing_exception)
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
        path = _shown(request.path)
        message = {
            404: f"No route {request.method} {path}. See /api-docs for the API.",
            405: f"{request.method} is not allowed on {path}.",
            413: f"Request body too large (limit {app.config['MAX_CONTENT_LENGTH']} bytes).",
        }.get(status, error.description or error.name)
        # The path is the client's text: it may hold a key pasted into a base URL.
        body = error_body(envelope_for_path(request.path), redact(message), status)
        headers = {"connection": "close"} if status == 413 else {}
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            # RFC 9110: a 405 says which methods the resource does allow.
            headers["allow"] = ", ".join(sorted(error.valid_methods))
        return Response(
            json.dumps(body), status=status, headers=headers, content_type="application/json"
        )

    @app.errorhandler(Exception)
    async def _unexpected(error: Exception) -> Response:
        log.error("Unexpected error on %s: %s", redact(_shown(request.path)), redact(repr(error)))
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


class _NotJSONError(ValueError):
    """A constant Python's json module accepts but JSON does not have."""


def _no_constants(name: str) -> Any:
    raise _NotJSONError(name)


async def _json_body() -> dict[str, Any]:
    raw = await request.get_data(cache=False)
    try:
        # JSON between systems is UTF-8 (RFC 8259), which allows ignoring a byte order
        # mark; json.loads(bytes) would also guess UTF-16 and UTF-32.
        text = raw.decode("utf-8-sig")
        body = json.loads(text, parse_constant=_no_constants)
        unencodable = (
            _SURROGATE_ESCAPE.search(text) is not None
            and _LONE_SURROGATE.search(text) is not None
            and not _encodable(body)
        )
    except RecursionError:
        raise RequestError("The request body is nested too deeply.", status=400) from None
    except UnicodeDecodeError:
        raise RequestError("The request body is not UTF-8.", status=400) from None
    except _NotJSONError as exc:
        raise RequestError(
            f"The request body is not valid JSON: {exc} is not a JSON value.", status=400
        ) from None
    except ValueError:
        raise RequestError("The request body is not valid JSON.", status=400) from None
    if not isinstance(body, dict):
        raise RequestError("The request body must be a JSON object.", status=400)
    if unencodable:
        raise RequestError(
            "The request body is not valid Unicode: it escapes half of a surrogate pair "
            "(\\ud800-\\udfff) without the other half.",
            status=400,
        )
    return body


def _encodable(body: dict[str, Any]) -> bool:
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(path: str, limit: int = 200) -> str:
    """A client's path for a message: long ones cut (the client knows what it sent)."""
    return path if len(path) <= limit else path[:limit] + "…"


def _redirect(redirect: RequestRedirect) -> Response:
    """Routing's redirect (a doubled slash) in the caller's envelope, to a relative URL."""
    target = urlsplit(redirect.new_url)
    location = target.path + (f"?{target.query}" if target.query else "")
    message = f"Use {_shown(target.path)}: the URL has a doubled slash."
    body = error_body(envelope_for_path(target.path), redact(message), redirect.code)
    return Response(
        json.dumps(body),
        status=redirect.code,
        headers={"location": redact(location)},
        content_type="application/json",
    )


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
        if not PROVIDER_ID_RE.match(provider_id):
            # Not echoed: it may be anything, of any length (`..`, NUL, 100 kB).
            raise RequestError(
                "Invalid provider id in the path: provider ids are up to 64 letters, "
                "digits, '.', '_' or '-'.",
                status=404,
                error_type="not_found_error",
            )
        prefix = f"{provider_id}:"
        bare = model[len(prefix) :] if model.startswith(prefix) else model
        return _url_safe(_enabled(config, provider_id), bare)
    provider_part, sep, bare = model.partition(":")
    if sep and any(p.id == provider_part for p in config.providers):
        return _url_safe(_enabled(config, provider_part), bare)
    for provider in config.providers:
        if provider.enabled and model in provider.model_ids():
            return _url_safe(provider, model)
    available = [f"{p.id}:{m}" for p in config.providers if p.enabled for m in p.model_ids()]
    raise RequestError(
        f"Model {model!r} not found. Write it as provider-id:model-id; available: "
        f"{', '.join(available[:20]) or 'none (add a provider first)'}.",
        status=404,
        error_type="not_found_error",
        param="model",
    )


def _url_safe(provider: Provider, model: str) -> tuple[Provider, str]:
    if provider.type in _URL_BOUND and _NOT_A_SEGMENT.search(model):
        raise RequestError(
            f"`model` {model!r} cannot be sent to {provider.id}: {provider.type} upstreams "
            "take the model id in the URL, so it must not contain / \\ ? # % or be . or ..",
            param="model",
        )
    return provider, model


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
    if isinstance(adapter, AnthropicAdapter):  # the upstream counts for itself
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
