"""Requests: a client's generateContent body -> neutral, and neutral -> an upstream's body."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..._exceptions import WireFormatError
from .._common import image_media_type, split_data_url
from .._signatures import own_signature, read_signature
from .._translate import EFFORT_BUDGETS, check_choices, note_dropped
from ..neutral import (
    ChatRequest,
    Document,
    Image,
    Message,
    Part,
    Reasoning,
    ReasoningEffort,
    ResponseFormat,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResult,
)
from ._common import FORMAT, _get, _list, _mapping, _optional_id, _string
from ._schema import sanitize_schema, schema_to_json

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
    request = ChatRequest(
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
    _read_extras(body, config, request)
    return request


UNMAPPED_BODY_FIELDS = ("safetySettings", "cachedContent")
UNMAPPED_CONFIG_FIELDS = (
    "responseModalities",
    "speechConfig",
    "responseLogprobs",
    "mediaResolution",
)
"""Fields a client may send that no other format carries (docs/translation.md says why)."""

JSON_MIME = "application/json"
MAX_THINKING_BUDGET = 24576
"""The largest thinkingBudget every Gemini 2.5 model takes (Flash's limit; Pro's is 32768):
larger budgets (Claude Code asks 31999) are capped rather than refused."""
_LEVEL_TO_EFFORT: dict[str, ReasoningEffort] = {
    "MINIMAL": "minimal",
    "LOW": "low",
    "MEDIUM": "medium",
    "HIGH": "high",
}
_EFFORT_TO_LEVEL: dict[str, str] = {
    "none": "minimal",
    "minimal": "minimal",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
}


def _read_extras(body: Mapping[str, Any], config: Mapping[str, Any], request: ChatRequest) -> None:
    """Structured output, thinking, candidates, sampling extras from generationConfig;
    the fields with no mapping, listed in `request.dropped`."""
    request.response_format = _parse_response_format(config)
    thinking = _mapping(_get(config, "thinkingConfig") or {}, "generationConfig.thinkingConfig")
    budget = _number(thinking, "thinkingBudget", integer=True)
    if budget is not None and budget >= 0:  # -1: dynamic, the model's default
        request.thinking_budget = budget
    level = _get(thinking, "thinkingLevel")
    if level is not None:
        effort = _LEVEL_TO_EFFORT.get(str(level).upper())
        if effort is None:
            raise WireFormatError(
                "thinkingLevel must be MINIMAL, LOW, MEDIUM or HIGH",
                param="generationConfig.thinkingConfig.thinkingLevel",
            )
        request.reasoning_effort = effort
    request.n = _number(config, "candidateCount", integer=True)
    request.seed = _number(config, "seed", integer=True)
    request.presence_penalty = _number(config, "presencePenalty")
    request.frequency_penalty = _number(config, "frequencyPenalty")
    dropped = [key for key in UNMAPPED_BODY_FIELDS if _get(body, key) is not None]
    dropped += [key for key in UNMAPPED_CONFIG_FIELDS if _get(config, key) is not None]
    request.dropped.extend(key for key in dropped if key not in request.dropped)


def _parse_response_format(config: Mapping[str, Any]) -> ResponseFormat | None:
    """responseMimeType application/json, with responseJsonSchema (JSON Schema) or
    responseSchema (Gemini's OpenAPI subset) when the shape is given; text/plain is text.
    Other types (text/x.enum) have no counterpart and are refused."""
    mime = _get(config, "responseMimeType")
    if mime is None or mime == "text/plain":
        return None if mime is None else ResponseFormat("text")
    if mime != JSON_MIME:
        raise WireFormatError(
            f"responseMimeType {mime!r} cannot be translated to another wire format "
            "(application/json and text/plain can).",
            param="generationConfig.responseMimeType",
        )
    schema = _get(config, "responseJsonSchema")
    if schema is None and (gemini_schema := _get(config, "responseSchema")) is not None:
        schema = schema_to_json(_mapping(gemini_schema, "generationConfig.responseSchema"))
    if schema is None:
        return ResponseFormat("json_object")
    schema = _mapping(schema, "generationConfig.responseJsonSchema")
    return ResponseFormat("json_schema", dict(schema), name="response")


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
        raw = _mapping(raw, f"{path}.parts[{j}]")
        part = _parse_part(raw, f"{path}.parts[{j}]", ledger)
        signature = _optional_id(_get(raw, "thoughtSignature"))
        if signature and part is not None and not isinstance(part, Reasoning):
            # the signature rides on the part after the thinking
            parts.append(Reasoning("", *read_signature(signature, FORMAT)))
        if part is not None:
            parts.append(part)
    return Message(role=role, content=parts)


def _parse_part(part: Mapping[str, Any], path: str, ledger: _CallLedger) -> Part | None:
    if "text" in part:
        text = part["text"]
        if not isinstance(text, str):
            raise WireFormatError(f"{path}.text must be a string", param=path)
        if part.get("thought") is True:
            signature = _optional_id(_get(part, "thoughtSignature"))
            return Reasoning(text, *read_signature(signature, FORMAT))
        return Text(text)
    if (blob := _get(part, "inlineData")) is not None:
        blob = _mapping(blob, f"{path}.inlineData")
        data = _string(blob.get("data"), f"{path}.inlineData.data")
        return _media(_optional_id(_get(blob, "mimeType")), f"{path}.inlineData", data=data)
    if (ref := _get(part, "fileData")) is not None:
        ref = _mapping(ref, f"{path}.fileData")
        uri = _string(_get(ref, "fileUri"), f"{path}.fileData.fileUri")
        mime = _optional_id(_get(ref, "mimeType"))
        if (inline := split_data_url(uri, f"{path}.fileData.fileUri")) is not None:
            return _media(inline[0] or mime, f"{path}.fileData", data=inline[1])
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
    """Neutral -> generateContent body (the model goes in the URL, not here); what
    Gemini cannot carry is added to `request.dropped`."""
    check_choices(request, "Gemini", supported=True)
    names = {p.id: p.name for m in request.messages for p in m.content if isinstance(p, ToolCall)}
    match = _GEMINI_MAJOR.search(request.model)
    sign = match is not None and int(match.group(1)) >= 3
    contents: list[dict[str, Any]] = []
    for message in request.messages:
        parts = _build_parts(message.content, names, sign)
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
    config.update(_build_extras(request, sign))
    if config:
        body["generationConfig"] = config
    return body


def _build_extras(request: ChatRequest, level: bool) -> dict[str, Any]:
    """generationConfig entries for structured output, thinking, candidates and sampling
    extras (`level`: the model takes thinkingLevel, Gemini 3+); the rest is noted."""
    config: dict[str, Any] = {}
    fmt = request.response_format
    if fmt is not None and fmt.type != "text":
        config["responseMimeType"] = JSON_MIME
        if fmt.type == "json_schema":
            config["responseJsonSchema"] = fmt.schema if fmt.schema is not None else {}
    thinking: dict[str, Any] = {}
    if level and request.reasoning_effort is not None:
        thinking["thinkingLevel"] = _EFFORT_TO_LEVEL[request.reasoning_effort]
    elif request.thinking_budget is not None:
        thinking["thinkingBudget"] = min(request.thinking_budget, MAX_THINKING_BUDGET)
    elif request.reasoning_effort is not None:
        thinking["thinkingBudget"] = EFFORT_BUDGETS[request.reasoning_effort]
    if thinking:
        thinking["includeThoughts"] = thinking.get("thinkingBudget") != 0
        config["thinkingConfig"] = thinking
    extras = {
        "candidateCount": request.n,
        "seed": request.seed,
        "presencePenalty": request.presence_penalty,
        "frequencyPenalty": request.frequency_penalty,
    }
    config.update((key, value) for key, value in extras.items() if value is not None)
    if request.user is not None:
        note_dropped(request, "user")
    if request.parallel_tool_calls is False and request.tools:
        note_dropped(request, "parallel_tool_calls")
    return config


def _build_parts(content: list[Part], names: Mapping[str, str], sign: bool) -> list[dict[str, Any]]:
    """A message's parts; a reasoning signature goes on the part after it, where Gemini
    put it (its thought text is not sent: Gemini regenerates its thoughts). Another
    family's signature is left out: Gemini would refuse it."""
    out: list[dict[str, Any]] = []
    signature: str | None = None
    for part in content:
        if isinstance(part, Reasoning):
            signature = own_signature(part, FORMAT) or signature
            continue
        built = _build_part(part, names, sign)
        if signature and built:
            built[0]["thoughtSignature"] = signature
            signature = None
        out.extend(built)
    return out


def _build_part(part: Part, names: Mapping[str, str], sign: bool) -> list[dict[str, Any]]:
    """One neutral part -> Gemini parts (none for an empty text or reasoning)."""
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
    return []  # Reasoning: see _build_parts


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
    mime = image.media_type
    if mime is None:
        mime = image_media_type(image.data) if image.data else _guess_mime(image.url or "")
    return _media_part(image.data, image.url, mime)


def _document_part(document: Document) -> dict[str, Any] | None:
    return _media_part(document.data, document.url, document.media_type or _PDF)


def _media_part(data: str | None, url: str | None, mime: str) -> dict[str, Any] | None:
    """`inlineData` for base64 data, `fileData` for a URL."""
    if data:
        return {"inlineData": {"mimeType": mime, "data": data}}
    return {"fileData": {"mimeType": mime, "fileUri": url}} if url else None


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
