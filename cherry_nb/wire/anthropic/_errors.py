"""Error envelopes: Anthropic's error body built, an upstream's error body read, and an
`event: error` raised as an exception."""

from __future__ import annotations

import json
from typing import Any

from ..._exceptions import RateLimitError, UpstreamError
from .._text import readable_text

_ERROR_TYPE_BY_STATUS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def build_error(message: str, *, status: int, error_type: str | None = None) -> dict[str, Any]:
    """An Anthropic error body; the type follows the status unless given."""
    if error_type is None:
        fallback = "api_error" if status >= 500 else "invalid_request_error"
        error_type = _ERROR_TYPE_BY_STATUS.get(status, fallback)
    return {"type": "error", "error": {"type": error_type, "message": message}}


def parse_error(status: int, body: bytes | str) -> tuple[str, str | None]:
    """(message, error type) from an upstream error body; non-JSON gives short plain text."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes | bytearray) else body
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            error_type = error.get("type")
            return error["message"], error_type if isinstance(error_type, str) else None
        if isinstance(error, str) and error:
            return error, None
        if isinstance(data.get("message"), str) and data["message"]:
            return data["message"], None
    return readable_text(text) or f"HTTP {status}", None


def _stream_error(error: Any) -> Exception:
    """The exception for an `event: error`: 429-like for rate limits, else UpstreamError."""
    if not isinstance(error, dict):
        error = {}
    message = str(error.get("message") or "The upstream reported an error mid-stream.")
    error_type = error.get("type") if isinstance(error.get("type"), str) else None
    if error_type == "rate_limit_error":
        return RateLimitError(message, upstream_type=error_type)
    return UpstreamError(message, upstream_type=error_type)
