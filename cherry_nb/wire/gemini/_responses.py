"""Non-streamed replies: GenerateContentResponse <-> neutral, with the finish-reason and
usage mappings the streams share; and the models list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._common import new_id
from ..neutral import (
    ChatResponse,
    Reasoning,
    StopReason,
    Text,
    ToolCall,
    Usage,
)
from ._common import _get, _list, _mapping, _obj, _optional_id
from ._errors import _stream_error

_FINISH_TO_NEUTRAL: dict[str, StopReason] = {
    "STOP": "end_turn",
    "MAX_TOKENS": "max_tokens",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "TOO_MANY_TOOL_CALLS": "error",
}
_NEUTRAL_TO_FINISH: dict[str, str] = {
    "end_turn": "STOP",
    "stop_sequence": "STOP",
    "tool_use": "STOP",
    "max_tokens": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "error": "OTHER",
}


def _usage(meta: Any) -> Usage | None:
    if not isinstance(meta, Mapping):
        return None
    cached = meta.get("cachedContentTokenCount")
    return Usage(
        input_tokens=int(meta.get("promptTokenCount") or 0),
        output_tokens=int(meta.get("candidatesTokenCount") or 0)
        + int(meta.get("thoughtsTokenCount") or 0),
        cache_read_tokens=int(cached) if cached is not None else None,
    )


def _usage_metadata(usage: Usage) -> dict[str, Any]:
    meta = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens,
        "totalTokenCount": usage.input_tokens + usage.output_tokens,
    }
    if usage.cache_read_tokens is not None:
        meta["cachedContentTokenCount"] = usage.cache_read_tokens
    return meta


def _stop_reason(finish: str | None, has_calls: bool) -> StopReason | None:
    if finish is None:
        return None
    reason = _FINISH_TO_NEUTRAL.get(finish, "end_turn")
    return "tool_use" if reason == "end_turn" and has_calls else reason


def parse_response(body: Mapping[str, Any]) -> ChatResponse:
    """A GenerateContentResponse -> neutral, from its first candidate."""
    body = _mapping(body, "body")
    if isinstance(body.get("error"), Mapping):
        raise _stream_error(body["error"])
    candidates = body.get("candidates") or []
    candidate = candidates[0] if isinstance(candidates, list) and candidates else None
    content: list[Text | Reasoning | ToolCall] = []
    stop: StopReason | None = "end_turn"
    if isinstance(candidate, Mapping):
        for part in _obj(candidate.get("content")).get("parts") or ():
            _append_part(content, part)
        has_calls = any(isinstance(p, ToolCall) for p in content)
        stop = _stop_reason(candidate.get("finishReason") or "STOP", has_calls)
    elif _obj(body.get("promptFeedback")).get("blockReason"):
        stop = "content_filter"
    return ChatResponse(
        id=body.get("responseId") or new_id("resp_"),
        model=body.get("modelVersion") or "",
        content=content,
        stop_reason=stop,
        usage=_usage(body.get("usageMetadata")) or Usage(),
    )


def _append_part(content: list[Text | Reasoning | ToolCall], part: Any) -> None:
    """Adjacent text (or thought) parts are one block; calls get ids when they carry none."""
    if not isinstance(part, Mapping):
        return
    call = _get(part, "functionCall")
    if isinstance(call, Mapping):
        args = call.get("args")
        call_id = _optional_id(call.get("id")) or new_id("call_")
        name = str(call.get("name") or "")
        content.append(ToolCall(call_id, name, dict(args) if isinstance(args, Mapping) else {}))
        return
    text = part.get("text")
    if not isinstance(text, str):
        return
    last = content[-1] if content else None
    if part.get("thought") is True:
        signature = _optional_id(_get(part, "thoughtSignature"))
        if isinstance(last, Reasoning):
            last.text += text
            last.signature = signature or last.signature
        else:
            content.append(Reasoning(text, signature))
    elif isinstance(last, Text):
        last.text += text
    elif text:
        content.append(Text(text))


def build_response(response: ChatResponse) -> dict[str, Any]:
    """Neutral -> GenerateContentResponse JSON."""
    candidate: dict[str, Any] = {
        "content": {"role": "model", "parts": [_response_part(p) for p in response.content]},
        "index": 0,
    }
    if response.stop_reason is not None:
        candidate["finishReason"] = _NEUTRAL_TO_FINISH.get(response.stop_reason, "OTHER")
    return {
        "candidates": [candidate],
        "usageMetadata": _usage_metadata(response.usage),
        "modelVersion": response.model,
        "responseId": response.id,
    }


def _response_part(part: Text | Reasoning | ToolCall) -> dict[str, Any]:
    if isinstance(part, ToolCall):
        return {"functionCall": {"id": part.id, "name": part.name, "args": part.arguments}}
    if isinstance(part, Reasoning):
        built: dict[str, Any] = {"text": part.text, "thought": True}
        if part.signature:
            built["thoughtSignature"] = part.signature
        return built
    return {"text": part.text}


def list_models_from_wire(body: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """GET /v1beta/models -> [(model id, display name)] for models that can chat."""
    models = _mapping(body, "body").get("models") or []
    out: list[tuple[str, str | None]] = []
    for model in _list(models, "models"):
        if not isinstance(model, Mapping) or not isinstance(model.get("name"), str):
            continue
        methods = model.get("supportedGenerationMethods")
        if methods and "generateContent" not in methods:
            continue
        name = model["name"].removeprefix("models/")
        display = model.get("displayName")
        out.append((name, display if isinstance(display, str) else None))
    return out
