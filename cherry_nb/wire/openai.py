"""OpenAI Chat Completions wire format <-> the neutral representation.

Pure code, no I/O. The stream classes run per chunk on the gateway's hot path,
so they use stdlib `json`, pre-built chunk prefixes and flat dispatch.

Tolerant where compatible servers (Ollama, vLLM, DeepSeek, llama.cpp ...) differ
from the official API; strict, naming the field, where a client sends something
that cannot be honoured.

Unknown content parts: in a client's request a part type this module cannot translate
is refused (WireFormatError naming the type, `param` its `type`), except those in
DROPPED_PART_TYPES; in an upstream's response or stream, parts of unknown or unmodelled
types are skipped, since only the upstream could fix them.

Files: a `file` part holding a PDF as `file_data` is a neutral Document (a `file_id` is
refused: only OpenAI can read it). Building, a Document becomes such a part in a user
message (one from a tool result follows the `tool` messages, which carry text only, as
images do); one given by URL is refused with a WireFormatError saying what to do
instead, never dropped.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from cherry_nb._exceptions import UpstreamError, WireFormatError
from cherry_nb._json import loads
from cherry_nb.wire._text import compact_json, readable_text
from cherry_nb.wire.neutral import (
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
from cherry_nb.wire.sse import SSEEvent, encode_sse

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

STATUS_TO_ERROR_TYPE: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}
"""HTTP status -> error `type`; other 5xx are `api_error`, other 4xx invalid requests."""

DROPPED_PART_TYPES: frozenset[str] = frozenset()
"""Request part types dropped on purpose rather than refused. None so far: Chat Completions
clients send reasoning back as a message field (`reasoning_content`), not as a part, and
every part type they do send that is not translated (`input_audio`, ...) carries input
worth refusing."""

SYSTEM_ROLES = frozenset({"system", "developer"})
TOOL_CHOICE_MODES = frozenset({"auto", "none", "required"})
BASE64_IMAGE_PREFIXES = (
    ("iVBOR", "image/png"),
    ("/9j/", "image/jpeg"),
    ("R0lGOD", "image/gif"),
    ("UklGR", "image/webp"),
)
"""Base64 magic numbers, to label an inline image whose media type is unknown."""
PDF = "application/pdf"
"""The only file type Chat Completions accepts in a `file` part."""

_SCALARS: dict[str, type | tuple[type, ...]] = {
    "an integer": int,
    "a number": (int, float),
    "a boolean": bool,
}
_DONE = encode_sse("[DONE]")


def _fail(message: str, param: str | None) -> WireFormatError:
    return WireFormatError(message, param=param)


_dumps = compact_json


def _new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


def _required_str(obj: Mapping[str, Any], key: str, param: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise _fail(f"`{key}` is required and must be a non-empty string.", param)
    return value


# ---- requests: wire -> neutral ---------------------------------------------------


def parse_request(body: Mapping[str, Any]) -> ChatRequest:
    """A client's Chat Completions request -> neutral; unknown fields are ignored."""
    if not isinstance(body, Mapping):
        raise _fail("The request body must be a JSON object.", None)
    model = _required_str(body, "model", "model")
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise _fail("`messages` is required and must be a non-empty array.", "messages")
    reader = _MessageReader()
    for i, raw in enumerate(raw_messages):
        reader.add(i, raw)
    max_tokens = _opt(body, "max_completion_tokens", "an integer")
    return ChatRequest(
        model=model,
        messages=reader.messages,
        system="\n\n".join(reader.system) if reader.system else None,
        max_tokens=max_tokens if max_tokens is not None else _opt(body, "max_tokens", "an integer"),
        temperature=_opt(body, "temperature", "a number"),
        top_p=_opt(body, "top_p", "a number"),
        top_k=_opt(body, "top_k", "an integer"),
        stop=_parse_stop(body.get("stop")),
        tools=_parse_tools(body.get("tools")),
        tool_choice=_parse_tool_choice(body.get("tool_choice")),
        stream=bool(_opt(body, "stream", "a boolean")),
    )


