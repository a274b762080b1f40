"""Anthropic Messages API (`/v1/messages`) <-> neutral: requests, responses, streams, errors.

Pure and fast: stdlib `json` only, no pydantic, because StreamParser and StreamWriter
run once per stream chunk on the gateway's hot path.

Parsing is lenient where Anthropic's clients are inventive (Claude Code sends metadata,
thinking, cache_control, server tools, context_management...): unknown fields are ignored.
Fields this module does understand are type-checked, and a violation raises
WireFormatError whose `param` is the dotted path, e.g. "messages.2.content.0.text", so the
gateway can answer a 400 that names the culprit.

Unknown content blocks: in a client's request a block type this module cannot translate
is refused (WireFormatError naming the type, `param` its `type`), except the opaque ones
in DROPPED_PART_TYPES, dropped on purpose; in an upstream's response or stream, blocks of
unknown or unmodelled types are skipped, since only the upstream could fix them.

Documents: a PDF (base64 or URL source) is a neutral Document, a plain-text one becomes
Text; Files API (`file`) and custom `content` sources are refused like unknown blocks.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from .._exceptions import RateLimitError, UpstreamError, WireFormatError
from .._json import loads
from ._text import compact_json, readable_text
from .neutral import (
    ChatRequest,
    ChatResponse,
    Document,
    Image,
    Message,
    Part,
    Reasoning,
    ReasoningDelta,
    StopReason,
    StreamEnd,
    StreamEvent,
    StreamStart,
    Text,
    TextDelta,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    ToolChoice,
    ToolResult,
    Usage,
)
from .sse import SSEEvent, encode_sse

DEFAULT_MAX_TOKENS = 4096
"""Used when a neutral request has no max_tokens: Anthropic refuses requests without one."""

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
_TOOL_CHOICE_FROM_ANTHROPIC = {"auto": "auto", "any": "required", "tool": "tool", "none": "none"}
_TOOL_CHOICE_TO_ANTHROPIC = {"auto": "auto", "required": "any", "tool": "tool", "none": "none"}

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

# Base64 openings of common image formats, for images that arrive without a media type.
_MEDIA_TYPE_BY_PREFIX = (
    ("iVBORw0KGgo", "image/png"),
    ("/9j/", "image/jpeg"),
    ("R0lGOD", "image/gif"),
    ("UklGR", "image/webp"),
)

PDF = "application/pdf"
"""The one media type of base64 documents (text documents have a `text` source)."""

IMAGE_TOKENS = 1600
"""count_tokens' flat estimate per image (Anthropic: about width*height/750, ~1,600 max)."""
PDF_PAGE_TOKENS = 2500
"""count_tokens' estimate per PDF page (Anthropic: 1,500-3,000 of text, plus its image)."""
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
MESSAGE_OVERHEAD_TOKENS = 4
"""count_tokens' estimate of the role and framing tokens each message costs."""


_dumps = compact_json


# ---- requests: Anthropic -> neutral ----------------------------------------------------


def _fail(param: str, problem: str) -> WireFormatError:
    return WireFormatError(f"{param}: {problem}", param=param)


def _get(
    obj: Mapping[str, Any], key: str, types: Any, what: str, path: str = "", required: bool = False
) -> Any:
    """obj[key] if it is absent/null (and optional) or of `types`; else WireFormatError."""
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, types) or (isinstance(value, bool) and types is not bool):
        raise _fail(f"{path}.{key}" if path else key, f"must be {what}.")
    return value


def parse_request(body: Mapping[str, Any]) -> ChatRequest:
    """A client's /v1/messages JSON -> ChatRequest; WireFormatError names the bad field."""
    if not isinstance(body, Mapping):
        raise WireFormatError("The request body must be a JSON object.")
    model = _get(body, "model", str, "a model id", required=True)
    max_tokens = _get(body, "max_tokens", int, "a positive integer", required=True)
    if max_tokens < 1:
        raise _fail("max_tokens", "must be a positive integer.")
    messages = _get(body, "messages", list, "a list of messages", required=True)
    stop = _get(body, "stop_sequences", list, "a list of strings")
    if stop is not None and not all(isinstance(s, str) for s in stop):
        raise _fail("stop_sequences", "must be a list of strings.")
    return ChatRequest(
        model=model,
        messages=[_parse_message(m, f"messages.{i}") for i, m in enumerate(messages)],
        system=_parse_system(body.get("system")),
        max_tokens=max_tokens,
        temperature=_float(body, "temperature"),
        top_p=_float(body, "top_p"),
        top_k=_get(body, "top_k", int, "an integer"),
        stop=stop,
        tools=_parse_tools(body.get("tools")),
        tool_choice=_parse_tool_choice(body.get("tool_choice")),
        stream=bool(_get(body, "stream", bool, "a boolean")),
    )


