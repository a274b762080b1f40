"""Error envelopes: google.rpc.Status bodies built and read, and an error payload (in a
stream or a reply) raised as an exception."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..._exceptions import RateLimitError, UpstreamError
from .._text import readable_text

_STATUS_BY_HTTP: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_HTTP_BY_STATUS: dict[str, int] = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


def build_error(message: str, *, status: int, error_type: str | None = None) -> dict[str, Any]:
    """A google.rpc.Status-shaped error body as Gemini returns it."""
    name = (
        error_type
        or _STATUS_BY_HTTP.get(status)
        or ("INTERNAL" if status >= 500 else "INVALID_ARGUMENT")
    )
    return {"error": {"code": status, "message": message, "status": name}}


def parse_error(status: int, body: bytes | str) -> tuple[str, str | None]:
    """(message, type) from an error body; type prefers ErrorInfo's reason over status.

    A 400 whose reason is API_KEY_INVALID is a bad key, not a bad request, so the
    reason is the more useful type. Non-JSON bodies (proxy HTML pages) give text.
    """
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        payload: Any = json.loads(text)
    except ValueError:
        payload = None
    if isinstance(payload, list) and payload:
        payload = payload[0]
    error = payload.get("error") if isinstance(payload, Mapping) else None
    if isinstance(error, str):
        return error, None
    if error is None and isinstance(payload, Mapping) and isinstance(payload.get("message"), str):
        return payload["message"], None
    if not isinstance(error, Mapping):
        return (readable_text(text) or f"HTTP {status}"), None
    message = str(error.get("message") or f"HTTP {status}")
    details = error.get("details")
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, Mapping) and isinstance(detail.get("reason"), str):
            return message, detail["reason"]
    kind = error.get("status")
    return message, kind if isinstance(kind, str) else None


def _stream_error(error: Mapping[str, Any]) -> UpstreamError | RateLimitError:
    message = str(error.get("message") or "Gemini reported an error")
    status = error.get("status") if isinstance(error.get("status"), str) else None
    code = error.get("code") if isinstance(error.get("code"), int) else None
    if code == 429 or status == "RESOURCE_EXHAUSTED":
        retry = _retry_after(error.get("details"))
        return RateLimitError(message, retry_after=retry, status=429, upstream_type=status)
    return UpstreamError(message, status=code, upstream_type=status)


def _retry_after(details: Any) -> float | None:
    """Seconds from a google.rpc.RetryInfo detail (`"retryDelay": "37s"`)."""
    for detail in details if isinstance(details, list) else ():
        delay = detail.get("retryDelay") if isinstance(detail, Mapping) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                return None
    return None
