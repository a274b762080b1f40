"""Error envelopes: the Responses API answers errors in Chat Completions' envelope, so
building and reading them is the OpenAI package's code, re-exported here; what is the
Responses format's own is how a failed response (status `failed`) is raised."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cherry_nb._exceptions import UpstreamError
from cherry_nb.wire.openai import build_error, parse_error

from ._common import _dumps

__all__ = ["build_error", "parse_error"]


def _failed(payload: Mapping[str, Any]) -> UpstreamError:
    """A `response.failed` response, an `error` event or a body with `error`, as raised."""
    error = payload.get("error")
    if isinstance(error, Mapping):
        source: Mapping[str, Any] = error
    elif payload.get("type") == "error":  # the `error` stream event: fields at the top
        source = payload
    else:
        source = {}
    message = error if isinstance(error, str) else source.get("message")
    if not isinstance(message, str) or not message:
        message = "The upstream reported a failed response: " + _dumps(payload)[:200]
    kind = source.get("code") or source.get("type")
    return UpstreamError(message, upstream_type=kind if isinstance(kind, str) else None)