class _MessageReader:
    """Walks `messages`: collects system text, merges runs of tool results."""

    __slots__ = ("system", "messages", "_results", "_tool_names", "_legacy_id")

    def __init__(self) -> None:
        self.system: list[str] = []
        self.messages: list[Message] = []
        self._results: Message | None = None  # the user message tool results go into
        self._tool_names: dict[str, str] = {}  # call id -> name, for ToolResult.name
        self._legacy_id: str | None = None  # id given to the last legacy function_call

    def add(self, i: int, raw: Any) -> None:
        param = f"messages[{i}]"
        if not isinstance(raw, Mapping):
            raise _fail("Each message must be an object.", param)
        role, content = raw.get("role"), raw.get("content")
        if role in SYSTEM_ROLES:
            parts = _parts(content, f"{param}.content", images=False)
            if parts:
                self.system.append("\n\n".join(p.text for p in parts))  # type: ignore[union-attr]
        elif role == "user":
            parts = _parts(content, f"{param}.content", images=True)
            if self._results is not None:  # text after tool results: one user turn
                self._results.content.extend(parts)
                self._results = None
            else:
                self._push(Message("user", parts))
        elif role == "assistant":
            self._push(self._assistant(i, raw, param))
        elif role in ("tool", "function"):
            self._tool_result(role, raw, param)
        else:
            raise _fail(f"Unknown message role {role!r}.", f"{param}.role")

    def _push(self, message: Message) -> None:
        self._results = None
        self.messages.append(message)

    def _assistant(self, i: int, raw: Mapping[str, Any], param: str) -> Message:
        content: list[Part] = []
        reasoning = raw.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            content.append(Reasoning(reasoning))
        content.extend(_parts(raw.get("content"), f"{param}.content", images=False))
        for call in _tool_calls(raw.get("tool_calls"), f"{param}.tool_calls", None):
            self._tool_names[call.id] = call.name
            content.append(call)
        legacy = raw.get("function_call")
        if legacy is not None:
            call = _function_call(legacy, f"call_fn_{i}", f"{param}.function_call")
            self._legacy_id = call.id
            content.append(call)
        return Message("assistant", content)

    def _tool_result(self, role: str, raw: Mapping[str, Any], param: str) -> None:
        if role == "tool":
            call_id = _required_str(raw, "tool_call_id", f"{param}.tool_call_id")
            name = self._tool_names.get(call_id)
        else:  # legacy `function` role: answers the last legacy function_call
            name = _required_str(raw, "name", f"{param}.name")
            call_id = self._legacy_id or f"call_fn_{name}"
        content = _parts(raw.get("content"), f"{param}.content", images=True)
        if self._results is None:
            self._results = Message("user", [])
            self.messages.append(self._results)
        self._results.content.append(ToolResult(call_id, content, name=name))  # type: ignore[arg-type]


