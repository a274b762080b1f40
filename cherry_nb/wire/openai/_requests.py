"""Requests: a client's Chat Completions body -> neutral, and neutral -> an upstream's body."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cherry_nb._exceptions import UntranslatableError, WireFormatError
from cherry_nb.wire._common import (
    BOOLEAN,
    NUMBER,
    OBJECT,
    REQUIRED_STRING,
    STRING,
    FieldRule,
    check_fields,
    image_media_type,
    optional_scalar,
    parse_arguments,
    split_data_url,
)
from cherry_nb.wire.neutral import (
    ChatRequest,
    Document,
    Image,
    Message,
    Part,
    Reasoning,
    ResponseFormat,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResult,
)

from .._translate import check_choices, note_dropped
from ._common import _dumps, _fail, _required_str

DROPPED_PART_TYPES: frozenset[str] = frozenset()
"""Request part types dropped on purpose rather than refused. None so far: Chat Completions
clients send reasoning back as a message field (`reasoning_content`), not as a part, and
every part type they do send that is not translated (`input_audio`, ...) carries input
worth refusing."""

SYSTEM_ROLES = frozenset({"system", "developer"})
TOOL_CHOICE_MODES = frozenset({"auto", "none", "required"})
PDF = "application/pdf"
"""The only file type Chat Completions accepts in a `file` part."""

# ---- requests: wire -> neutral ---------------------------------------------------


READ_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_completion_tokens",
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "stop",
        "tools",
        "tool_choice",
        "stream",
        "stream_options",  # read by the gateway's StreamWriter (include_usage)
        # mapped by _read_extras (docs/translation.md)
        "response_format",
        "reasoning_effort",
        "n",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "user",
        "parallel_tool_calls",
        "functions",
        "function_call",
    }
)
"""Top-level fields parse_request carries; any other a client sends is named in
`ChatRequest.dropped` (forward compatibility: never refused for being new)."""


FIELD_RULES = {
    "stream": FieldRule(bool, "a boolean"),
    "max_tokens": FieldRule(int, "a positive integer", 1),
    "max_completion_tokens": FieldRule(int, "a positive integer", 1),
    "temperature": FieldRule(NUMBER, "a number from 0 to 2", 0, 2),
    "top_p": FieldRule(NUMBER, "a number from 0 to 1", 0, 1),
    "top_k": FieldRule(int, "a non-negative integer", 0),
    "n": FieldRule(int, "a positive integer", 1),
    "presence_penalty": FieldRule(NUMBER, "a number from -2 to 2", -2, 2),
    "frequency_penalty": FieldRule(NUMBER, "a number from -2 to 2", -2, 2),
    "logit_bias": FieldRule(OBJECT, "an object of numbers", items=NUMBER),
    "logprobs": FieldRule(bool, "a boolean"),
    "top_logprobs": FieldRule(int, "an integer from 0 to 20", 0, 20),
    "seed": FieldRule(int, "an integer"),
    "user": FieldRule(str, "a string"),
    "parallel_tool_calls": FieldRule(bool, "a boolean"),
    "response_format": FieldRule(
        OBJECT,
        "an object",
        fields={
            "type": REQUIRED_STRING,
            "json_schema": FieldRule(
                OBJECT,
                "an object",
                fields={
                    "name": REQUIRED_STRING,
                    "description": STRING,
                    "schema": FieldRule(OBJECT, "an object"),
                    "strict": BOOLEAN,
                },
            ),
        },
    ),
    "stream_options": FieldRule(OBJECT, "an object", fields={"include_usage": BOOLEAN}),
    "reasoning_effort": FieldRule(str, "a string"),
    "verbosity": FieldRule(str, "a string"),
    "modalities": FieldRule(list, "an array of strings", items=str),
    "audio": FieldRule(OBJECT, "an object"),
    "prediction": FieldRule(OBJECT, "an object"),
    "metadata": FieldRule(OBJECT, "an object"),
    "store": FieldRule(bool, "a boolean"),
    "service_tier": FieldRule(str, "a string"),
    "web_search_options": FieldRule(OBJECT, "an object"),
    "prompt_cache_key": FieldRule(str, "a string"),
    "safety_identifier": FieldRule(str, "a string"),
}
"""Types (and ranges) of top-level fields, carried or not: the format's own rules."""


