"""Non-streamed replies: the `response` object <-> neutral, with the status and usage
mappings the streams share."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from cherry_nb.wire._common import parse_arguments
from cherry_nb.wire._signatures import read_signature, write_signature
from cherry_nb.wire.neutral import (
    ChatResponse,
    Reasoning,
    StopReason,
    Text,
    ToolCall,
    Usage,
)

from ._common import FORMAT, _dumps, _fail, _item_id, _response_id
from ._errors import _failed

INCOMPLETE_TO_STOP: dict[str, StopReason] = {
    "max_output_tokens": "max_tokens",
    "content_filter": "content_filter",
}
"""`incomplete_details.reason` -> neutral; other reasons count as max_tokens."""

STOP_TO_INCOMPLETE: dict[str, str] = {
    "max_tokens": "max_output_tokens",
    "content_filter": "content_filter",
}
"""Neutral stop reasons that make a response `incomplete`, with the reason given."""


def parse_response(body: Mapping[str, Any]) -> ChatResponse:
    """A non-streamed `response` object -> neutral; a `failed` one is raised."""
    if not isinstance(body, Mapping):
        raise _fail("The response must be a JSON object.", None)
    if body.get("status") == "failed" or body.get("error"):
        raise _failed(body)
    output = body.get("output")
    if not isinstance(output, list):
        raise _fail("The response has no `output` array.", "output")
    content = _parse_output(output)
    return ChatResponse(
        id=str(body.get("id") or ""),
        model=str(body.get("model") or ""),
        content=content,
        stop_reason=_stop_reason(body, any(isinstance(p, ToolCall) for p in content)),
        usage=_parse_usage(body.get("usage")) or Usage(),
    )


def _parse_output(output: list[Any]) -> list[Text | Reasoning | ToolCall]:
    """Output items -> parts; items of types with no neutral form are skipped."""
    content: list[Text | Reasoning | ToolCall] = []
    for k, item in enumerate(output):
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or ():
                text = _part_text(part)
                if text:
                    content.append(Text(text))
        elif kind == "function_call":
            param = f"output[{k}]"
            call_id = item.get("call_id") or item.get("id")
            name = item.get("name")
            if not isinstance(call_id, str) or not isinstance(name, str) or not name:
                raise _fail("A function_call item needs `call_id` and `name`.", param)
            args = parse_arguments(item.get("arguments"), f"{param}.arguments")
            content.append(ToolCall(call_id, name, args))
        elif kind == "reasoning":
            reasoning = _parse_reasoning(item)
            if reasoning is not None:
                content.append(reasoning)
    return content


def _part_text(part: Any) -> str | None:
    if not isinstance(part, Mapping):
        return None
    kind = part.get("type")
    value = part.get("refusal" if kind == "refusal" else "text")
    return value if kind in ("output_text", "refusal") and isinstance(value, str) else None


def _parse_reasoning(item: Mapping[str, Any]) -> Reasoning | None:
    texts = [
        part["text"]
        for key in ("summary", "content")
        for part in item.get(key) or ()
        if isinstance(part, Mapping) and isinstance(part.get("text"), str)
    ]
    signature = item.get("encrypted_content")
    signature = signature if isinstance(signature, str) and signature else None
    if not texts and signature is None:
        return None
    return Reasoning("\n\n".join(texts), *read_signature(signature, FORMAT))


def _stop_reason(body: Mapping[str, Any], has_calls: bool) -> StopReason:
    if body.get("status") == "incomplete":
        details = body.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, Mapping) else None
        return INCOMPLETE_TO_STOP.get(reason or "", "max_tokens")
    return "tool_use" if has_calls else "end_turn"


def _parse_usage(value: Any) -> Usage | None:
    if not isinstance(value, Mapping):
        return None
    inputs = value.get("input_tokens_details")
    outputs = value.get("output_tokens_details")
    inputs = inputs if isinstance(inputs, Mapping) else {}
    outputs = outputs if isinstance(outputs, Mapping) else {}

    def count(source: Mapping[str, Any], key: str) -> int | None:
        number = source.get(key)
        return number if isinstance(number, int) and not isinstance(number, bool) else None

    return Usage(
        input_tokens=count(value, "input_tokens") or 0,
        output_tokens=count(value, "output_tokens") or 0,
        cache_read_tokens=count(inputs, "cached_tokens"),
        cache_write_tokens=count(inputs, "cache_write_tokens") or None,
        reasoning_tokens=count(outputs, "reasoning_tokens"),
    )


# ---- neutral -> wire -------------------------------------------------------------


def build_response(response: ChatResponse) -> dict[str, Any]:
    """Neutral -> a `response` object shaped like the official API's."""
    output: list[dict[str, Any]] = []
    text = "".join(p.text for p in response.content if isinstance(p, Text))
    reasoning = [p for p in response.content if isinstance(p, Reasoning)]
    if reasoning:
        output.append(_reasoning_item(_item_id("rs_"), reasoning, "completed"))
    if text:
        output.append(_message_item(_item_id("msg_"), [_text_part(text)], "completed"))
    for part in response.content:
        if isinstance(part, ToolCall):
            output.append(_call_item(_item_id("fc_"), part.id, part.name, _dumps(part.arguments)))
    return _response_object(
        _response_id(response.id),
        response.model,
        int(time.time()),
        output,
        response.stop_reason,
        response.usage,
    )


def _response_object(
    response_id: str,
    model: str,
    created_at: int,
    output: list[dict[str, Any]],
    stop_reason: StopReason | None,
    usage: Usage | None,
    *,
    status: str | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `response` object; `status` is decided by `stop_reason` unless given."""
    incomplete = STOP_TO_INCOMPLETE.get(stop_reason or "")
    if status is None:
        status = "failed" if stop_reason == "error" else "incomplete" if incomplete else "completed"
    if status == "failed" and error is None:
        error = {"code": "server_error", "message": "The upstream reported an error."}
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": {"reason": incomplete} if status == "incomplete" else None,
        "instructions": None,
        "max_output_tokens": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": _build_usage(usage) if usage is not None else None,
        "metadata": {},
    }


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message_item(item_id: str, content: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _call_item(
    item_id: str, call_id: str, name: str, arguments: str, status: str = "completed"
) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "arguments": arguments,
        "call_id": call_id,
        "name": name,
    }


def _reasoning_item(item_id: str, parts: list[Reasoning], status: str) -> dict[str, Any]:
    """One reasoning item: the texts as its summary, the last signature as its
    `encrypted_content` (which only the family that made it can read: tagged with its
    origin when that is not OpenAI, see `wire/_signatures.py`)."""
    item: dict[str, Any] = {
        "id": item_id,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": p.text} for p in parts if p.text],
        "status": status,
    }
    signatures = [s for p in parts if (s := write_signature(p, FORMAT))]
    if signatures:
        item["encrypted_content"] = signatures[-1]
    return item


def _build_usage(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cache_read_tokens or 0,
            "cache_write_tokens": usage.cache_write_tokens or 0,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens or 0},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }
