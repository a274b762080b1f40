"""Errors in the caller's envelope, with the status that tells the truth.

Upstream statuses are mapped, not flattened to 500: a client can tell a bad
gateway key (401/403 from the gateway) from an upstream that refused its own
key (the message says so), a rate limit (429) from a timeout (504).
"""

from __future__ import annotations

import json
from typing import Literal, TypeAlias

from quart import Response

from .._exceptions import (
    AuthenticationError,
    BadResponseError,
    CherryError,
    ConfigError,
    NetworkError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    RequestError,
    UnknownProviderError,
    UpstreamTimeoutError,
    WireFormatError,
)
from ..wire import anthropic as wire_anthropic
from ..wire import openai as wire_openai

Envelope: TypeAlias = Literal["openai", "anthropic"]


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
    if isinstance(error, ConfigError):
        return 500
    return 500


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


def error_response(envelope: Envelope, error: CherryError) -> Response:
    """A JSON error response in `envelope`'s shape for any CherryError."""
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
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def envelope_for_path(path: str) -> Envelope:
    """Anthropic routes answer in Anthropic's envelope; everything else in OpenAI's."""
    return "anthropic" if "/messages" in path else "openai"
