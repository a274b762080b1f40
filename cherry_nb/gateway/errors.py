"""Errors in the caller's envelope, with the status that tells the truth.

Upstream statuses are mapped, not flattened to 500: a client can tell a bad
gateway key (401/403 from the gateway) from an upstream that refused its own
key (the message says so), a rate limit (429) from a timeout (504).
"""

from __future__ import annotations

import logging
from typing import Literal, TypeAlias

from .._exceptions import (
    AuthenticationError,
    BadResponseError,
    CherryError,
    NetworkError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    RequestError,
    UnknownProviderError,
    UpstreamTimeoutError,
    WireFormatError,
)
from .._secrets import redact
from ..wire import anthropic as wire_anthropic
from ..wire import openai as wire_openai
from .reply import Reply, json_reply

#: The client's wire format; the Responses API answers errors in OpenAI's envelope.
Envelope: TypeAlias = Literal["openai", "anthropic", "responses"]
log = logging.getLogger("cherry_nb.gateway")


def status_of(error: CherryError) -> int:
    """The HTTP status a gateway client should see for `error`."""
    if isinstance(error, RequestError):
        return error.status
    if isinstance(error, WireFormatError):
        return 400
    if isinstance(error, UnknownProviderError | NotFoundError):
        return 404
    if isinstance(error, RateLimitError):
        return 429
    if isinstance(error, UpstreamTimeoutError):
        return 504
    if isinstance(error, NetworkError | BadResponseError):
        return 502
    if isinstance(error, AuthenticationError):
        return error.status if error.status in (401, 403) else 401
    if isinstance(error, ProviderError):
        status = error.status or 502
        return status if 400 <= status < 600 else 502
    return 500  # ConfigError and anything else: the gateway's own fault


def error_body(
    envelope: Envelope,
    message: str,
    status: int,
    error_type: str | None = None,
    param: str | None = None,
) -> dict[str, object]:
    if envelope == "anthropic":
        return wire_anthropic.build_error(message, status=status, error_type=error_type)
    return wire_openai.build_error(message, status=status, error_type=error_type, param=param)


def error_reply(envelope: Envelope, error: CherryError) -> Reply:
    """A JSON error reply in `envelope`'s shape for any CherryError."""
    status = status_of(error)
    error_type = param = None
    headers: dict[str, str] = {}
    if isinstance(error, RequestError):
        error_type, param, headers = error.error_type, error.param, dict(error.headers)
    elif isinstance(error, WireFormatError):
        param = error.param
    if isinstance(error, RateLimitError) and error.retry_after is not None:
        headers["retry-after"] = str(max(1, round(error.retry_after)))
    body = error_body(envelope, error.message, status, error_type, param)
    return json_reply(body, status, headers)


def envelope_for_path(path: str) -> Envelope:
    """Anthropic routes answer in Anthropic's envelope; everything else in OpenAI's."""
    return "anthropic" if "/messages" in path else "openai"


def shown(path: str, limit: int = 200) -> str:
    """A client's path for a message: long ones cut (the client knows what it sent)."""
    return path if len(path) <= limit else path[:limit] + "…"


def method_not_allowed(method: str, path: str, allowed: list[str]) -> Reply:
    # RFC 9110: a 405 says which methods the resource does allow.
    message = redact(f"{method} is not allowed on {shown(path)}.")
    body = error_body(envelope_for_path(path), message, 405)
    return json_reply(body, 405, {"allow": ", ".join(sorted(allowed))})


def too_large(path: str, limit: int) -> Reply:
    # The rest of the body is not read, so the connection cannot be reused.
    message = f"Request body too large (limit {limit} bytes)."
    body = error_body(envelope_for_path(path), message, 413)
    return json_reply(body, 413, {"connection": "close"})


def slash_redirect(path: str, query: str, status: int = 308) -> Reply:
    """A doubled slash answered with where to go, in the caller's envelope (relative URL)."""
    location = path + (f"?{query}" if query else "")
    message = f"Use {shown(path)}: the URL has a doubled slash."
    body = error_body(envelope_for_path(path), redact(message), status)
    return json_reply(body, status, {"location": redact(location)})


INTERNAL_ERROR = "Internal gateway error."


def log_unexpected(path: str, error: Exception) -> None:
    log.error("Unexpected error on %s: %s", redact(shown(path)), redact(repr(error)))


def unexpected(path: str, error: Exception, envelope: Envelope | None = None) -> Reply:
    """A bug's 500: logged for us (redacted), a plain message for the client."""
    log_unexpected(path, error)
    body = error_body(envelope or envelope_for_path(path), INTERNAL_ERROR, 500)
    return json_reply(body, 500)
