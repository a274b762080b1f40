"""A gateway answer before it meets a server: status, headers and a body.

The chat routes send it straight over ASGI; the Quart routes convert it. Keeping
the relay and the error envelopes free of either lets both share them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any

JSON = "application/json"
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class StreamReply:
    """A streamed body, and how to end it in its protocol's terms if it cannot finish.

    `chunks` raises CherryError for a failure after the first byte; the sender then
    writes `error_event(message)`, so there is one place that ends a broken stream.
    """

    chunks: AsyncGenerator[bytes, None]
    error_event: Callable[[str], bytes]
    content_type: str = "text/event-stream"
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: dict(SSE_HEADERS))


def json_reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """ASCII-escaped JSON: messages may echo a client's text, lone surrogates included."""
    return Reply(status, json.dumps(data).encode(), JSON, headers or {})
