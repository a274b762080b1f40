"""Error envelopes: OpenAI's error body built, any upstream's error body read, and an error
payload (in a stream or a 200 reply) raised as UpstreamError."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cherry_nb._exceptions import UpstreamError
from cherry_nb.wire._text import readable_text

from ._common import _dumps

STATUS_TO_ERROR_TYPE: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}
"""HTTP status -> error `type`; other 5xx are `api_error`, other 4xx invalid requests."""


def build_error(
    message: str,
    *,
    status: int,
    error_type: str | None = None,
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """An error body in OpenAI's shape; the type follows the status when not given."""
    if error_type is None:
        fallback = "api_error" if status >= 500 else "invalid_request_error"
        error_type = STATUS_TO_ERROR_TYPE.get(status, fallback)
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def parse_error(status: int, body: bytes | str) -> tuple[str, str | None]:
    """(message, type or code) from any upstream error body, JSON or not."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes | bytearray) else body
    try:
        data = json.loads(text)
    except ValueError:
        return _plain_message(text, status), None
    if isinstance(data, list) and data:  # Gemini wraps its error in a list
        data = data[0]
    if not isinstance(data, Mapping):
        return _plain_message(text, status), None
    message, kind = _json_error(data)
    if not message or not message.strip():
        message = _plain_message(_dumps(data) if data else "", status)
    return message, kind


def _json_error(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    error = data.get("error")
    if isinstance(error, Mapping):
        message = error.get("message")
        return message if isinstance(message, str) else _dumps(error), _error_kind(error)
    if isinstance(error, str):
        return error, _error_kind(data)
    if isinstance(data.get("message"), str):  # vLLM: {"object": "error", "message": ..}
        return data["message"], _error_kind(data)
    if "detail" in data:  # FastAPI
        return _detail_message(data["detail"]), None
    return None, _error_kind(data)


def _error_kind(source: Mapping[str, Any]) -> str | None:
    """The error's label: `type`, else a string `code`, else `status` (Gemini)."""
    for key in ("type", "code", "status"):
        value = source.get(key)
        if isinstance(value, str) and value and value != "error":
            return value
    return None


def _detail_message(detail: Any) -> str:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):  # validation errors: [{"loc": [...], "msg": ...}]
        msgs = [str(d["msg"]) for d in detail if isinstance(d, Mapping) and d.get("msg")]
        if msgs:
            return "; ".join(msgs)
    return _dumps(detail)[:200]


def _plain_message(text: str, status: int) -> str:
    """HTML or plain text -> one short readable line."""
    return readable_text(text) or f"HTTP {status} with an empty body"


def _stream_error(chunk: Mapping[str, Any]) -> UpstreamError:
    """`{"error": {...}}`, `{"error": "text"}` or an `event: error` payload, as raised."""
    error = chunk.get("error")
    source = error if isinstance(error, Mapping) else chunk
    message = error if isinstance(error, str) else source.get("message")
    if not isinstance(message, str) or not message:
        message = "The upstream reported an error mid-stream: " + _dumps(chunk)[:200]
    return UpstreamError(message, upstream_type=_error_kind(source))