def _parts(content: Any, param: str, *, images: bool) -> list[Part]:
    """`content`: null, a string or an array of parts (images only where allowed)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [Text(content)] if content else []
    if not isinstance(content, list):
        raise _fail("`content` must be a string or an array of content parts.", param)
    parts = [_content_part(part, f"{param}[{j}]", images) for j, part in enumerate(content)]
    # Empty text says nothing; None is a part of a DROPPED_PART_TYPES type.
    return [p for p in parts if p is not None and (not isinstance(p, Text) or p.text)]


def _content_part(part: Any, param: str, images: bool) -> Text | Image | Document | None:
    if not isinstance(part, Mapping):
        raise _fail("A content part must be an object.", param)
    kind = part.get("type")
    if kind in ("text", "refusal"):
        text = part.get(kind)
        if not isinstance(text, str):
            raise _fail(f"A {kind} part needs a `{kind}` string.", f"{param}.{kind}")
        return Text(text)
    if kind == "image_url":
        if images:
            return _parse_image(part.get("image_url"), f"{param}.image_url")
        raise _fail(f"An image_url part at {param} is not supported in this role.", f"{param}.type")
    if kind == "file":
        if images:
            return _parse_file(part.get("file"), f"{param}.file")
        raise _fail(f"A file part at {param} is not supported in this role.", f"{param}.type")
    if isinstance(kind, str) and kind in DROPPED_PART_TYPES:
        return None
    raise _fail(
        f"Content part type {kind!r} at {param} cannot be translated to another wire format "
        f"(supported: text, refusal{', image_url, file' if images else ''}).",
        f"{param}.type",
    )


def _parse_image(value: Any, param: str) -> Image:
    """`{"url": ...}` (or a bare string, as some clients send) -> Image."""
    if isinstance(value, Mapping):
        value, param = value.get("url"), f"{param}.url"
    if not isinstance(value, str) or not value:
        raise _fail("An image_url part needs a `url` string.", param)
    if not value.startswith("data:"):
        return Image(url=value)
    header, sep, data = value[5:].partition(",")
    if not sep or not header.endswith(";base64") or not data:
        raise _fail("A data: image URL must be `data:<media type>;base64,<data>`.", param)
    return Image(media_type=header[:-7] or None, data=data)


def _parse_file(value: Any, param: str) -> Document:
    """`{"file_data": "data:application/pdf;base64,...", "filename": ...}` -> Document.

    Raw base64 without the data: prefix is read as a PDF too. A `file_id` names a file
    uploaded to OpenAI, which no other format can read.
    """
    if not isinstance(value, Mapping):
        raise _fail("A file part needs a `file` object.", param)
    filename = value.get("filename")
    if filename is not None and not isinstance(filename, str):
        raise _fail("`filename` must be a string.", f"{param}.filename")
    data = value.get("file_data")
    if data is None and value.get("file_id") is not None:
        raise _fail(
            f"The file part at {param} refers to an uploaded file by `file_id`, which only "
            "OpenAI can read: send the PDF inline as `file_data` (a data: URL) instead.",
            f"{param}.file_id",
        )
    if not isinstance(data, str) or not data:
        raise _fail("A file part needs `file_data`: a data: URL of a PDF.", f"{param}.file_data")
    media_type = PDF
    if data.startswith("data:"):
        header, sep, data = data[5:].partition(",")
        if not sep or not header.endswith(";base64") or not data:
            raise _fail(
                "`file_data` must be `data:application/pdf;base64,<data>`.", f"{param}.file_data"
            )
        media_type = header[:-7] or PDF
    if media_type != PDF:
        raise _fail(
            f"Only PDF files can be translated to another wire format, not {media_type!r}.",
            f"{param}.file_data",
        )
    return Document(media_type, data, title=filename or None)


def _tool_calls(value: Any, param: str, make_id: Callable[[], str] | None) -> list[ToolCall]:
    """`tool_calls`; ids are required unless `make_id` invents missing ones."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail("`tool_calls` must be an array.", param)
    calls = []
    for k, raw in enumerate(value):
        if not isinstance(raw, Mapping):
            raise _fail("A tool call must be an object.", f"{param}[{k}]")
        call_id = raw.get("id") or (make_id() if make_id else None)
        if not isinstance(call_id, str):
            raise _fail("A tool call needs an `id` string.", f"{param}[{k}].id")
        calls.append(_function_call(raw.get("function"), call_id, f"{param}[{k}].function"))
    return calls


def _function_call(fn: Any, call_id: str, param: str) -> ToolCall:
    if not isinstance(fn, Mapping):
        raise _fail("A tool call needs a `function` object.", param)
    name = _required_str(fn, "name", f"{param}.name")
    return ToolCall(call_id, name, _parse_arguments(fn.get("arguments"), f"{param}.arguments"))