def _float(body: Mapping[str, Any], key: str) -> float | None:
    value = _get(body, key, int | float, "a number")
    return None if value is None else float(value)


def _parse_system(value: Any) -> str | None:
    """A string, or text blocks (their cache_control ignored) joined by blank lines."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise _fail("system", "must be a string or a list of text blocks.")
    texts = [p.text for p in _parse_blocks(value, "system", _SYSTEM_PARSERS)]
    return "\n\n".join(texts) if texts else None


def _parse_message(raw: Any, path: str) -> Message:
    if not isinstance(raw, Mapping):
        raise _fail(path, "must be an object.")
    role = raw.get("role")
    if role not in ("user", "assistant"):
        raise _fail(f"{path}.role", f"must be 'user' or 'assistant', not {role!r}.")
    content = raw.get("content")
    if isinstance(content, str):
        return Message(role, [Text(content)] if content else [])
    if not isinstance(content, list):
        raise _fail(f"{path}.content", "must be a string or a list of blocks.")
    return Message(role, _parse_blocks(content, f"{path}.content", _BLOCK_PARSERS))


def _parse_blocks(
    blocks: list[Any], path: str, parsers: Mapping[str, Callable], *, strict: bool = True
) -> list[Any]:
    """Blocks of the types in `parsers`; parsers return None to drop one, a list for several.

    Other types are refused when `strict` (a client's request), unless listed in
    DROPPED_PART_TYPES; they are skipped when not (an upstream's response).
    """
    parts = []
    for i, block in enumerate(blocks):
        if not isinstance(block, Mapping):
            raise _fail(f"{path}.{i}", "a content block must be an object.")
        kind = block.get("type")
        key = kind if isinstance(kind, str) else ""
        parser = parsers.get(key)
        if parser is None:
            if strict and key not in DROPPED_PART_TYPES:
                raise _untranslatable(f"{path}.{i}", kind, parsers)
            continue
        part = parser(block, f"{path}.{i}")
        if isinstance(part, list):
            parts += part
        elif part is not None:
            parts.append(part)
    return parts


def _untranslatable(path: str, kind: Any, parsers: Mapping[str, Callable]) -> WireFormatError:
    known = ", ".join(parsers)
    return WireFormatError(
        f"Content block type {kind!r} at {path} cannot be translated to another wire "
        f"format (supported here: {known}).",
        param=f"{path}.type",
    )


def _parse_text(block: Mapping[str, Any], path: str) -> Text | None:
    text = _get(block, "text", str, "a string", path, required=True)
    return Text(text) if text else None


def _parse_image(block: Mapping[str, Any], path: str) -> Image | None:
    source = _get(block, "source", Mapping, "an object", path, required=True)
    path, kind = f"{path}.source", source.get("type")
    if kind == "base64":
        media_type = _get(source, "media_type", str, "a string", path)
        return Image(media_type, _get(source, "data", str, "a string", path, required=True))
    if kind == "url":
        return Image(url=_get(source, "url", str, "a string", path, required=True))
    # A file id (Anthropic's Files API) or a later source kind: no other format can use it.
    raise _fail(f"{path}.type", f"image source type {kind!r} cannot be translated.")


def _parse_tool_use(block: Mapping[str, Any], path: str) -> ToolCall:
    return ToolCall(
        _get(block, "id", str, "a string", path, required=True),
        _get(block, "name", str, "a string", path, required=True),
        dict(_get(block, "input", Mapping, "an object", path) or {}),
    )


def _parse_tool_result(block: Mapping[str, Any], path: str) -> ToolResult:
    tool_call_id = _get(block, "tool_use_id", str, "a string", path, required=True)
    content = block.get("content")
    if isinstance(content, list):
        parts = _parse_blocks(content, f"{path}.content", _RESULT_PARSERS)
    elif isinstance(content, str) or content is None:
        parts = [Text(content)] if content else []
    else:
        raise _fail(f"{path}.content", "must be a string or a list of blocks.")
    return ToolResult(tool_call_id, parts, is_error=block.get("is_error") is True)


def _parse_thinking(block: Mapping[str, Any], path: str) -> Reasoning:
    return Reasoning(
        _get(block, "thinking", str, "a string", path, required=True),
        _get(block, "signature", str, "a string", path),
    )


def _parse_document(
    block: Mapping[str, Any], path: str
) -> Text | Document | list[Text | Document] | None:
    """A PDF (base64 or URL source) becomes a Document, its `context` a Text before it; a
    plain-text document becomes Text (title and context first). A Files API id or a custom
    `content` source cannot be carried to another format."""
    source = _get(block, "source", Mapping, "an object", path, required=True)
    source_path, kind = f"{path}.source", source.get("type")
    title = _get(block, "title", str, "a string", path) or None
    context = _get(block, "context", str, "a string", path)
    if kind == "text":
        data = _get(source, "data", str, "a string", source_path, required=True)
        text = "\n\n".join(t for t in (title, context, data) if t)
        return Text(text) if text else None
    if kind == "base64":
        media_type = _get(source, "media_type", str, "a string", source_path) or PDF
        if media_type != PDF:
            raise _fail(f"{source_path}.media_type", f"must be {PDF!r}, not {media_type!r}.")
        data = _get(source, "data", str, "a string", source_path, required=True)
        document = Document(media_type, data, title=title)
    elif kind == "url":
        url = _get(source, "url", str, "a string", source_path, required=True)
        document = Document(url=url, title=title)
    else:
        raise _fail(f"{source_path}.type", f"document source type {kind!r} cannot be translated.")
    return [Text(context), document] if context else document


DROPPED_PART_TYPES = frozenset({"redacted_thinking", "server_tool_use", "web_search_tool_result"})
"""Request block types dropped on purpose rather than refused: clients (Claude Code among
them) send back the assistant's earlier turns as received, and these carry nothing another
format can express — redacted thinking is encrypted, a web search's results are encrypted
and its call was already run by Anthropic (the assistant's text after it says what it found).
A server_tool_use of another server tool still fails on its readable result block."""

# Request block types, by where they may appear; anything else is refused (see above).
_SYSTEM_PARSERS = {"text": _parse_text}
_RESULT_PARSERS = {"text": _parse_text, "image": _parse_image, "document": _parse_document}
_BLOCK_PARSERS = {
    **_RESULT_PARSERS,
    "tool_use": _parse_tool_use,
    "tool_result": _parse_tool_result,
    "thinking": _parse_thinking,
}
_RESPONSE_PARSERS = {"text": _parse_text, "tool_use": _parse_tool_use, "thinking": _parse_thinking}


def _parse_tools(value: Any) -> list[Tool]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail("tools", "must be a list.")
    tools = []
    for i, raw in enumerate(value):
        path = f"tools.{i}"
        if not isinstance(raw, Mapping):
            raise _fail(path, "must be an object.")
        if raw.get("input_schema") is None and raw.get("type") not in (None, "custom"):
            continue  # a server tool (web_search_..., bash_..., ...): the upstream's business
        schema = _get(raw, "input_schema", Mapping, "a JSON schema object", path, required=True)
        name = _get(raw, "name", str, "a string", path, required=True)
        description = _get(raw, "description", str, "a string", path) or ""
        tools.append(Tool(name, description, dict(schema)))
    return tools


def _parse_tool_choice(value: Any) -> ToolChoice | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _fail("tool_choice", "must be an object.")
    kind = value.get("type")
    mode = _TOOL_CHOICE_FROM_ANTHROPIC.get(kind) if isinstance(kind, str) else None
    if mode is None:
        raise _fail("tool_choice.type", "must be auto, any, tool or none.")
    name = _get(value, "name", str, "a string", "tool_choice", required=mode == "tool")
    return ToolChoice(mode, name if mode == "tool" else None)  # type: ignore[arg-type]


# ---- requests: neutral -> Anthropic ----------------------------------------------------


def build_request(request: ChatRequest) -> dict[str, Any]:
    """ChatRequest -> an upstream /v1/messages body; None fields are left out."""
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens if request.max_tokens is not None else DEFAULT_MAX_TOKENS,
        "messages": _build_messages(request.messages),
    }
    if request.system:
        body["system"] = request.system
    for key in ("temperature", "top_p", "top_k"):
        if (value := getattr(request, key)) is not None:
            body[key] = value
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.tools:  # Anthropic refuses a tool_choice without tools
        body["tools"] = [_build_tool(tool) for tool in request.tools]
        if (choice := request.tool_choice) is not None:
            body["tool_choice"] = {"type": _TOOL_CHOICE_TO_ANTHROPIC[choice.mode]}
            if choice.mode == "tool":
                body["tool_choice"]["name"] = choice.name
    if request.stream:
        body["stream"] = True
    return body


def _build_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Anthropic wants strict user/assistant alternation and tool results first in a turn."""
    out: list[dict[str, Any]] = []
    for message in messages:
        blocks = [b for b in map(_build_part, message.content) if b is not None]
        if not blocks:
            continue  # empty content is refused; its neighbours merge instead
        if out and out[-1]["role"] == message.role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": message.role, "content": blocks})
    for turn in out:
        content = turn["content"]
        if turn["role"] == "user" and len(content) > 1:
            results = [b for b in content if b["type"] == "tool_result"]
            if results:
                turn["content"] = results + [b for b in content if b["type"] != "tool_result"]
    return out


def _build_part(part: Part) -> dict[str, Any] | None:
    """One neutral part -> one block; None drops it (reasoning, empty text)."""
    if isinstance(part, Text):
        return {"type": "text", "text": part.text} if part.text else None
    if isinstance(part, ToolCall):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": part.arguments}
    if isinstance(part, ToolResult):
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": part.tool_call_id}
        if content := [b for b in map(_build_part, part.content) if b is not None]:
            block["content"] = content
        if part.is_error:
            block["is_error"] = True
        return block
    if isinstance(part, Image):
        return _build_image(part)
    if isinstance(part, Document):
        return _build_document(part)
    return None  # Reasoning: a signature cannot be forged, so thinking is not sent back


def _build_image(image: Image) -> dict[str, Any] | None:
    data, media_type, url = image.data, image.media_type, image.url
    if data is None and url and url.startswith("data:"):
        header, _, data = url[5:].partition(",")
        media_type = media_type or header.split(";", 1)[0] or None
    if data:
        if not media_type:
            sniffed = (m for prefix, m in _MEDIA_TYPE_BY_PREFIX if data.startswith(prefix))
            media_type = next(sniffed, "image/png")
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    return {"type": "image", "source": {"type": "url", "url": url}} if url else None


def _build_document(document: Document) -> dict[str, Any] | None:
    data, media_type, url = document.data, document.media_type, document.url
    if data is None and url and url.startswith("data:"):
        header, _, data = url[5:].partition(",")
        media_type = header.split(";", 1)[0] or media_type
    if data:
        source = {"type": "base64", "media_type": media_type or PDF, "data": data}
    elif url:
        source = {"type": "url", "url": url}
    else:
        return None
    block: dict[str, Any] = {"type": "document", "source": source}
    if document.title:
        block["title"] = document.title
    return block


def _build_tool(tool: Tool) -> dict[str, Any]:
    if not tool.description:
        return {"name": tool.name, "input_schema": tool.parameters}
    return {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}


# ---- responses -------------------------------------------------------------------------


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
    return Usage(total, output or 0, cache_read)


def build_response(response: ChatResponse) -> dict[str, Any]:
    """ChatResponse -> a Message exactly as the API sends it (the SDK's Message validates)."""
    content: list[dict[str, Any]] = []
    for part in response.content:
        if isinstance(part, Text):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolCall):
            content.append(_build_part(part))  # type: ignore[arg-type]
        elif isinstance(part, Reasoning):
            content.append(
                {"type": "thinking", "thinking": part.text, "signature": part.signature or ""}
            )
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
    cache_read = usage.cache_read_tokens
    fresh = usage.input_tokens - (cache_read or 0)
    out = {"input_tokens": max(0, fresh), "output_tokens": usage.output_tokens}
    if cache_read is not None:
        out["cache_read_input_tokens"] = cache_read
    return out


# ---- streams: Anthropic SSE -> neutral -------------------------------------------------


class StreamParser:
    """Anthropic SSE events -> neutral stream events; one parser per upstream message.

    Tool calls are numbered by their order among the message's tool_use blocks, not by
    content block index (a text or thinking block usually comes first). Blocks of any
    other type (server_tool_use, web_search_tool_result, later additions) produce nothing,
    nor do deltas of unknown types.
    """

    __slots__ = (
        "_cache_read",
        "_cache_write",
        "_ended",
        "_input",
        "_output",
        "_stop",
        "_tool_blocks",
        "_tools",
    )

    def __init__(self) -> None:
        self._tool_blocks: dict[int | None, int] = {}  # content block index -> tool ordinal
        self._tools = 0  # tool_use blocks seen
        self._input: int | None = None
        self._output = 0
        self._cache_read: int | None = None
        self._cache_write: int | None = None
        self._stop: StopReason | None = None
        self._ended = False

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        if self._ended or event.event == "ping":
            return []
        try:
            data = loads(event.data)
        except ValueError as exc:
            raise WireFormatError(f"An Anthropic stream event is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise WireFormatError("An Anthropic stream event is not a JSON object.")
        kind = data.get("type") or event.event
        if kind == "content_block_delta":
            return self._block_delta(data)
        if kind == "content_block_start":
            return self._block_start(data)
        if kind == "message_delta":
            delta = data.get("delta")
            if isinstance(delta, dict) and delta.get("stop_reason") is not None:
                self._stop = _stop_from_anthropic(delta["stop_reason"])
            self._update_usage(data.get("usage"))
        elif kind == "message_start":
            message = data.get("message")
            if not isinstance(message, dict):
                raise WireFormatError("message_start without a message object.")
            self._update_usage(message.get("usage"))
            id_, model = message.get("id") or "", message.get("model") or ""
            total = None
            if self._input is not None:
                total = _neutral_usage(self._input, 0, self._cache_read, self._cache_write)
            return [
                StreamStart(str(id_), str(model), None if total is None else total.input_tokens)
            ]
        elif kind == "message_stop":
            return self.close()
        elif kind == "error":
            raise _stream_error(data.get("error"))
        return []  # content_block_stop, ping, and event types added later

    def close(self) -> list[StreamEvent]:
        """The one StreamEnd; stop_reason None if the stream broke before message_delta."""
        if self._ended:
            return []
        self._ended = True
        usage = _neutral_usage(self._input, self._output, self._cache_read, self._cache_write)
        return [StreamEnd(self._stop, usage)]

    def _block_start(self, data: dict[str, Any]) -> list[StreamEvent]:
        block = data.get("content_block")
        if not isinstance(block, dict):
            return []
        kind = block.get("type")
        if kind == "text":
            return [TextDelta(text)] if (text := _text(block, "text")) else []
        if kind == "thinking":
            return [ReasoningDelta(text)] if (text := _text(block, "thinking")) else []
        if kind != "tool_use":
            return []
        ordinal = self._tool_blocks[_block_index(data)] = self._tools
        self._tools += 1
        id_, name = block.get("id") or "", block.get("name") or ""
        events: list[StreamEvent] = [ToolCallStart(ordinal, str(id_), str(name))]
        if isinstance(arguments := block.get("input"), dict) and arguments:
            events.append(ToolCallDelta(ordinal, _dumps(arguments)))
        return events

    def _block_delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        delta = data.get("delta")
        if not isinstance(delta, dict):
            return []
        kind = delta.get("type")
        if kind == "text_delta":
            return [TextDelta(text)] if (text := _text(delta, "text")) else []
        if kind == "input_json_delta":
            ordinal = self._tool_blocks.get(_block_index(data))
            partial = _text(delta, "partial_json")
            return [ToolCallDelta(ordinal, partial)] if ordinal is not None and partial else []
        if kind == "thinking_delta":
            return [ReasoningDelta(text)] if (text := _text(delta, "thinking")) else []
        return []  # signature_delta, citations_delta

    def _update_usage(self, usage: Any) -> None:
        """Anthropic's counts are cumulative: later values replace earlier ones."""
        if not isinstance(usage, dict):
            return
        if isinstance(value := usage.get("input_tokens"), int):
            self._input = value
        if isinstance(value := usage.get("output_tokens"), int):
            self._output = value
        if isinstance(value := usage.get("cache_read_input_tokens"), int):
            self._cache_read = value
        if isinstance(value := usage.get("cache_creation_input_tokens"), int):
            self._cache_write = value


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _block_index(data: dict[str, Any]) -> int | None:
    index = data.get("index")
    return index if isinstance(index, int) else None


def _stream_error(error: Any) -> Exception:
    """The exception for an `event: error`: 429-like for rate limits, else UpstreamError."""
    if not isinstance(error, dict):
        error = {}
    message = str(error.get("message") or "The upstream reported an error mid-stream.")
    error_type = error.get("type") if isinstance(error.get("type"), str) else None
    if error_type == "rate_limit_error":
        return RateLimitError(message, upstream_type=error_type)
    return UpstreamError(message, upstream_type=error_type)


# ---- streams: neutral -> Anthropic SSE -------------------------------------------------

_EMPTY_BLOCKS = {
    "text": '{"type":"text","text":""}',
    "thinking": '{"type":"thinking","thinking":"","signature":""}',
}


class StreamWriter:
    """Neutral stream events -> Anthropic SSE bytes, content blocks numbered from 0.

    Anthropic's blocks are strictly sequential (start, deltas, stop); neutral tool calls
    need not be. So a tool's block opens lazily, at its first ToolCallDelta (or when a
    later block or the end forces it), and opening a block first opens (and so closes)
    every started tool with a lower index. That is exact for tools in order and for "all
    starts first, then each tool's arguments in order". Truly interleaved arguments (a
    delta for a tool whose block is already closed) cannot be expressed: such a delta is
    written against the tool's original block index, which index-keyed accumulators (the
    SDKs') still assemble. A delta for a tool without a ToolCallStart is dropped. Events
    before StreamStart get a synthetic message_start; after StreamEnd or error(), nothing.
    """

    __slots__ = ("_finished", "_index", "_next", "_open", "_pending", "_tool_blocks")

    def __init__(self) -> None:
        self._next = -1  # the next content block index; -1 until message_start is written
        self._index = -1  # the open block's index
        self._open: str | int | None = None  # "text", "thinking", or the open tool's index
        self._pending: dict[int, tuple[str, str]] = {}  # started, unopened tools: (id, name)
        self._tool_blocks: dict[int, int] = {}  # opened tools: tool index -> block index
        self._finished = False

    def write(self, event: StreamEvent) -> bytes:
        if self._finished:
            return b""
        out = b""
        if self._next < 0 and not isinstance(event, StreamStart):
            out = self._message_start(StreamStart("msg_unknown", ""))
        if isinstance(event, TextDelta):
            return out + self._text_like("text", event.text)
        if isinstance(event, ToolCallDelta):
            return out + self._tool_delta(event.index, event.arguments)
        if isinstance(event, ReasoningDelta):
            return out + self._text_like("thinking", event.text)
        if isinstance(event, ToolCallStart):
            if event.index not in self._tool_blocks:
                self._pending.setdefault(event.index, (event.id, event.name))
            return out
        if isinstance(event, StreamStart):
            return self._message_start(event) if self._next < 0 else b""
        if isinstance(event, StreamEnd):
            return out + self._end(event)
        return out

    def error(self, message: str, error_type: str = "api_error") -> bytes:
        """An in-stream error event; the writer writes nothing afterwards."""
        self._finished = True
        data = {"type": "error", "error": {"type": error_type, "message": message}}
        return encode_sse(_dumps(data), event="error")

    def _message_start(self, event: StreamStart) -> bytes:
        self._next = 0
        message: dict[str, Any] = {
            "id": event.id,
            "type": "message",
            "role": "assistant",
            "model": event.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": event.input_tokens or 0, "output_tokens": 0},
        }
        return encode_sse(_dumps({"type": "message_start", "message": message}), "message_start")

    def _text_like(self, kind: str, text: str) -> bytes:
        """A text or thinking delta (`kind` is the block type and the delta's field name)."""
        if not text:
            return b""
        out = b""
        if self._open != kind:
            out = self._flush_pending(None) + self._open_block(kind, _EMPTY_BLOCKS[kind])
        return out + _delta(self._index, f'"{kind}_delta","{kind}":{_dumps(text)}')

    def _tool_delta(self, index: int, arguments: str) -> bytes:
        if not arguments:
            return b""
        payload = f'"input_json_delta","partial_json":{_dumps(arguments)}'
        if self._open == index:
            return _delta(self._index, payload)
        if index in self._pending:
            out = self._flush_pending(index) + self._start_tool(index)
            return out + _delta(self._index, payload)
        block_index = self._tool_blocks.get(index)  # interleaved: see the class docstring
        return b"" if block_index is None else _delta(block_index, payload)

    def _flush_pending(self, below: int | None) -> bytes:
        """Open (and so close) started tools with an index under `below` (all when None)."""
        out = b""
        for index in sorted(self._pending) if self._pending else ():
            if below is not None and index >= below:
                break
            out += self._start_tool(index)
        return out

    def _start_tool(self, index: int) -> bytes:
        id_, name = self._pending.pop(index)
        block = {"type": "tool_use", "id": id_, "name": name, "input": {}}
        out = self._open_block(index, _dumps(block))
        self._tool_blocks[index] = self._index
        return out

    def _open_block(self, kind: str | int, block: str) -> bytes:
        out = self._close_block()
        self._open, self._index = kind, self._next
        self._next += 1
        data = f'{{"type":"content_block_start","index":{self._index},"content_block":{block}}}'
        return out + encode_sse(data, event="content_block_start")

    def _close_block(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        data = f'{{"type":"content_block_stop","index":{self._index}}}'
        return encode_sse(data, event="content_block_stop")

    def _end(self, event: StreamEnd) -> bytes:
        self._finished = True
        out = self._flush_pending(None) + self._close_block()
        usage = _build_usage(event.usage or Usage())
        data = {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_to_anthropic(event.stop_reason), "stop_sequence": None},
            "usage": {"output_tokens": usage.pop("output_tokens"), **usage},
        }
        out += encode_sse(_dumps(data), event="message_delta")
        return out + encode_sse('{"type":"message_stop"}', event="message_stop")


def _delta(index: int, payload: str) -> bytes:
    """A content_block_delta; `payload` is the delta object's inside after `"type":`."""
    data = f'{{"type":"content_block_delta","index":{index},"delta":{{"type":{payload}}}}}'
    return encode_sse(data, event="content_block_delta")


# ---- errors ----------------------------------------------------------------------------


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


# ---- token counting --------------------------------------------------------------------


def count_tokens(request: ChatRequest) -> int:
    """An estimate, not Anthropic's tokenizer: for count_tokens when the upstream cannot.

    About four characters per token over the system prompt, texts, tool calls and results
    and tool definitions (schemas as compact JSON), plus MESSAGE_OVERHEAD_TOKENS per
    message, IMAGE_TOKENS per image and PDF_PAGE_TOKENS per PDF page (pages counted in
    the file; one for a PDF given by URL or whose pages are compressed out of sight).
    Reasoning is left out, as Anthropic strips earlier turns' thinking. Deterministic: the
    same request always gets the same number.
    """
    chars, images, pages = len(request.system or ""), 0, 0
    parts = [part for message in request.messages for part in message.content]
    parts += [inner for part in parts if isinstance(part, ToolResult) for inner in part.content]
    for part in parts:
        if isinstance(part, Text):
            chars += len(part.text)
        elif isinstance(part, Image):
            images += 1
        elif isinstance(part, Document):
            pages += _pdf_pages(part)
        elif isinstance(part, ToolCall):
            chars += len(part.name) + len(_dumps(part.arguments))
    for tool in request.tools:
        chars += len(tool.name) + len(tool.description) + len(_dumps(tool.parameters))
    overhead = MESSAGE_OVERHEAD_TOKENS * len(request.messages)
    media = IMAGE_TOKENS * images + PDF_PAGE_TOKENS * pages
    return math.ceil(chars / 4) + overhead + media


def _pdf_pages(document: Document) -> int:
    """The page objects in an inline PDF (at least one); one when there is no data to read."""
    try:
        raw = base64.b64decode(document.data or "")
    except (binascii.Error, ValueError):
        return 1
    return max(1, len(_PDF_PAGE.findall(raw)))