def _fail_field(param: str, problem: str) -> WireFormatError:
    return _fail(f"`{param}` {problem}", param)


def parse_request(body: Mapping[str, Any]) -> ChatRequest:
    """A client's Chat Completions request -> neutral; fields it does not carry are listed
    in `dropped`, never refused. WireFormatError names a field the format forbids;
    UntranslatableError (a subclass) one that is valid but has no neutral form."""
    if not isinstance(body, Mapping):
        raise _fail("The request body must be a JSON object.", None)
    model = _required_str(body, "model", "model")
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise _fail("`messages` is required and must be a non-empty array.", "messages")
    dropped = check_fields(body, FIELD_RULES, READ_FIELDS, _fail_field)
    reader = _MessageReader()
    for i, raw in enumerate(raw_messages):
        reader.add(i, raw)
    max_tokens = optional_scalar(body, "max_completion_tokens", "an integer")
    if max_tokens is None:
        max_tokens = optional_scalar(body, "max_tokens", "an integer")
    request = ChatRequest(
        model=model,
        messages=reader.messages,
        system="\n\n".join(reader.system) if reader.system else None,
        max_tokens=max_tokens,
        temperature=optional_scalar(body, "temperature", "a number"),
        top_p=optional_scalar(body, "top_p", "a number"),
        top_k=optional_scalar(body, "top_k", "an integer"),
        stop=_parse_stop(body.get("stop")),
        tools=_parse_tools(body.get("tools")) or _parse_functions(body.get("functions")),
        tool_choice=_parse_tool_choice(body.get("tool_choice"))
        or _parse_function_call(body.get("function_call")),
        stream=bool(optional_scalar(body, "stream", "a boolean")),
        dropped=dropped,
    )
    _read_extras(body, request)
    return request


# Fields a client may send that no other format carries (docs/translation.md says why).
UNMAPPED_FIELDS = (
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "modalities",
    "audio",
    "prediction",
    "metadata",
    "store",
    "service_tier",
    "web_search_options",
    "verbosity",
    "prompt_cache_key",
    "safety_identifier",
)
REASONING_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})


def _read_extras(body: Mapping[str, Any], request: ChatRequest) -> None:
    """Structured output, reasoning effort, choices, sampling extras; and the fields
    with no mapping, listed in `request.dropped`."""
    request.response_format = _parse_response_format(body.get("response_format"))
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in REASONING_EFFORTS:
        raise _fail(
            f"`reasoning_effort` must be one of {', '.join(sorted(REASONING_EFFORTS))}, "
            f"not {effort!r}.",
            "reasoning_effort",
        )
    request.reasoning_effort = effort
    n = optional_scalar(body, "n", "an integer")
    if n is not None and n < 1:
        raise _fail("`n` must be at least 1.", "n")
    request.n = n
    request.seed = optional_scalar(body, "seed", "an integer")
    request.presence_penalty = optional_scalar(body, "presence_penalty", "a number")
    request.frequency_penalty = optional_scalar(body, "frequency_penalty", "a number")
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise _fail("`user` must be a string.", "user")
    request.user = user
    request.parallel_tool_calls = optional_scalar(body, "parallel_tool_calls", "a boolean")
    request.dropped.extend(
        key for key in UNMAPPED_FIELDS if body.get(key) is not None and key not in request.dropped
    )


