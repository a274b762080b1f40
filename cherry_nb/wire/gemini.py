"""Google Gemini (Generative Language API v1beta) <-> the neutral representation.

Gemini differs from the other formats in ways that shape this module: the model
and streaming live in the URL (`models/{model}:generateContent`,
`:streamGenerateContent?alt=sse`), so they are arguments here; function results
are paired with calls by name (ids are optional); streams have no terminal event;
`parameters` accept only an OpenAPI subset of JSON Schema (see `gemini_schema`).
The REST API also accepts snake_case field names, so the parsers do too.

Unknown parts (a part's type is its data field, e.g. `executableCode`): in a client's
request a part this module cannot translate is refused (WireFormatError naming the type,
`param` that field), except DROPPED_PART_TYPES and parts holding only metadata; in an
upstream's response or stream, unknown or unmodelled parts are skipped.

Media parts (`inlineData`, `fileData`) are read by MIME type: image/* (or none) an Image,
application/pdf a Document; other types (audio, video, ...) have no neutral part and are
refused. A Document or Image inside a tool result rides along as a sibling part of its
functionResponse, which holds JSON only.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from .._exceptions import RateLimitError, UpstreamError, WireFormatError
from .._json import loads
from ._text import readable_text
from .gemini_schema import sanitize_schema, schema_to_json
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
from .sse import SSEEvent

# ---- mapping tables ------------------------------------------------------------

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
_STATUS_BY_HTTP: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_HTTP_BY_STATUS: dict[str, int] = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
_MODE_TO_NEUTRAL: dict[str, Any] = {
    "AUTO": "auto",
    "VALIDATED": "auto",
    "ANY": "required",
    "NONE": "none",
}
_MODE_TO_GEMINI: dict[str, str] = {"auto": "AUTO", "none": "NONE", "required": "ANY", "tool": "ANY"}
# functionResponse.response shapes that carry plain text (value: is it an error).
_RESULT_TEXT_KEYS: dict[str, bool] = {"result": False, "content": False, "error": True}
_MIME_BY_EXTENSION: dict[str, str] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".pdf": "application/pdf",
}
_DEFAULT_IMAGE_MIME = "image/jpeg"
_PDF = "application/pdf"
# Gemini 3+ rejects replayed functionCall parts without a thoughtSignature; the
# neutral ToolCall cannot carry the real one, so use Google's documented sentinel.
_SKIP_SIGNATURE = "skip_thought_signature_validator"
_GEMINI_MAJOR = re.compile(r"gemini-(\d+)")

DROPPED_PART_TYPES: frozenset[str] = frozenset()
"""Request part types dropped on purpose rather than refused. None so far: clients send
thoughts back as text parts marked `thought` (read as reasoning), and executableCode /
codeExecutionResult hold readable code and output worth refusing rather than losing."""
_PART_TYPES = "text, inlineData, fileData, functionCall, functionResponse"
# Part fields beside its data: a part with nothing else (a bare thoughtSignature) carries
# nothing and is dropped; any other field names the part's type.
_PART_METADATA = frozenset(
    "thought thoughtSignature thought_signature videoMetadata video_metadata "
    "partMetadata part_metadata mediaResolution media_resolution".split()
)

# The REST API accepts proto field names in snake_case as well as camelCase.
_CAMEL_FIELDS = (
    "systemInstruction inlineData mimeType fileData fileUri functionCall functionResponse "
    "thoughtSignature generationConfig maxOutputTokens topP topK stopSequences toolConfig "
    "functionCallingConfig allowedFunctionNames functionDeclarations parametersJsonSchema"
).split()
_SNAKE: dict[str, str] = {k: re.sub(r"([A-Z])", r"_\1", k).lower() for k in _CAMEL_FIELDS}

# ---- small helpers ---------------------------------------------------------------


def _get(obj: Mapping[str, Any], key: str) -> Any:
    """`obj[key]` under its camelCase or snake_case spelling."""
    value = obj.get(key)
    if value is None and key in _SNAKE:
        value = obj.get(_SNAKE[key])
    return value


def _mapping(value: Any, param: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise WireFormatError(f"{param} must be an object", param=param)
    return value


def _list(value: Any, param: str) -> list[Any]:
    if not isinstance(value, list):
        raise WireFormatError(f"{param} must be an array", param=param)
    return value


def _string(value: Any, param: str) -> str:
    if not isinstance(value, str) or not value:
        raise WireFormatError(f"{param} must be a non-empty string", param=param)
    return value


def _obj(value: Any) -> Mapping[str, Any]:
    """Upstream data read leniently: anything but an object counts as empty."""
    return value if isinstance(value, Mapping) else {}


def _optional_id(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


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


# ---- requests --------------------------------------------------------------------


class _CallLedger:
    """Ids for calls that carry none, and which call a name-only functionResponse answers."""

    __slots__ = ("count", "open")

    def __init__(self) -> None:
        self.count = 0
        self.open: list[tuple[str, str]] = []

    def call(self, name: str, given: str | None) -> str:
        call_id = given or f"call_{name}_{self.count}"
        self.count += 1
        self.open.append((name, call_id))
        return call_id

    def result(self, name: str, given: str | None) -> str:
        for i, (open_name, open_id) in enumerate(self.open):
            if open_id == given or (given is None and open_name == name):
                del self.open[i]
                return open_id
        if given is None:  # a result for no known call: give it an id of its own
            given = f"call_{name}_{self.count}"
            self.count += 1
        return given


def parse_request(body: Mapping[str, Any], *, model: str, stream: bool = False) -> ChatRequest:
    """A client's generateContent body -> neutral; model and stream come from the URL."""
    body = _mapping(body, "body")
    ledger = _CallLedger()
    contents = _list(body.get("contents"), "contents")
    messages = [_parse_content(c, f"contents[{i}]", ledger) for i, c in enumerate(contents)]
    config = _mapping(_get(body, "generationConfig") or {}, "generationConfig")
    stop = _get(config, "stopSequences")
    if stop is not None and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise WireFormatError(
            "stopSequences must be an array of strings", param="generationConfig.stopSequences"
        )
    return ChatRequest(
        model=model,
        messages=messages,
        system=_parse_system(_get(body, "systemInstruction")),
        max_tokens=_number(config, "maxOutputTokens", integer=True),
        temperature=_number(config, "temperature"),
        top_p=_number(config, "topP"),
        top_k=_number(config, "topK", integer=True),
        stop=list(stop) if stop else None,
        tools=_parse_tools(body.get("tools")),
        tool_choice=_parse_tool_config(_get(body, "toolConfig")),
        stream=stream,
    )


