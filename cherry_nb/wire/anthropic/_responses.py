"""Non-streamed replies: Message <-> neutral, with the stop-reason and usage mappings the
streams share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._exceptions import WireFormatError
from .._signatures import write_signature
from ..neutral import (
    ChatResponse,
    Reasoning,
    StopReason,
    Text,
    ToolCall,
    Usage,
)
from ._common import FORMAT, _get
from ._requests import _RESPONSE_PARSERS, _build_part, _parse_blocks

_STOP_FROM_ANTHROPIC: dict[str, StopReason] = {
    "end_turn": "end_turn",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_use",
    "pause_turn": "end_turn",
    "refusal": "content_filter",
    "model_context_window_exceeded": "max_tokens",
}
_STOP_TO_ANTHROPIC: dict[str, str] = {
    "end_turn": "end_turn",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_use",
    "content_filter": "refusal",
    "error": "end_turn",
}


def parse_response(body: Mapping[str, Any]) -> ChatResponse:
    """An upstream (non-streamed) Message -> ChatResponse; blocks of other types than text,
    tool_use and thinking (server tools, redacted thinking, later additions) are skipped."""
    if not isinstance(body, Mapping):
        raise WireFormatError("The response body must be a JSON object.")
    content = _get(body, "content", list, "a list of blocks", required=True)
    usage = body.get("usage")
    return ChatResponse(
        id=str(body.get("id") or ""),
        model=str(body.get("model") or ""),
        content=_parse_blocks(content, "content", _RESPONSE_PARSERS, strict=False),
        stop_reason=_stop_from_anthropic(body.get("stop_reason")),
        usage=_parse_usage(usage if isinstance(usage, Mapping) else {}),
    )


def _stop_from_anthropic(value: Any) -> StopReason | None:
    if value is None:
        return None
    return _STOP_FROM_ANTHROPIC.get(value, "end_turn") if isinstance(value, str) else "end_turn"


def _stop_to_anthropic(value: StopReason | None) -> str | None:
    return None if value is None else _STOP_TO_ANTHROPIC.get(value, "end_turn")


_USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def _parse_usage(usage: Mapping[str, Any]) -> Usage:
    counts = [usage.get(key) for key in _USAGE_KEYS]
    fresh, output, cache_read, cache_write = (n if type(n) is int else None for n in counts)
    return _neutral_usage(fresh, output, cache_read, cache_write)


def _neutral_usage(
    fresh: int | None, output: int | None, cache_read: int | None, cache_write: int | None
) -> Usage:
    """Anthropic counts cached prompt tokens apart; neutral input counts them all."""
    total = (fresh or 0) + (cache_read or 0) + (cache_write or 0)
    return Usage(total, output or 0, cache_read, cache_write)


def build_response(response: ChatResponse) -> dict[str, Any]:
    """ChatResponse -> a Message exactly as the API sends it (the SDK's Message validates)."""
    content: list[dict[str, Any]] = []
    for part in response.content:
        if isinstance(part, Text):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolCall):
            content.append(_build_part(part))  # type: ignore[arg-type]
        elif isinstance(part, Reasoning):
            signature = write_signature(part, FORMAT) or ""
            content.append({"type": "thinking", "thinking": part.text, "signature": signature})
    return {
        "id": response.id,
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": content,
        "stop_reason": _stop_to_anthropic(response.stop_reason),
        "stop_sequence": None,
        "usage": _build_usage(response.usage),
    }


def _build_usage(usage: Usage) -> dict[str, int]:
    """Anthropic's input_tokens leaves out cached tokens, read or written; reasoning
    tokens have no field of their own (output_tokens counts them)."""
    cache_read, cache_write = usage.cache_read_tokens, usage.cache_write_tokens
    fresh = usage.input_tokens - (cache_read or 0) - (cache_write or 0)
    out = {"input_tokens": max(0, fresh), "output_tokens": usage.output_tokens}
    if cache_read is not None:
        out["cache_read_input_tokens"] = cache_read
    if cache_write is not None:
        out["cache_creation_input_tokens"] = cache_write
    return out