def _parse_response_format(value: Any) -> ResponseFormat | None:
    """`{"type": "text" | "json_object"}` or `{"type": "json_schema", "json_schema":
    {"name", "schema", "strict", "description"}}`."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _fail("`response_format` must be an object.", "response_format")
    kind = value.get("type")
    if kind in ("text", "json_object"):
        return ResponseFormat(kind)
    if kind != "json_schema":
        raise _fail(
            "`response_format.type` must be text, json_object or json_schema.",
            "response_format.type",
        )
    spec = value.get("json_schema")
    if not isinstance(spec, Mapping):
        raise _fail(
            "A json_schema response_format needs a `json_schema` object.",
            "response_format.json_schema",
        )
    schema = spec.get("schema")
    if schema is not None and not isinstance(schema, Mapping):
        raise _fail("`schema` must be a JSON Schema object.", "response_format.json_schema.schema")
    name, description, strict = spec.get("name"), spec.get("description"), spec.get("strict")
    if not isinstance(name, str) or not name:
        raise _fail("`name` is required and must be a string.", "response_format.json_schema.name")
    if description is not None and not isinstance(description, str):
        raise _fail("`description` must be a string.", "response_format.json_schema.description")
    if strict is not None and not isinstance(strict, bool):
        raise _fail("`strict` must be a boolean.", "response_format.json_schema.strict")
    return ResponseFormat(
        "json_schema",
        dict(schema) if schema is not None else {"type": "object"},
        name,
        description,
        strict,
    )


def _untranslatable(message: str, param: str) -> UntranslatableError:
    return UntranslatableError(message, param=param)


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
        param = f"messages.{i}"
        if not isinstance(raw, Mapping):
            raise _fail("Each message must be an object.", param)
        role, content = raw.get("role"), raw.get("content")
        if not isinstance(role, str):
            raise _fail("`role` must be a string.", f"{param}.role")
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
    parts = [_content_part(part, f"{param}.{j}", images) for j, part in enumerate(content)]
    # Empty text says nothing; None is a part of a DROPPED_PART_TYPES type.
    return [p for p in parts if p is not None and (not isinstance(p, Text) or p.text)]


def _content_part(part: Any, param: str, images: bool) -> Text | Image | Document | None:
    if not isinstance(part, Mapping):
        raise _fail("A content part must be an object.", param)
    kind = part.get("type")
    if not isinstance(kind, str):
        raise _fail(f"The content part at {param} needs a `type` string.", f"{param}.type")
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
    raise _untranslatable(
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
    inline = split_data_url(value, param)
    return Image(url=value) if inline is None else Image(*inline)


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
        raise _untranslatable(
            f"The file part at {param} refers to an uploaded file by `file_id`, which only "
            "OpenAI can read: send the PDF inline as `file_data` (a data: URL) instead.",
            f"{param}.file_id",
        )
    if not isinstance(data, str) or not data:
        raise _fail("A file part needs `file_data`: a data: URL of a PDF.", f"{param}.file_data")
    media_type = PDF
    if (inline := split_data_url(data, f"{param}.file_data")) is not None:
        media_type, data = inline[0] or PDF, inline[1]
    if media_type != PDF:
        raise _untranslatable(
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
            raise _fail("A tool call must be an object.", f"{param}.{k}")
        call_id = raw.get("id") or (make_id() if make_id else None)
        if not isinstance(call_id, str):
            raise _fail("A tool call needs an `id` string.", f"{param}.{k}.id")
        calls.append(_function_call(raw.get("function"), call_id, f"{param}.{k}.function"))
    return calls


def _function_call(fn: Any, call_id: str, param: str) -> ToolCall:
    if not isinstance(fn, Mapping):
        raise _fail("A tool call needs a `function` object.", param)
    name = _required_str(fn, "name", f"{param}.name")
    return ToolCall(call_id, name, parse_arguments(fn.get("arguments"), f"{param}.arguments"))


def _parse_stop(value: Any) -> list[str] | None:
    if value is None or isinstance(value, str):
        return None if value is None else [value]
    if not isinstance(value, list):
        raise _fail("`stop` must be a string or an array of strings.", "stop")
    for k, item in enumerate(value):
        if not isinstance(item, str):
            raise _fail("`stop` entries must be strings.", f"stop.{k}")
    return list(value) or None


def _parse_tools(value: Any) -> list[Tool]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail("`tools` must be an array.", "tools")
    return [_parse_tool(raw, f"tools.{k}") for k, raw in enumerate(value)]


def _parse_tool(raw: Any, param: str) -> Tool:
    if not isinstance(raw, Mapping):
        raise _fail("A tool must be an object.", param)
    if not isinstance(raw.get("type", "function"), str):
        raise _fail(f"The `type` of {param} must be a string.", f"{param}.type")
    if raw.get("type", "function") != "function":
        raise _untranslatable(
            f"Tool type {raw.get('type')!r} cannot be translated to another wire format "
            "(supported: function).",
            f"{param}.type",
        )
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


def _parse_functions(value: Any) -> list[Tool]:
    """The legacy `functions` list: tools without the `{"type": "function"}` wrapper."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail("`functions` must be an array.", "functions")
    return [
        _parse_tool({"type": "function", "function": fn}, f"functions[{k}]")
        for k, fn in enumerate(value)
    ]


