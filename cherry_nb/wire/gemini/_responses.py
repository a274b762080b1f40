"""Non-streamed replies: GenerateContentResponse <-> neutral, with the finish-reason and
usage mappings the streams share; and the models list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._common import new_id
from .._signatures import read_signature, write_signature
from ..neutral import (
    ChatResponse,
    Choice,
    Reasoning,
    StopReason,
    Text,
    ToolCall,
    Usage,
)
from ._common import FORMAT, _get, _list, _mapping, _obj, _optional_id
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
    cached, thoughts = meta.get("cachedContentTokenCount"), meta.get("thoughtsTokenCount")
    return Usage(
        input_tokens=int(meta.get("promptTokenCount") or 0),
        output_tokens=int(meta.get("candidatesTokenCount") or 0) + int(thoughts or 0),
        cache_read_tokens=int(cached) if cached is not None else None,
        reasoning_tokens=int(thoughts) if thoughts is not None else None,
    )


def _usage_metadata(usage: Usage) -> dict[str, Any]:
    """Gemini counts thoughts apart from candidates; it has no cache-write count."""
    thoughts = usage.reasoning_tokens
    meta = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": max(0, usage.output_tokens - (thoughts or 0)),
        "totalTokenCount": usage.input_tokens + usage.output_tokens,
    }
    if usage.cache_read_tokens is not None:
        meta["cachedContentTokenCount"] = usage.cache_read_tokens
    if thoughts is not None:
        meta["thoughtsTokenCount"] = thoughts
    return meta


def _stop_reason(finish: str | None, has_calls: bool) -> StopReason | None:
    if finish is None:
        return None
    reason = _FINISH_TO_NEUTRAL.get(finish, "end_turn")
    return "tool_use" if reason == "end_turn" and has_calls else reason


def parse_response(body: Mapping[str, Any]) -> ChatResponse:
    """A GenerateContentResponse -> neutral: its first candidate, then any others
    (`candidateCount` > 1) as further choices."""
    body = _mapping(body, "body")
    if isinstance(body.get("error"), Mapping):
        raise _stream_error(body["error"])
    raw = body.get("candidates") or []
    candidates = [c for c in raw if isinstance(c, Mapping)] if isinstance(raw, list) else []
    candidates.sort(key=_candidate_index)
    if candidates:
        first, *more = [_parse_candidate(c) for c in candidates]
    else:
        blocked = _obj(body.get("promptFeedback")).get("blockReason")
        first, more = Choice([], "content_filter" if blocked else "end_turn"), []
    return ChatResponse(
        id=body.get("responseId") or new_id("resp_"),
        model=body.get("modelVersion") or "",
        content=first.content,
        stop_reason=first.stop_reason,
        usage=_usage(body.get("usageMetadata")) or Usage(),
        more_choices=more,
    )


def _candidate_index(candidate: Mapping[str, Any]) -> int:
    index = candidate.get("index")
    return index if isinstance(index, int) else 0


def _parse_candidate(candidate: Mapping[str, Any]) -> Choice:
    content: list[Text | Reasoning | ToolCall] = []
    for part in _obj(candidate.get("content")).get("parts") or ():
        _append_part(content, part)
    has_calls = any(isinstance(p, ToolCall) for p in content)
    return Choice(content, _stop_reason(candidate.get("finishReason") or "STOP", has_calls))


def _append_part(content: list[Text | Reasoning | ToolCall], part: Any) -> None:
    """Adjacent text (or thought) parts are one block; calls get ids when they carry none."""
    if not isinstance(part, Mapping):
        return
    signature, origin = read_signature(_optional_id(_get(part, "thoughtSignature")), FORMAT)
    if signature and part.get("thought") is not True:  # signed: the part after thinking
        content.append(Reasoning("", signature, origin))
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
        if isinstance(last, Reasoning) and not last.signature:
            last.text += text
            if signature:
                last.signature, last.origin = signature, origin
        else:
            content.append(Reasoning(text, signature, origin))
    elif isinstance(last, Text):
        last.text += text
    elif text:
        content.append(Text(text))


def build_response(response: ChatResponse) -> dict[str, Any]:
    """Neutral -> GenerateContentResponse JSON, a candidate per choice."""
    choices = [Choice(response.content, response.stop_reason), *response.more_choices]
    return {
        "candidates": [_build_candidate(c, i) for i, c in enumerate(choices)],
        "usageMetadata": _usage_metadata(response.usage),
        "modelVersion": response.model,
        "responseId": response.id,
    }


def _build_candidate(choice: Choice, index: int) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    signature: str | None = None  # a bare signature goes on the next part, as Gemini has it
    for part in choice.content:
        if isinstance(part, Reasoning) and not part.text:
            signature = write_signature(part, FORMAT) or signature
            continue
        built = _response_part(part)
        if signature:
            built["thoughtSignature"] = signature
            signature = None
        parts.append(built)
    if signature:
        parts.append({"text": "", "thoughtSignature": signature})
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": index}
    if choice.stop_reason is not None:
        candidate["finishReason"] = _NEUTRAL_TO_FINISH.get(choice.stop_reason, "OTHER")
    return candidate


def _response_part(part: Text | Reasoning | ToolCall) -> dict[str, Any]:
    if isinstance(part, ToolCall):
        return {"functionCall": {"id": part.id, "name": part.name, "args": part.arguments}}
    if isinstance(part, Reasoning):
        built: dict[str, Any] = {"text": part.text, "thought": True}
        if signature := write_signature(part, FORMAT):
            built["thoughtSignature"] = signature
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