def _number(config: Mapping[str, Any], key: str, *, integer: bool = False) -> Any:
    value = _get(config, key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WireFormatError(f"{key} must be a number", param=f"generationConfig.{key}")
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise WireFormatError(f"{key} must be an integer", param=f"generationConfig.{key}")
        return int(value)
    return float(value)


def _parse_system(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    parts = _list(_mapping(value, "systemInstruction").get("parts"), "systemInstruction.parts")
    texts = []
    for j, raw in enumerate(parts):
        path = f"systemInstruction.parts[{j}]"
        part = _mapping(raw, path)
        if "text" not in part:
            _refuse_unknown(part, path, "text")
        elif isinstance(part["text"], str):
            texts.append(part["text"])
        else:
            raise WireFormatError(f"{path}.text must be a string", param=f"{path}.text")
    return "\n".join(texts) or None


def _refuse_unknown(part: Mapping[str, Any], path: str, supported: str) -> None:
    """Raise for a part of a type not translated, unless it is one to drop (metadata
    only, or of a DROPPED_PART_TYPES type)."""
    kind = next((key for key in part if key not in _PART_METADATA), None)
    if kind is None or kind in DROPPED_PART_TYPES:
        return
    raise WireFormatError(
        f"Part type {kind!r} at {path} cannot be translated to another wire format "
        f"(supported here: {supported}).",
        param=f"{path}.{kind}",
    )


_ROLES: dict[str, Any] = {"user": "user", "model": "assistant", "function": "user", "tool": "user"}


def _parse_content(content: Any, path: str, ledger: _CallLedger) -> Message:
    content = _mapping(content, path)
    role_name = content.get("role") or "user"
    role = _ROLES.get(role_name) if isinstance(role_name, str) else None
    if role is None:
        raise WireFormatError(f"{path}.role must be 'user' or 'model'", param=f"{path}.role")
    parts: list[Part] = []
    for j, raw in enumerate(_list(content.get("parts"), f"{path}.parts")):
        part = _parse_part(_mapping(raw, f"{path}.parts[{j}]"), f"{path}.parts[{j}]", ledger)
        if part is not None:
            parts.append(part)
    return Message(role=role, content=parts)


def _parse_part(part: Mapping[str, Any], path: str, ledger: _CallLedger) -> Part | None:
    if "text" in part:
        text = part["text"]
        if not isinstance(text, str):
            raise WireFormatError(f"{path}.text must be a string", param=path)
        if part.get("thought") is True:
            return Reasoning(text=text, signature=_optional_id(_get(part, "thoughtSignature")))
        return Text(text)
    if (blob := _get(part, "inlineData")) is not None:
        blob = _mapping(blob, f"{path}.inlineData")
        data = _string(blob.get("data"), f"{path}.inlineData.data")
        return _media(_optional_id(_get(blob, "mimeType")), f"{path}.inlineData", data=data)
    if (ref := _get(part, "fileData")) is not None:
        ref = _mapping(ref, f"{path}.fileData")
        uri = _string(_get(ref, "fileUri"), f"{path}.fileData.fileUri")
        mime = _optional_id(_get(ref, "mimeType"))
        if mime is None and _guess_mime(uri) == _PDF:
            mime = _PDF
        return _media(mime, f"{path}.fileData", url=uri)
    if (call := _get(part, "functionCall")) is not None:
        call = _mapping(call, f"{path}.functionCall")
        name = _string(call.get("name"), f"{path}.functionCall.name")
        args = _mapping(call.get("args") or {}, f"{path}.functionCall.args")
        return ToolCall(
            id=ledger.call(name, _optional_id(call.get("id"))), name=name, arguments=dict(args)
        )
    if (resp := _get(part, "functionResponse")) is not None:
        resp = _mapping(resp, f"{path}.functionResponse")
        name = _string(resp.get("name"), f"{path}.functionResponse.name")
        response = _mapping(resp.get("response") or {}, f"{path}.functionResponse.response")
        text, is_error = _result_text(response)
        call_id = ledger.result(name, _optional_id(resp.get("id")))
        return ToolResult(tool_call_id=call_id, content=[Text(text)], is_error=is_error, name=name)
    _refuse_unknown(part, path, _PART_TYPES)
    return None


def _media(
    mime: str | None, path: str, *, data: str | None = None, url: str | None = None
) -> Image | Document:
    """Inline or file data by MIME type: an image (also when no type is given) or a PDF;
    any other type (audio, video, text, ...) has no neutral part and is refused."""
    if mime is None or mime.lower().startswith("image/"):
        return Image(media_type=mime, data=data, url=url)
    if mime.lower() == _PDF:
        return Document(_PDF, data=data, url=url)
    raise WireFormatError(
        f"{path} of MIME type {mime!r} cannot be translated to another wire format "
        "(images and PDF documents can).",
        param=f"{path}.mimeType",
    )


def _result_text(response: Mapping[str, Any]) -> tuple[str, bool]:
    """`{"result": "..."}` is the idiomatic text result; anything else stays JSON."""
    if len(response) == 1:
        ((key, value),) = response.items()
        if key in _RESULT_TEXT_KEYS and isinstance(value, str):
            return value, _RESULT_TEXT_KEYS[key]
    return json.dumps(response, ensure_ascii=False), False


def _parse_tools(tools: Any) -> list[Tool]:
    if tools is None:
        return []
    out: list[Tool] = []
    for i, tool in enumerate(_list(tools, "tools")):
        tool = _mapping(tool, f"tools[{i}]")
        decls = _get(tool, "functionDeclarations") or []
        for j, decl in enumerate(_list(decls, f"tools[{i}].functionDeclarations")):
            path = f"tools[{i}].functionDeclarations[{j}]"
            decl = _mapping(decl, path)
            params = decl.get("parameters") or _get(decl, "parametersJsonSchema")
            description = decl.get("description")
            out.append(
                Tool(
                    name=_string(decl.get("name"), f"{path}.name"),
                    description=description if isinstance(description, str) else "",
                    parameters=schema_to_json(_mapping(params, f"{path}.parameters"))
                    if params is not None
                    else {"type": "object"},
                )
            )
    return out  # googleSearch, codeExecution, ...: server-side tools are not translated


def _parse_tool_config(value: Any) -> ToolChoice | None:
    if value is None:
        return None
    config = _get(_mapping(value, "toolConfig"), "functionCallingConfig")
    if not isinstance(config, Mapping):
        return None
    mode = _MODE_TO_NEUTRAL.get(str(config.get("mode", "")).upper())
    if mode is None:
        return None
    allowed = _get(config, "allowedFunctionNames")
    if mode == "required" and isinstance(allowed, list) and len(allowed) == 1:
        return ToolChoice(mode="tool", name=str(allowed[0]))
    return ToolChoice(mode=mode)


def build_request(request: ChatRequest) -> dict[str, Any]:
    """Neutral -> generateContent body (the model goes in the URL, not here)."""
    names = {p.id: p.name for m in request.messages for p in m.content if isinstance(p, ToolCall)}
    match = _GEMINI_MAJOR.search(request.model)
    sign = match is not None and int(match.group(1)) >= 3
    contents: list[dict[str, Any]] = []
    for i, message in enumerate(request.messages):
        parts = [built for part in message.content for built in _build_part(part, names, sign, i)]
        if not parts:
            continue
        role = "model" if message.role == "assistant" else "user"
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)  # Gemini wants turns to alternate
        else:
            contents.append({"role": role, "parts": parts})
    body: dict[str, Any] = {"contents": contents}
    if request.system:
        body["systemInstruction"] = {"parts": [{"text": request.system}]}
    if request.tools:
        body["tools"] = [{"functionDeclarations": [_declaration(t) for t in request.tools]}]
        if request.tool_choice is not None:
            body["toolConfig"] = {"functionCallingConfig": _calling_config(request.tool_choice)}
    config = {
        "temperature": request.temperature,
        "topP": request.top_p,
        "topK": request.top_k,
        "maxOutputTokens": request.max_tokens,
        "stopSequences": request.stop or None,
    }
    config = {k: v for k, v in config.items() if v is not None}
    if config:
        body["generationConfig"] = config
    return body


def _build_part(
    part: Part, names: Mapping[str, str], sign: bool, index: int
) -> list[dict[str, Any]]:
    """One neutral part -> Gemini parts; `index` is the message's, for errors."""
    if isinstance(part, Text):
        return [{"text": part.text}] if part.text else []  # Gemini rejects empty parts
    if isinstance(part, Image):
        image = _image_part(part)
        return [image] if image else []
    if isinstance(part, Document):
        document = _document_part(part)
        return [document] if document else []
    if isinstance(part, ToolCall):
        built: dict[str, Any] = {"functionCall": {"name": part.name, "args": part.arguments}}
        if sign:
            built["thoughtSignature"] = _SKIP_SIGNATURE
        return [built]
    if isinstance(part, ToolResult):
        return _function_response(part, names)
    return []  # Reasoning: Gemini regenerates its own thoughts


def _function_response(result: ToolResult, names: Mapping[str, str]) -> list[dict[str, Any]]:
    name = result.name or names.get(result.tool_call_id) or "unknown_tool"
    text = "\n".join(p.text for p in result.content if isinstance(p, Text))
    response: dict[str, Any] | None = None
    if result.is_error:
        response = {"error": text}
    elif text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        response = parsed if isinstance(parsed, dict) else None
    parts: list[dict[str, Any]] = [
        {"functionResponse": {"name": name, "response": response or {"result": text}}}
    ]
    for item in result.content:  # images and PDFs a tool returned ride along as siblings
        if isinstance(item, Image) and (built := _image_part(item)):
            parts.append(built)
        elif isinstance(item, Document) and (built := _document_part(item)):
            parts.append(built)
    return parts


def _image_part(image: Image) -> dict[str, Any] | None:
    if image.data:
        mime = image.media_type or _DEFAULT_IMAGE_MIME
        return {"inlineData": {"mimeType": mime, "data": image.data}}
    url = image.url
    if not url:
        return None
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        mime = header[5:].split(";", 1)[0] or image.media_type or _DEFAULT_IMAGE_MIME
        return {"inlineData": {"mimeType": mime, "data": data}}
    return {"fileData": {"mimeType": image.media_type or _guess_mime(url), "fileUri": url}}


def _document_part(document: Document) -> dict[str, Any] | None:
    mime = document.media_type or _PDF
    if document.data:
        return {"inlineData": {"mimeType": mime, "data": document.data}}
    url = document.url
    if not url:
        return None
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        return {"inlineData": {"mimeType": header[5:].split(";", 1)[0] or mime, "data": data}}
    return {"fileData": {"mimeType": mime, "fileUri": url}}


def _guess_mime(url: str) -> str:
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    dot = path.rfind(".")
    ext = path[dot:] if dot > path.rfind("/") else ""
    return _MIME_BY_EXTENSION.get(ext, _DEFAULT_IMAGE_MIME)


def _declaration(tool: Tool) -> dict[str, Any]:
    decl: dict[str, Any] = {"name": tool.name}
    if tool.description:
        decl["description"] = tool.description
    params = sanitize_schema(tool.parameters)
    if params.get("properties") or params.get("anyOf"):
        params.setdefault("type", "object")
        decl["parameters"] = params
    # An object without properties is rejected ("should be non-empty for OBJECT type").
    return decl


def _calling_config(choice: ToolChoice) -> dict[str, Any]:
    config: dict[str, Any] = {"mode": _MODE_TO_GEMINI[choice.mode]}
    if choice.mode == "tool" and choice.name:
        config["allowedFunctionNames"] = [choice.name]
    return config


# ---- responses -------------------------------------------------------------------


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
        id=body.get("responseId") or _new_id("resp_"),
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
        call_id = _optional_id(call.get("id")) or _new_id("call_")
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


# ---- streams ---------------------------------------------------------------------


def _stream_error(error: Mapping[str, Any]) -> UpstreamError | RateLimitError:
    message = str(error.get("message") or "Gemini reported an error")
    status = error.get("status") if isinstance(error.get("status"), str) else None
    code = error.get("code") if isinstance(error.get("code"), int) else None
    if code == 429 or status == "RESOURCE_EXHAUSTED":
        retry = _retry_after(error.get("details"))
        return RateLimitError(message, retry_after=retry, status=429, upstream_type=status)
    return UpstreamError(message, status=code, upstream_type=status)


def _retry_after(details: Any) -> float | None:
    """Seconds from a google.rpc.RetryInfo detail (`"retryDelay": "37s"`)."""
    for detail in details if isinstance(details, list) else ():
        delay = detail.get("retryDelay") if isinstance(detail, Mapping) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                return None
    return None


class StreamParser:
    """Upstream `alt=sse` events -> neutral stream events.

    Each event is a whole GenerateContentResponse fragment; the stream just ends,
    so `close()` is where the StreamEnd comes from.
    """

    __slots__ = ("_model", "_started", "_closed", "_calls", "_finish", "_usage", "_blocked")

    def __init__(self, *, model: str) -> None:
        self._model = model
        self._started = False
        self._closed = False
        self._calls = 0
        self._finish: str | None = None
        self._usage: Usage | None = None
        self._blocked = False

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        data = event.data.strip()
        if not data or self._closed:
            return []
        try:
            chunk = loads(data)
        except ValueError as exc:
            raise WireFormatError(f"Gemini stream event is not JSON: {data[:80]!r}") from exc
        if isinstance(chunk, list) and chunk:
            chunk = chunk[0]
        if not isinstance(chunk, Mapping):
            raise WireFormatError("Gemini stream event is not a JSON object")
        if isinstance(chunk.get("error"), Mapping):
            raise _stream_error(chunk["error"])
        out: list[StreamEvent] = []
        meta = chunk.get("usageMetadata")
        if not self._started:
            self._started = True
            prompt = meta.get("promptTokenCount") if isinstance(meta, Mapping) else None
            out.append(
                StreamStart(
                    id=chunk.get("responseId") or _new_id("resp_"),
                    model=chunk.get("modelVersion") or self._model,
                    input_tokens=prompt,
                )
            )
        if meta is not None:
            self._usage = _usage(meta)
        if _obj(chunk.get("promptFeedback")).get("blockReason"):
            self._blocked = True
        candidates = chunk.get("candidates")
        candidate = candidates[0] if isinstance(candidates, list) and candidates else None
        if isinstance(candidate, Mapping):
            for part in _obj(candidate.get("content")).get("parts") or ():
                if isinstance(part, Mapping):
                    self._part(part, out)
            if candidate.get("finishReason"):
                self._finish = candidate["finishReason"]
        return out

    def _part(self, part: Mapping[str, Any], out: list[StreamEvent]) -> None:
        call = _get(part, "functionCall")
        if isinstance(call, Mapping):
            index = self._calls
            self._calls += 1
            call_id = _optional_id(call.get("id")) or _new_id("call_")
            args = call.get("args")
            out.append(ToolCallStart(index, call_id, str(call.get("name") or "")))
            out.append(ToolCallDelta(index, json.dumps(args if isinstance(args, Mapping) else {})))
            return
        text = part.get("text")
        if isinstance(text, str) and text:
            out.append(ReasoningDelta(text) if part.get("thought") is True else TextDelta(text))

    def close(self) -> list[StreamEvent]:
        """The one StreamEnd; without a finishReason the stop reason is unknown (None)."""
        if self._closed:
            return []
        self._closed = True
        out: list[StreamEvent] = []
        if not self._started:
            out.append(StreamStart(id=_new_id("resp_"), model=self._model))
        finish = "SAFETY" if self._blocked and self._finish is None else self._finish
        out.append(StreamEnd(stop_reason=_stop_reason(finish, self._calls > 0), usage=self._usage))
        return out


class StreamWriter:
    """Neutral stream events -> an `alt=sse` stream as Gemini would send it.

    Function calls arrive whole in Gemini streams, so argument fragments are
    buffered and each call is emitted once complete: before the next text or
    thought, or with the final chunk.
    """

    __slots__ = ("_model", "_id", "_suffix", "_calls", "_input_tokens", "_ended")

    _PREFIX = b'data: {"candidates":[{"content":{"role":"model","parts":['

    def __init__(self, *, model: str) -> None:
        self._model = model
        self._id: str | None = None
        self._suffix = b""
        self._calls: dict[int, list[Any]] = {}  # index -> [id, name, [fragments]]
        self._input_tokens: int | None = None
        self._ended = False

    def _start(self, response_id: str) -> None:
        """Precompute the envelope after the parts: each delta is then one small dumps."""
        self._id = response_id
        tail: dict[str, Any] = {"modelVersion": self._model, "responseId": response_id}
        if self._input_tokens is not None:  # Gemini repeats usage in every chunk
            tokens = self._input_tokens
            tail = {
                "usageMetadata": {"promptTokenCount": tokens, "totalTokenCount": tokens},
                **tail,
            }
        tail = json.dumps(tail, ensure_ascii=False, separators=(",", ":"))
        self._suffix = (']},"index":0}],' + tail[1:] + "\n\n").encode()

    def write(self, event: StreamEvent) -> bytes:
        if self._ended:
            return b""
        if isinstance(event, TextDelta | ReasoningDelta):
            if not event.text:
                return b""
            part = {"text": event.text}
            if isinstance(event, ReasoningDelta):
                part["thought"] = True
            return self._flush() + self._chunk([part])
        if isinstance(event, ToolCallDelta):
            pending = self._calls.get(event.index)
            if pending is not None:
                pending[2].append(event.arguments)
            return b""
        if isinstance(event, ToolCallStart):
            self._calls[event.index] = [event.id, event.name, []]
            return b""
        if isinstance(event, StreamStart):
            self._input_tokens = event.input_tokens
            self._start(event.id)
            return b""
        return self._end(event)

    def _chunk(self, parts: list[dict[str, Any]]) -> bytes:
        if self._id is None:
            self._start(_new_id("resp_"))
        body = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))[1:-1]
        return self._PREFIX + body.encode() + self._suffix

    def _call_parts(self) -> list[dict[str, Any]]:
        parts = []
        for _, (call_id, name, fragments) in sorted(self._calls.items()):
            try:
                args = json.loads("".join(fragments) or "{}")
            except ValueError:
                args = {}
            args = args if isinstance(args, dict) else {}
            parts.append({"functionCall": {"id": call_id, "name": name, "args": args}})
        self._calls.clear()
        return parts

    def _flush(self) -> bytes:
        return self._chunk(self._call_parts()) if self._calls else b""

    def _end(self, event: StreamEnd) -> bytes:
        self._ended = True
        if self._id is None:
            self._start(_new_id("resp_"))
        parts = self._call_parts() or [{"text": ""}]
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if event.stop_reason is not None:
            candidate["finishReason"] = _NEUTRAL_TO_FINISH.get(event.stop_reason, "OTHER")
        chunk: dict[str, Any] = {"candidates": [candidate]}
        usage = event.usage or (
            Usage(input_tokens=self._input_tokens) if self._input_tokens is not None else None
        )
        if usage is not None:
            chunk["usageMetadata"] = _usage_metadata(usage)
        chunk["modelVersion"] = self._model
        chunk["responseId"] = self._id
        return _encode(chunk)

    def error(self, message: str, error_type: str = "INTERNAL") -> bytes:
        """An in-band error event; Gemini streams have no other way to report one."""
        code = _HTTP_BY_STATUS.get(error_type, 500)
        return _encode({"error": {"code": code, "message": message, "status": error_type}})