def _parse_function_call(value: Any) -> ToolChoice | None:
    """The legacy `function_call`: "auto", "none" or `{"name": ...}`."""
    if value is None:
        return None
    if value in ("auto", "none"):
        return ToolChoice(value)
    if isinstance(value, Mapping):
        return ToolChoice("tool", _required_str(value, "name", "function_call.name"))
    raise _fail('`function_call` must be "auto", "none" or {"name": ...}.', "function_call")


def _parse_tool_choice(value: Any) -> ToolChoice | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in TOOL_CHOICE_MODES:
            raise _fail(f"Unknown tool_choice {value!r}.", "tool_choice")
        return ToolChoice(value)  # type: ignore[arg-type]
    if not isinstance(value, Mapping):
        raise _fail("`tool_choice` must be a mode or a function object.", "tool_choice")
    if not isinstance(value.get("type"), str):
        raise _fail("`tool_choice.type` must be a string.", "tool_choice.type")
    if value.get("type") != "function":  # allowed_tools, custom, ...: OpenAI's own
        raise _untranslatable(
            f"tool_choice type {value.get('type')!r} cannot be translated to another wire "
            "format (supported: a mode, or a function object).",
            "tool_choice.type",
        )
    fn = value.get("function")
    if not isinstance(fn, Mapping):
        raise _fail("`tool_choice` needs a `function` object.", "tool_choice.function")
    return ToolChoice("tool", _required_str(fn, "name", "tool_choice.function.name"))


# ---- requests: neutral -> wire ---------------------------------------------------


def build_request(request: ChatRequest) -> dict[str, Any]:
    """Neutral -> a body any OpenAI-compatible upstream accepts; what it cannot carry
    (`top_k`, a cache-write count, ...) is added to `request.dropped`."""
    check_choices(request, "OpenAI", supported=True)
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
    _build_extras(request, body)
    return body


def _build_extras(request: ChatRequest, body: dict[str, Any]) -> None:
    """Structured output, reasoning effort, choices and sampling extras."""
    if request.response_format is not None:
        body["response_format"] = _build_response_format(request.response_format)
    if request.reasoning_effort is not None:
        body["reasoning_effort"] = request.reasoning_effort
    elif request.thinking_budget is not None:
        # A budget alone is how Anthropic and Gemini clients (Claude Code by default) turn
        # thinking on; as reasoning_effort it would make non-reasoning models refuse the
        # request (gpt-4o and most OpenAI-compatible servers), so it is reported instead.
        note_dropped(request, "thinking_budget")
    extras = {
        "n": request.n,
        "seed": request.seed,
        "presence_penalty": request.presence_penalty,
        "frequency_penalty": request.frequency_penalty,
        "user": request.user,
    }
    body.update((key, value) for key, value in extras.items() if value is not None)
    if request.parallel_tool_calls is not None and request.tools:
        body["parallel_tool_calls"] = request.parallel_tool_calls
    if request.top_k is not None:
        note_dropped(request, "top_k")


def _build_response_format(fmt: ResponseFormat) -> dict[str, Any]:
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    spec: dict[str, Any] = {"name": fmt.name or "response"}
    if fmt.description:
        spec["description"] = fmt.description
    spec["schema"] = fmt.schema if fmt.schema is not None else {"type": "object"}
    if fmt.strict is not None:
        spec["strict"] = fmt.strict
    return {"type": "json_schema", "json_schema": spec}


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
        media_type = image.media_type or image_media_type(image.data)
        url = f"data:{media_type};base64,{image.data}"
    return {"type": "image_url", "image_url": {"url": url}}


def _file_part(document: Document, index: int) -> dict[str, Any] | None:
    """A `file` part with the PDF as a data: URL; OpenAI requires a file name with it.

    Chat Completions cannot take a file by URL and the gateway fetches nothing: refused.
    """
    if document.data:
        file_data = f"data:{document.media_type or PDF};base64,{document.data}"
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