def _parse_arguments(value: Any, param: str) -> dict[str, Any]:
    """The arguments' JSON text -> dict; empty text means no arguments."""
    if isinstance(value, Mapping):  # Ollama and friends sometimes send an object
        return dict(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if not isinstance(value, str):
        raise _fail("`arguments` must be a string of JSON.", param)
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise _fail(f"`arguments` is not valid JSON ({exc}).", param) from None
    if not isinstance(parsed, dict | None):
        raise _fail("`arguments` must encode a JSON object.", param)
    return parsed or {}


def _opt(body: Mapping[str, Any], key: str, kind: str) -> Any:
    """An optional scalar of the `_SCALARS` kind; a bool is never a number."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, _SCALARS[kind]) and isinstance(value, bool) == (kind == "a boolean"):
        return value
    raise _fail(f"`{key}` must be {kind}.", key)


def _parse_stop(value: Any) -> list[str] | None:
    if value is None or isinstance(value, str):
        return None if value is None else [value]
    if not isinstance(value, list):
        raise _fail("`stop` must be a string or an array of strings.", "stop")
    for k, item in enumerate(value):
        if not isinstance(item, str):
            raise _fail("`stop` entries must be strings.", f"stop[{k}]")
    return list(value) or None


def _parse_tools(value: Any) -> list[Tool]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail("`tools` must be an array.", "tools")
    return [_parse_tool(raw, f"tools[{k}]") for k, raw in enumerate(value)]


def _parse_tool(raw: Any, param: str) -> Tool:
    if not isinstance(raw, Mapping):
        raise _fail("A tool must be an object.", param)
    if raw.get("type", "function") != "function":
        raise _fail(f"Tool type {raw.get('type')!r} is not supported.", f"{param}.type")
    fn = raw.get("function")
    if not isinstance(fn, Mapping):
        raise _fail("A tool needs a `function` object.", f"{param}.function")
    name = _required_str(fn, "name", f"{param}.function.name")
    description = fn.get("description") or ""
    if not isinstance(description, str):
        raise _fail("`description` must be a string.", f"{param}.function.description")
    parameters = fn.get("parameters")
    if parameters is None:
        return Tool(name, description)
    if not isinstance(parameters, Mapping):
        raise _fail("`parameters` must be a JSON Schema object.", f"{param}.function.parameters")
    return Tool(name, description, dict(parameters))


def _parse_tool_choice(value: Any) -> ToolChoice | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in TOOL_CHOICE_MODES:
            raise _fail(f"Unknown tool_choice {value!r}.", "tool_choice")
        return ToolChoice(value)  # type: ignore[arg-type]
    if not isinstance(value, Mapping) or value.get("type") != "function":
        raise _fail("`tool_choice` must be a mode or a function object.", "tool_choice")
    fn = value.get("function")
    if not isinstance(fn, Mapping):
        raise _fail("`tool_choice` needs a `function` object.", "tool_choice.function")
    return ToolChoice("tool", _required_str(fn, "name", "tool_choice.function.name"))


# ---- requests: neutral -> wire ---------------------------------------------------


def build_request(request: ChatRequest) -> dict[str, Any]:
    """Neutral -> a body any OpenAI-compatible upstream accepts (`top_k` is dropped)."""
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    for i, message in enumerate(request.messages):
        if message.role == "assistant":
            messages.append(_build_assistant(message, i))
        else:
            messages.extend(_build_user(message, i))
    body: dict[str, Any] = {"model": request.model, "messages": messages}
    optional = {
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop": request.stop,
    }
    body.update((key, value) for key, value in optional.items() if value is not None)
    if request.tools:
        body["tools"] = [_build_tool(tool) for tool in request.tools]
    if request.tool_choice is not None:
        body["tool_choice"] = _build_tool_choice(request.tool_choice)
    if request.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _build_user(message: Message, index: int) -> list[dict[str, Any]]:
    """Tool results first, as `tool` messages: they must directly follow the calls.

    `tool` messages carry text only, so images and PDFs from results follow in a user
    message (Claude Code's Read tool returns a PDF that way).
    """
    out: list[dict[str, Any]] = []
    result_images: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, ToolResult):
            text = "\n".join(p.text for p in part.content if isinstance(p, Text))
            out.append({"role": "tool", "tool_call_id": part.tool_call_id, "content": text})
            for item in part.content:
                if isinstance(item, Image):
                    result_images.append(_image_part(item))
                elif isinstance(item, Document) and (file := _file_part(item, index)):
                    result_images.append(file)
        elif isinstance(part, Text):
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part, Image):
            parts.append(_image_part(part))
        elif isinstance(part, Document) and (file := _file_part(part, index)):
            parts.append(file)
    parts = result_images + parts
    if len(parts) == 1 and parts[0]["type"] == "text":
        out.append({"role": "user", "content": parts[0]["text"]})
    elif parts or not out:
        out.append({"role": "user", "content": parts or ""})
    return out


def _build_assistant(message: Message, index: int) -> dict[str, Any]:
    if any(isinstance(p, Document) for p in message.content):
        raise _fail(
            f"A PDF document in an assistant message (messages.{index}) cannot be sent to an "
            "OpenAI-format upstream, whose assistant messages carry text and tool calls only; "
            "move it to a user message, or use an Anthropic-type provider.",
            f"messages.{index}.content",
        )
    text = "".join(p.text for p in message.content if isinstance(p, Text))
    calls = [_build_tool_call(p) for p in message.content if isinstance(p, ToolCall)]
    if not calls:
        return {"role": "assistant", "content": text}
    return {"role": "assistant", "content": text or None, "tool_calls": calls}


def _build_tool_call(call: ToolCall) -> dict[str, Any]:
    fn = {"name": call.name, "arguments": _dumps(call.arguments)}
    return {"id": call.id, "type": "function", "function": fn}


def _image_part(image: Image) -> dict[str, Any]:
    url = image.url or ""
    if image.data is not None:
        media_type = image.media_type or next(
            (kind for prefix, kind in BASE64_IMAGE_PREFIXES if image.data.startswith(prefix)),
            "image/png",
        )
        url = f"data:{media_type};base64,{image.data}"
    return {"type": "image_url", "image_url": {"url": url}}


def _file_part(document: Document, index: int) -> dict[str, Any] | None:
    """A `file` part with the PDF as a data: URL; OpenAI requires a file name with it.

    Chat Completions cannot take a file by URL and the gateway fetches nothing: refused.
    """
    if document.data:
        file_data = f"data:{document.media_type or PDF};base64,{document.data}"
    elif document.url and document.url.startswith("data:"):
        file_data = document.url
    elif document.url:
        raise _fail(
            f"A PDF document given by URL (messages.{index}) cannot be sent to an "
            "OpenAI-format upstream: Chat Completions takes PDFs only as inline base64 data, "
            "and the gateway does not fetch URLs. Send the PDF as base64 data, or use an "
            "Anthropic-type provider.",
            f"messages.{index}.content",
        )
    else:
        return None
    name = document.title or "document"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    return {"type": "file", "file": {"filename": name, "file_data": file_data}}


def _build_tool(tool: Tool) -> dict[str, Any]:
    fn: dict[str, Any] = {"name": tool.name}
    if tool.description:
        fn["description"] = tool.description
    fn["parameters"] = tool.parameters
    return {"type": "function", "function": fn}


def _build_tool_choice(choice: ToolChoice) -> str | dict[str, Any]:
    if choice.mode == "tool":
        return {"type": "function", "function": {"name": choice.name or ""}}
    return choice.mode


# ---- responses -------------------------------------------------------------------


def parse_response(body: Mapping[str, Any]) -> ChatResponse:
    """A non-streamed `chat.completion` -> neutral (first choice only)."""
    if isinstance(body, Mapping) and body.get("error"):  # some servers answer 200 so
        raise _stream_error(body)
    choices = body.get("choices") if isinstance(body, Mapping) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise _fail("The response has no choices.", "choices")
    message = choices[0].get("message")
    if not isinstance(message, Mapping):
        raise _fail("The first choice has no message.", "choices[0].message")
    param = "choices[0].message"
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
    return ChatResponse(
        id=str(body.get("id") or ""),
        model=str(body.get("model") or ""),
        content=content + calls,
        stop_reason=_stop_reason(choices[0].get("finish_reason") or "stop", bool(calls)),
        usage=_parse_usage(body.get("usage")) or Usage(),
    )


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


def _call_id() -> str:
    return _new_id("call_")


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
    prompt, completion = value.get("prompt_tokens"), value.get("completion_tokens")
    return Usage(
        input_tokens=prompt if isinstance(prompt, int) else 0,
        output_tokens=completion if isinstance(completion, int) else 0,
        cache_read_tokens=cached if isinstance(cached, int) else None,
    )


def build_response(response: ChatResponse) -> dict[str, Any]:
    """Neutral -> a `chat.completion` shaped exactly like the official API's."""
    text = "".join(p.text for p in response.content if isinstance(p, Text))
    calls = [_build_tool_call(p) for p in response.content if isinstance(p, ToolCall)]
    message: dict[str, Any] = {
        "role": "assistant",
        "content": text or (None if calls else ""),
        "refusal": None,
        "annotations": [],
    }
    reasoning = "".join(p.text for p in response.content if isinstance(p, Reasoning))
    if reasoning:  # DeepSeek's field; the official SDK keeps it as an extra
        message["reasoning_content"] = reasoning
    if calls:
        message["tool_calls"] = calls
    finish = _finish_reason(response.stop_reason)
    return {
        "id": response.id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": response.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": _build_usage(response.usage),
    }


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
    return out


# ---- streams: wire -> neutral ----------------------------------------------------


class _CallState:
    """One streamed tool call; `pending` holds fragments that came before its name."""

    __slots__ = ("index", "id", "name", "started", "pending")

    def __init__(self, index: int) -> None:
        self.index = index
        self.id: str | None = None
        self.name: str | None = None
        self.started = False
        self.pending: list[str] = []


class StreamParser:
    """`chat.completion.chunk` SSE events -> neutral stream events."""

    __slots__ = ("_started", "_ended", "_finish", "_usage", "_calls", "_count")

    def __init__(self) -> None:
        self._started = False
        self._ended = False
        self._finish: str | None = None
        self._usage: Usage | None = None
        self._calls: dict[int, _CallState] = {}  # upstream index -> state
        self._count = 0  # tool calls seen: the next neutral index

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        data = event.data
        if self._ended or not data or data.isspace():
            return []
        if data == "[DONE]" or data.strip() == "[DONE]":
            return self._end()
        try:
            chunk = loads(data)
        except ValueError:
            raise _fail(f"Invalid JSON in a stream chunk: {data[:200]!r}", None) from None
        if not isinstance(chunk, dict):
            raise _fail(f"A stream chunk must be a JSON object: {data[:200]!r}", None)
        if chunk.get("error") or event.event == "error":
            raise _stream_error(chunk)
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            events.append(StreamStart(str(chunk.get("id") or ""), str(chunk.get("model") or "")))
        if chunk.get("usage"):
            self._usage = _parse_usage(chunk["usage"])
        for choice in chunk.get("choices") or ():
            if isinstance(choice, Mapping) and choice.get("index", 0) == 0:
                self._choice(choice, events)
        return events

    def close(self) -> list[StreamEvent]:
        """End a stream whose server never sent `[DONE]`."""
        return [] if self._ended else self._end()

    def _choice(self, choice: Mapping[str, Any], events: list[StreamEvent]) -> None:
        delta = choice.get("delta")
        if isinstance(delta, Mapping):
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning and isinstance(reasoning, str):
                events.append(ReasoningDelta(reasoning))
            content = delta.get("content") or delta.get("refusal")
            if content and isinstance(content, str):
                events.append(TextDelta(content))
            elif isinstance(content, list):  # parts, as some servers stream them
                events.extend(TextDelta(text) for text in _reply_texts(content))
            for position, call in enumerate(delta.get("tool_calls") or ()):
                self._tool_delta(position, call, events)
            if isinstance(delta.get("function_call"), Mapping):  # legacy
                self._tool_delta(0, {"function": delta["function_call"]}, events)
        if choice.get("finish_reason"):
            self._finish = choice["finish_reason"]

    def _tool_delta(self, position: int, call: Any, events: list[StreamEvent]) -> None:
        if not isinstance(call, Mapping):
            return
        key = call.get("index")
        key = key if isinstance(key, int) else position  # Ollama used to omit it
        fn = call.get("function") if isinstance(call.get("function"), Mapping) else {}
        call_id, name, args = call.get("id") or None, fn.get("name") or None, fn.get("arguments")
        if not isinstance(args, str):
            args = _dumps(args) if isinstance(args, Mapping) else None
        state = self._calls.get(key)
        if state is None or (call_id and name and state.id and call_id != state.id):
            # New id and name at a known index: a server that numbers every call 0.
            state = self._calls[key] = _CallState(self._count)
            self._count += 1
        state.id = state.id or call_id
        state.name = state.name or name
        if not state.started:
            if state.name is None:
                state.pending.extend([args] if args else ())
                return
            self._start_call(state, events)
        if args:
            events.append(ToolCallDelta(state.index, args))

    def _start_call(self, state: _CallState, events: list[StreamEvent]) -> None:
        state.started = True
        events.append(ToolCallStart(state.index, state.id or _call_id(), state.name or ""))
        if state.pending:
            events.append(ToolCallDelta(state.index, "".join(state.pending)))
            state.pending = []

    def _end(self) -> list[StreamEvent]:
        self._ended = True
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            events.append(StreamStart("", ""))
        for state in self._calls.values():
            if not state.started:  # never named: keep its data rather than drop it
                self._start_call(state, events)
        stop = None if self._finish is None else _stop_reason(self._finish, self._count > 0)
        events.append(StreamEnd(stop, self._usage))
        return events


def _stream_error(chunk: Mapping[str, Any]) -> UpstreamError:
    """`{"error": {...}}`, `{"error": "text"}` or an `event: error` payload, as raised."""
    error = chunk.get("error")
    source = error if isinstance(error, Mapping) else chunk
    message = error if isinstance(error, str) else source.get("message")
    if not isinstance(message, str) or not message:
        message = "The upstream reported an error mid-stream: " + _dumps(chunk)[:200]
    return UpstreamError(message, upstream_type=_error_kind(source))


# ---- streams: neutral -> wire ----------------------------------------------------


class StreamWriter:
    """Neutral stream events -> `chat.completion.chunk` SSE bytes, as OpenAI sends them."""

    __slots__ = ("_include_usage", "_meta", "_head", "_tail", "_done")

    def __init__(self, *, include_usage: bool = True) -> None:
        self._include_usage = include_usage
        self._meta: str | None = None  # '{"id":..,"object":..,"created":..,"model":..'
        self._head = ""  # meta + ',"choices":[{"index":0,"delta":'
        self._tail = ""  # ',"logprobs":null,"finish_reason":null}]' ... '}'
        self._done = False

    def write(self, event: StreamEvent) -> bytes:
        if self._done:
            return b""
        if self._meta is None and not isinstance(event, StreamStart):
            # Forgiving: a stream missing its start still gets a valid first chunk.
            return self._start(StreamStart(_new_id("chatcmpl-"), "")) + self.write(event)
        return _WRITERS[type(event)](self, event)

    def error(self, message: str, error_type: str = "api_error") -> bytes:
        """An error chunk then `[DONE]`, as compatible servers do it mid-stream."""
        if self._done:
            return b""
        self._done = True
        error = {"message": message, "type": error_type, "param": None, "code": None}
        return encode_sse(_dumps({"error": error})) + _DONE

    def _chunk(self, delta: str) -> bytes:
        return encode_sse(self._head + delta + self._tail)

    def _start(self, event: StreamStart) -> bytes:
        if self._meta is not None:
            return b""
        self._meta = (
            f'{{"id":{json.dumps(event.id)},"object":"chat.completion.chunk",'
            f'"created":{int(time.time())},"model":{json.dumps(event.model)}'
        )
        usage = ',"usage":null' if self._include_usage else ""
        self._head = self._meta + ',"choices":[{"index":0,"delta":'
        self._tail = ',"logprobs":null,"finish_reason":null}]' + usage + "}"
        return self._chunk('{"role":"assistant","content":""}')

    def _text(self, event: TextDelta) -> bytes:
        return self._chunk('{"content":' + json.dumps(event.text) + "}")

    def _reasoning(self, event: ReasoningDelta) -> bytes:
        return self._chunk('{"reasoning_content":' + json.dumps(event.text) + "}")

    def _tool_start(self, event: ToolCallStart) -> bytes:
        fn = {"name": event.name, "arguments": ""}
        call = {"index": event.index, "id": event.id, "type": "function", "function": fn}
        return self._chunk(_dumps({"tool_calls": [call]}))

    def _tool_delta(self, event: ToolCallDelta) -> bytes:
        arguments = json.dumps(event.arguments)
        return self._chunk(
            f'{{"tool_calls":[{{"index":{event.index},"function":{{"arguments":{arguments}}}}}]}}'
        )

    def _end(self, event: StreamEnd) -> bytes:
        self._done = True
        finish = f'"finish_reason":"{_finish_reason(event.stop_reason)}"'
        out = encode_sse(self._head + "{}" + self._tail.replace('"finish_reason":null', finish))
        if self._include_usage and event.usage is not None:
            usage = _dumps(_build_usage(event.usage))
            out += encode_sse(f'{self._meta},"choices":[],"usage":{usage}}}')
        return out + _DONE


_WRITERS: dict[type, Callable[[StreamWriter, Any], bytes]] = {
    StreamStart: StreamWriter._start,
    TextDelta: StreamWriter._text,
    ReasoningDelta: StreamWriter._reasoning,
    ToolCallStart: StreamWriter._tool_start,
    ToolCallDelta: StreamWriter._tool_delta,
    StreamEnd: StreamWriter._end,
}


# ---- errors ----------------------------------------------------------------------


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