def _encode(payload: Mapping[str, Any]) -> bytes:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return b"data: " + text.encode() + b"\n\n"


# ---- errors and model lists --------------------------------------------------------


def build_error(message: str, *, status: int, error_type: str | None = None) -> dict[str, Any]:
    """A google.rpc.Status-shaped error body as Gemini returns it."""
    name = (
        error_type
        or _STATUS_BY_HTTP.get(status)
        or ("INTERNAL" if status >= 500 else "INVALID_ARGUMENT")
    )
    return {"error": {"code": status, "message": message, "status": name}}


def parse_error(status: int, body: bytes | str) -> tuple[str, str | None]:
    """(message, type) from an error body; type prefers ErrorInfo's reason over status.

    A 400 whose reason is API_KEY_INVALID is a bad key, not a bad request, so the
    reason is the more useful type. Non-JSON bodies (proxy HTML pages) give text.
    """
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        payload: Any = json.loads(text)
    except ValueError:
        payload = None
    if isinstance(payload, list) and payload:
        payload = payload[0]
    error = payload.get("error") if isinstance(payload, Mapping) else None
    if isinstance(error, str):
        return error, None
    if error is None and isinstance(payload, Mapping) and isinstance(payload.get("message"), str):
        return payload["message"], None
    if not isinstance(error, Mapping):
        return (readable_text(text) or f"HTTP {status}"), None
    message = str(error.get("message") or f"HTTP {status}")
    details = error.get("details")
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, Mapping) and isinstance(detail.get("reason"), str):
            return message, detail["reason"]
    kind = error.get("status")
    return message, kind if isinstance(kind, str) else None


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
