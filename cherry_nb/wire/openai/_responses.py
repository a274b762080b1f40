"""Non-streamed replies: `chat.completion` <-> neutral, with the stop-reason and usage
mappings the streams share."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from cherry_nb.wire.neutral import (
    ChatResponse,
    Choice,
    Reasoning,
    StopReason,
    Text,
    ToolCall,
    Usage,
)

from ._common import _call_id, _fail
from ._errors import _stream_error
from ._requests import _build_tool_call, _function_call, _tool_calls

FINISH_REASON_TO_STOP: dict[str, StopReason] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "content_filter",
    "insufficient_system_resource": "error",  # DeepSeek
}
"""Upstream finish_reason -> neutral; values not listed count as a normal end."""

STOP_TO_FINISH_REASON: dict[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
    "error": "stop",
}
"""Neutral -> finish_reason; the official SDK rejects anything else."""


def parse_response(body: Mapping[str, Any]) -> ChatResponse:
    """A non-streamed `chat.completion` -> neutral, every choice (n > 1) kept."""
    if isinstance(body, Mapping) and body.get("error"):  # some servers answer 200 so
        raise _stream_error(body)
    choices = body.get("choices") if isinstance(body, Mapping) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise _fail("The response has no choices.", "choices")
    first = _parse_choice(choices[0], 0)
    more = [_parse_choice(c, i) for i, c in enumerate(choices[1:], 1) if isinstance(c, Mapping)]
    return ChatResponse(
        id=str(body.get("id") or ""),
        model=str(body.get("model") or ""),
        content=first.content,
        stop_reason=first.stop_reason,
        usage=_parse_usage(body.get("usage")) or Usage(),
        more_choices=more,
    )


def _parse_choice(choice: Mapping[str, Any], index: int) -> Choice:
    message = choice.get("message")
    param = f"choices[{index}].message"
    if not isinstance(message, Mapping):
        raise _fail(f"Choice {index} has no message.", param)
    content: list[Any] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        content.append(Reasoning(reasoning))
    texts = message.get("content")
    if texts is not None and not isinstance(texts, str | list):
        raise _fail("`content` must be a string or an array of content parts.", f"{param}.content")
    content.extend(Text(text) for text in _reply_texts(texts))
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal and not any(isinstance(p, Text) for p in content):
        content.append(Text(refusal))
    calls = _tool_calls(message.get("tool_calls"), f"{param}.tool_calls", _call_id)
    if message.get("function_call") is not None:
        calls.append(_function_call(message["function_call"], _call_id(), f"{param}.function_call"))
    return Choice(content + calls, _stop_reason(choice.get("finish_reason") or "stop", bool(calls)))


def _reply_texts(content: Any) -> list[str]:
    """An upstream message's (or delta's) `content`: a string, or an array whose text and
    refusal parts are read and whose other parts (unknown or unmodelled) are skipped."""
    if isinstance(content, str):
        return [content] if content else []
    texts = []
    for part in content if isinstance(content, list) else ():
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind in ("text", "refusal") and isinstance(text := part.get(kind), str) and text:
            texts.append(text)
    return texts


def _stop_reason(finish_reason: Any, has_tool_calls: bool) -> StopReason:
    """Mapped finish_reason; servers that say `stop` after tool calls mean tool_use."""
    stop = FINISH_REASON_TO_STOP.get(finish_reason, "end_turn")
    return "tool_use" if has_tool_calls and stop == "end_turn" else stop


def _parse_usage(value: Any) -> Usage | None:
    if not isinstance(value, Mapping):
        return None
    details = value.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
    if cached is None:
        cached = value.get("prompt_cache_hit_tokens")  # DeepSeek
    details = value.get("completion_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, Mapping) else None
    prompt, completion = value.get("prompt_tokens"), value.get("completion_tokens")
    return Usage(
        input_tokens=prompt if isinstance(prompt, int) else 0,
        output_tokens=completion if isinstance(completion, int) else 0,
        cache_read_tokens=cached if isinstance(cached, int) else None,
        reasoning_tokens=reasoning if isinstance(reasoning, int) else None,
    )


def build_response(response: ChatResponse) -> dict[str, Any]:
    """Neutral -> a `chat.completion` shaped exactly like the official API's, one choice
    per neutral choice (`more_choices` after the first)."""
    first = Choice(response.content, response.stop_reason)
    choices = [_build_choice(c, i) for i, c in enumerate([first, *response.more_choices])]
    return {
        "id": response.id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": response.model,
        "choices": choices,
        "usage": _build_usage(response.usage),
    }


def _build_choice(choice: Choice, index: int) -> dict[str, Any]:
    text = "".join(p.text for p in choice.content if isinstance(p, Text))
    calls = [_build_tool_call(p) for p in choice.content if isinstance(p, ToolCall)]
    message: dict[str, Any] = {
        "role": "assistant",
        "content": text or (None if calls else ""),
        "refusal": None,
        "annotations": [],
    }
    reasoning = "".join(p.text for p in choice.content if isinstance(p, Reasoning))
    if reasoning:  # DeepSeek's field; the official SDK keeps it as an extra
        message["reasoning_content"] = reasoning
    if calls:
        message["tool_calls"] = calls
    finish = _finish_reason(choice.stop_reason)
    return {"index": index, "message": message, "logprobs": None, "finish_reason": finish}


def _finish_reason(stop_reason: StopReason | None) -> str:
    return STOP_TO_FINISH_REASON.get(stop_reason or "end_turn", "stop")


def _build_usage(usage: Usage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }
    if usage.cache_read_tokens is not None:
        out["prompt_tokens_details"] = {"cached_tokens": usage.cache_read_tokens}
    if usage.reasoning_tokens is not None:
        out["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return out
