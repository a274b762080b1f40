"""Requests: a client's Responses body -> neutral, and neutral -> an upstream's body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast, get_args

from cherry_nb._exceptions import UntranslatableError
from cherry_nb.wire._common import (
    BOOLEAN,
    NUMBER,
    OBJECT,
    REQUIRED_STRING,
    STRING,
    FieldRule,
    image_media_type,
    optional_scalar,
    parse_arguments,
    split_data_url,
)
from cherry_nb.wire._signatures import read_signature
from cherry_nb.wire.neutral import (
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

from .._translate import note_dropped
from ._common import FORMAT, _dumps, _fail, _required_str, _untranslatable

DROPPED_FIELDS: tuple[str, ...] = (
    "metadata",
    "include",
    "truncation",
    "service_tier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "safety_identifier",
    "top_logprobs",
    "max_tool_calls",
    "stream_options",
    "client_metadata",
    "text.verbosity",
    "reasoning.summary",
)
"""Request fields read but not carried: they tune OpenAI's service rather than the reply's
content. A request that sets one gets its name in ChatRequest.dropped."""

UNCARRIED_TOOL_TYPES: frozenset[str] = frozenset(
    {
        "web_search",
        "web_search_preview",
        "file_search",
        "code_interpreter",
        "computer_use_preview",
        "image_generation",
        "local_shell",
        "mcp",
        "namespace",
    }
)
"""Tools other upstreams cannot offer: OpenAI's hosted tools, and `namespace` groups
(whose calls must come back namespaced). Left out of the request, each named in
ChatRequest.dropped as `tools[i] (type)`, so agents such as Codex, which always send
some, still work; forcing one with tool_choice is refused."""

STATEFUL_FIELDS: tuple[str, ...] = ("previous_response_id", "conversation", "prompt")
"""Fields that name state kept on OpenAI's side: the gateway keeps none, so they are refused."""

DROPPED_PART_TYPES: frozenset[str] = frozenset()
"""Request part types dropped on purpose rather than refused: none (every part type a
client sends carries input worth refusing when it cannot be translated)."""

SYSTEM_ROLES = frozenset({"system", "developer"})
TOOL_CHOICE_MODES = frozenset({"auto", "none", "required"})
EFFORTS = frozenset(get_args(ReasoningEffort))
PDF = "application/pdf"

# ---- requests: wire -> neutral ---------------------------------------------------


def parse_request(body: Mapping[str, Any]) -> ChatRequest:
    """A client's Responses request -> neutral: refuses only what cannot be carried,
    names in `dropped` the fields it reads but does not carry."""
    if not isinstance(body, Mapping):
        raise _fail("The request body must be a JSON object.", None)
    model = _required_str(body, "model", "model")
    _check_rules(body)
    reader = _InputReader()
    instructions = body.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str):
            raise _fail("`instructions` must be a string.", "instructions")
        if instructions:
            reader.system.append(instructions)
    raw_input = body.get("input")
    if isinstance(raw_input, str):
        reader.messages.append(Message("user", [Text(raw_input)] if raw_input else []))
    elif isinstance(raw_input, list) and raw_input:
        for i, item in enumerate(raw_input):
            reader.add(i, item)
    else:
        raise _fail("`input` is required: a string or a non-empty array of items.", "input")
    reasoning = _opt_object(body, "reasoning")
    text = _opt_object(body, "text")
    tools, left_out = _parse_tools(body.get("tools"))
    request = ChatRequest(
        model=model,
        messages=reader.messages,
        system="\n\n".join(reader.system) if reader.system else None,
        max_tokens=optional_scalar(body, "max_output_tokens", "an integer"),
        temperature=optional_scalar(body, "temperature", "a number"),
        top_p=optional_scalar(body, "top_p", "a number"),
        tools=tools,
        tool_choice=_parse_tool_choice(body.get("tool_choice")),
        stream=bool(optional_scalar(body, "stream", "a boolean")),
        response_format=_parse_format(text.get("format"), "text.format"),
        reasoning_effort=_parse_effort(reasoning.get("effort")),
        user=_opt_str(body, "user"),
        parallel_tool_calls=optional_scalar(body, "parallel_tool_calls", "a boolean"),
        dropped=_dropped(body, reasoning, text) + left_out,
    )
    _refuse_state(body)  # valid, but only the upstream that keeps the state can answer
    return request


FIELD_RULES: dict[str, FieldRule] = {
    "stream": BOOLEAN,
    "max_output_tokens": FieldRule(int, "a positive integer", 1),
    "temperature": FieldRule(NUMBER, "a number from 0 to 2", 0, 2),
    "top_p": FieldRule(NUMBER, "a number from 0 to 1", 0, 1),
    "parallel_tool_calls": BOOLEAN,
    "user": STRING,
    "instructions": STRING,
    "store": FieldRule(bool, "a boolean"),
    "background": FieldRule(bool, "a boolean"),
    "metadata": FieldRule(OBJECT, "an object"),
    "include": FieldRule(list, "an array of strings", items=str),
    "truncation": FieldRule(str, "a string"),
    "service_tier": FieldRule(str, "a string"),
    "prompt_cache_key": FieldRule(str, "a string"),
    "safety_identifier": FieldRule(str, "a string"),
    "top_logprobs": FieldRule(int, "an integer from 0 to 20", 0, 20),
    "max_tool_calls": FieldRule(int, "a positive integer", 1),
    "stream_options": FieldRule(OBJECT, "an object"),
    "previous_response_id": FieldRule(str, "a string"),
    "reasoning": FieldRule(OBJECT, "an object", fields={"effort": STRING, "summary": STRING}),
    "text": FieldRule(
        OBJECT,
        "an object",
        fields={
            "verbosity": STRING,
            "format": FieldRule(
                OBJECT,
                "an object",
                fields={
                    "type": REQUIRED_STRING,
                    "name": STRING,
                    "schema": FieldRule(OBJECT, "an object"),
                    "strict": BOOLEAN,
                },
            ),
        },
    ),
}
"""Types and ranges of top-level fields, checked before anything else (and for fields
the reader does not carry), so a body gets the same answer wherever it goes."""


def _check_rules(body: Mapping[str, Any]) -> None:
    for key, rule in FIELD_RULES.items():
        value = body.get(key)
        if value is not None and (found := rule.problem(value, key)) is not None:
            raise _fail(f"`{found[0]}` must be {found[1]}.", found[0])


def _refuse_state(body: Mapping[str, Any]) -> None:
    for key in STATEFUL_FIELDS:
        if body.get(key) is not None:
            raise UntranslatableError(
                f"`{key}` refers to state kept by OpenAI; this gateway keeps no state "
                "(it never stores responses, as with `store: false`), so only an "
                "openai-response upstream, which keeps its own, can take it. Send the "
                "whole conversation in `input` instead.",
                param=key,
            )
    if body.get("background"):
        raise UntranslatableError(
            "`background: true` needs the response stored for polling; this gateway stores "
            "nothing, so only an openai-response upstream can take it. Send the request "
            "without `background` (stream it if it is long).",
            param="background",
        )


def _dropped(
    body: Mapping[str, Any], reasoning: Mapping[str, Any], text: Mapping[str, Any]
) -> list[str]:
    nested = {"reasoning": reasoning, "text": text}
    out = []
    for name in DROPPED_FIELDS:
        head, _, tail = name.partition(".")
        source = nested[head] if tail else body
        if source.get(tail or head) is not None:
            out.append(name)
    return out


class _InputReader:
    """Walks `input` items: system text apart, calls and reasoning into the assistant
    turn they belong to, runs of call outputs into one user turn."""

    __slots__ = ("system", "messages", "_names")

    def __init__(self) -> None:
        self.system: list[str] = []
        self.messages: list[Message] = []
        self._names: dict[str, str] = {}  # call id -> function name, for ToolResult.name

    def add(self, i: int, item: Any) -> None:
        param = f"input[{i}]"
        if not isinstance(item, Mapping):
            raise _fail("Each input item must be an object.", param)
        kind = item.get("type", "message")
        if kind == "message":
            self._message(item, param)
        elif kind == "function_call":
            call_id = _required_str(item, "call_id", f"{param}.call_id")
            name = _required_str(item, "name", f"{param}.name")
            args = parse_arguments(item.get("arguments"), f"{param}.arguments")
            self._names[call_id] = name
            self._turn("assistant").content.append(ToolCall(call_id, name, args))
        elif kind == "function_call_output":
            call_id = _required_str(item, "call_id", f"{param}.call_id")
            content = _output(item.get("output"), f"{param}.output")
            result = ToolResult(call_id, content, name=self._names.get(call_id))
            self._turn("user").content.append(result)
        elif kind == "reasoning":
            self._reasoning(item, param)
        elif kind == "item_reference":
            raise _untranslatable(
                f"{param} is an item_reference, which names an item stored by OpenAI; this "
                "gateway stores nothing. Send the item itself.",
                f"{param}.type",
            )
        else:
            raise _untranslatable(
                f"Input item type {kind!r} at {param} cannot be translated to another wire "
                "format (supported: message, function_call, function_call_output, reasoning).",
                f"{param}.type",
            )

    def _turn(self, role: str) -> Message:
        """The last message when it has `role`, else a new one."""
        if not self.messages or self.messages[-1].role != role:
            self.messages.append(Message(role, []))  # type: ignore[arg-type]
        return self.messages[-1]

    def _message(self, item: Mapping[str, Any], param: str) -> None:
        role = item.get("role")
        content = item.get("content")
        if isinstance(role, str) and role in SYSTEM_ROLES:
            parts = _parts(content, f"{param}.content", media=False)
            if parts:
                self.system.append("\n\n".join(p.text for p in parts))  # type: ignore[union-attr]
        elif role == "user":
            self._turn_after_results().content.extend(
                _parts(content, f"{param}.content", media=True)
            )
        elif role == "assistant":
            parts = _parts(content, f"{param}.content", media=False)
            self._turn("assistant").content.extend(parts)
        else:
            raise _fail(f"Unknown message role {role!r}.", f"{param}.role")

    def _turn_after_results(self) -> Message:
        """A user message: text after function outputs joins their turn."""
        last = self.messages[-1] if self.messages else None
        if (
            last is not None
            and last.role == "user"
            and any(isinstance(p, ToolResult) for p in last.content)
        ):
            return last
        self.messages.append(Message("user", []))
        return self.messages[-1]

    def _reasoning(self, item: Mapping[str, Any], param: str) -> None:
        texts = [
            part["text"]
            for key in ("summary", "content")
            for part in item.get(key) or ()
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        ]
        signature = item.get("encrypted_content")
        if signature is not None and not isinstance(signature, str):
            raise _fail("`encrypted_content` must be a string.", f"{param}.encrypted_content")
        if texts or signature:
            reasoning = Reasoning("\n\n".join(texts), *read_signature(signature, FORMAT))
            self._turn("assistant").content.append(reasoning)


def _parts(content: Any, param: str, *, media: bool) -> list[Part]:
    """A message's `content`: a string or an array of input (or output) parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [Text(content)] if content else []
    if not isinstance(content, list):
        raise _fail("`content` must be a string or an array of content parts.", param)
    parts = [_part(part, f"{param}[{j}]", media) for j, part in enumerate(content)]
    return [p for p in parts if p is not None and (not isinstance(p, Text) or p.text)]


def _part(part: Any, param: str, media: bool) -> Text | Image | Document | None:
    if not isinstance(part, Mapping):
        raise _fail("A content part must be an object.", param)
    kind = part.get("type")
    if kind in ("input_text", "output_text", "refusal"):
        key = "refusal" if kind == "refusal" else "text"
        text = part.get(key)
        if not isinstance(text, str):
            raise _fail(f"An {kind} part needs a `{key}` string.", f"{param}.{key}")
        return Text(text)
    if kind in ("input_image", "input_file"):
        if not media:
            raise _fail(
                f"An {kind} part at {param} is not supported in this role.", f"{param}.type"
            )
        return _image(part, param) if kind == "input_image" else _file(part, param)
    if isinstance(kind, str) and kind in DROPPED_PART_TYPES:
        return None
    supported = "input_text, output_text, refusal" + (", input_image, input_file" if media else "")
    raise _untranslatable(
        f"Content part type {kind!r} at {param} cannot be translated to another wire format "
        f"(supported: {supported}).",
        f"{param}.type",
    )


def _no_file_id(part: Mapping[str, Any], param: str, what: str) -> None:
    if part.get("file_id") is not None:
        raise _untranslatable(
            f"The {what} at {param} refers to an uploaded file by `file_id`, which only OpenAI "
            "can read: send it inline as a data: URL instead.",
            f"{param}.file_id",
        )


def _image(part: Mapping[str, Any], param: str) -> Image:
    url = part.get("image_url")
    if url is None:
        _no_file_id(part, param, "image")
    if not isinstance(url, str) or not url:
        raise _fail("An input_image part needs an `image_url` string.", f"{param}.image_url")
    inline = split_data_url(url, f"{param}.image_url")
    return Image(url=url) if inline is None else Image(*inline)


def _file(part: Mapping[str, Any], param: str) -> Document:
    """`file_data` (a data: URL or raw base64, read as a PDF) or `file_url` -> Document."""
    filename = part.get("filename")
    if filename is not None and not isinstance(filename, str):
        raise _fail("`filename` must be a string.", f"{param}.filename")
    file_url = part.get("file_url")
    if isinstance(file_url, str) and file_url:
        return Document(url=file_url, title=filename or None)
    data = part.get("file_data")
    if data is None:
        _no_file_id(part, param, "file")
    if not isinstance(data, str) or not data:
        raise _fail("An input_file part needs `file_data` or `file_url`.", f"{param}.file_data")
    media_type = PDF
    if (inline := split_data_url(data, f"{param}.file_data")) is not None:
        media_type, data = inline[0] or PDF, inline[1]
    if media_type != PDF:
        raise _fail(
            f"Only PDF files can be translated to another wire format, not {media_type!r}.",
            f"{param}.file_data",
        )
    return Document(media_type, data, title=filename or None)


def _output(value: Any, param: str) -> list[Text | Image | Document]:
    """A function_call_output's `output`: a string or an array of input parts."""
    if isinstance(value, str):
        return [Text(value)] if value else []
    if isinstance(value, list):
        return _parts(value, param, media=True)  # type: ignore[return-value]
    raise _fail("`output` must be a string or an array of content parts.", param)


def _opt_str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _fail(f"`{key}` must be a string.", key)


def _opt_object(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(f"`{key}` must be an object.", key)
    return value


def _parse_format(value: Any, param: str) -> ResponseFormat | None:
    """`text.format` -> ResponseFormat (the schema inline, not under `json_schema`)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _fail("`text.format` must be an object.", param)
    kind = value.get("type")
    if kind in ("text", "json_object"):
        return ResponseFormat(kind)
    if kind != "json_schema":
        raise _fail(
            f"Unknown text.format type {kind!r} (supported: text, json_object, json_schema).",
            f"{param}.type",
        )
    schema = value.get("schema")
    if not isinstance(schema, Mapping):
        raise _fail("A json_schema format needs a `schema` object.", f"{param}.schema")
    description = value.get("description")
    strict = value.get("strict")
    return ResponseFormat(
        "json_schema",
        dict(schema),
        name=_required_str(value, "name", f"{param}.name"),
        description=description if isinstance(description, str) else None,
        strict=strict if isinstance(strict, bool) else None,
    )


def _parse_effort(value: Any) -> ReasoningEffort | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in EFFORTS:
        raise _fail(
            f"Unknown reasoning.effort (supported: {', '.join(sorted(EFFORTS))}).",
            "reasoning.effort",
        )
    return cast(ReasoningEffort, value)


def _parse_tools(value: Any) -> tuple[list[Tool], list[str]]:
    """Function tools, and the names of those left out (UNCARRIED_TOOL_TYPES)."""
    if value is None:
        return [], []
    if not isinstance(value, list):
        raise _fail("`tools` must be an array.", "tools")
    tools: list[Tool] = []
    left_out: list[str] = []
    for k, raw in enumerate(value):
        kind = raw.get("type") if isinstance(raw, Mapping) else None
        if isinstance(kind, str) and kind in UNCARRIED_TOOL_TYPES:
            left_out.append(f"tools[{k}] ({kind})")
        else:
            tools.append(_parse_tool(raw, f"tools[{k}]"))
    return tools, left_out


def _parse_tool(raw: Any, param: str) -> Tool:
    if not isinstance(raw, Mapping):
        raise _fail("A tool must be an object.", param)
    kind = raw.get("type")
    if kind != "function":
        raise _untranslatable(
            f"Tool type {kind!r} at {param} cannot be translated to another wire format "
            "(only `function` tools can; OpenAI's hosted tools are left out).",
            f"{param}.type",
        )
    name = _required_str(raw, "name", f"{param}.name")
    description = raw.get("description") or ""
    if not isinstance(description, str):
        raise _fail("`description` must be a string.", f"{param}.description")
    parameters = raw.get("parameters")
    if parameters is None:
        return Tool(name, description)
    if not isinstance(parameters, Mapping):
        raise _fail("`parameters` must be a JSON Schema object.", f"{param}.parameters")
    return Tool(name, description, dict(parameters))


def _parse_tool_choice(value: Any) -> ToolChoice | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in TOOL_CHOICE_MODES:
            raise _fail(f"Unknown tool_choice {value!r}.", "tool_choice")
        return ToolChoice(value)  # type: ignore[arg-type]
    if not isinstance(value, Mapping):
        raise _fail("`tool_choice` must be a string or an object.", "tool_choice")
    if value.get("type") != "function":
        raise _untranslatable(
            '`tool_choice` must be auto, none, required or {"type": "function", '
            '"name": ...}; hosted-tool and allowed_tools choices cannot be translated.',
            "tool_choice",
        )
    return ToolChoice("tool", _required_str(value, "name", "tool_choice.name"))


# ---- requests: neutral -> wire ---------------------------------------------------


def build_request(request: ChatRequest) -> dict[str, Any]:
    """Neutral -> a Responses body; `store: false` always (the gateway keeps no state).

    Not carried (the Responses API has no such fields), and reported in `dropped`:
    `top_k`, `stop`, `seed`, the penalties, a thinking budget without an effort.
    Reasoning parts are dropped: OpenAI returns encrypted reasoning only when `include`
    asks for it, which a translated request does not, so any signature is another
    family's. `n` above 1 is refused, the API gives one reply per request.
    """
    if request.n is not None and request.n > 1:
        raise _fail(
            f"`n` is {request.n}, but an upstream speaking the Responses API gives one reply "
            "per request: send `n` requests instead.",
            "n",
        )
    body: dict[str, Any] = {"model": request.model, "input": _build_input(request.messages)}
    uncarried = {
        "stop": request.stop,
        "seed": request.seed,
        "top_k": request.top_k,
        "presence_penalty": request.presence_penalty,
        "frequency_penalty": request.frequency_penalty,
        # A budget alone (Claude Code's default) is not an effort: non-reasoning models
        # refuse `reasoning`, so it is reported rather than guessed (as for Chat Completions).
        "thinking_budget": request.thinking_budget if request.reasoning_effort is None else None,
    }
    note_dropped(request, *(name for name, value in uncarried.items() if value is not None))
    if request.system:
        body["instructions"] = request.system
    optional = {
        "max_output_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "parallel_tool_calls": request.parallel_tool_calls,
        "user": request.user,
    }
    body.update((key, value) for key, value in optional.items() if value is not None)
    if request.tools:
        body["tools"] = [_build_tool(tool) for tool in request.tools]
    if request.tool_choice is not None:
        body["tool_choice"] = _build_tool_choice(request.tool_choice)
    if request.response_format is not None:
        body["text"] = {"format": _build_format(request.response_format)}
    if request.reasoning_effort is not None:
        body["reasoning"] = {"effort": request.reasoning_effort}
    if request.stream:
        body["stream"] = True
    body["store"] = False
    return body


def _build_input(messages: list[Message]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "assistant":
            items.extend(_build_assistant(message))
        else:
            items.extend(_build_user(message))
    return items


def _build_user(message: Message) -> list[dict[str, Any]]:
    """Function outputs first (they must follow their calls), then the user's parts."""
    items: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, ToolResult):
            items.append(_build_output(part))
        elif isinstance(part, Text | Image | Document):
            parts.append(_build_part(part))
    if parts or not items:
        items.append({"type": "message", "role": "user", "content": parts})
    return items


def _build_output(result: ToolResult) -> dict[str, Any]:
    output: str | list[dict[str, Any]]
    if all(isinstance(p, Text) for p in result.content):
        output = "\n".join(p.text for p in result.content if isinstance(p, Text))
    else:
        output = [_build_part(p) for p in result.content]
    return {"type": "function_call_output", "call_id": result.tool_call_id, "output": output}


def _build_part(part: Text | Image | Document) -> dict[str, Any]:
    if isinstance(part, Text):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, Image):
        url = part.url or ""
        if part.data is not None:
            url = f"data:{part.media_type or image_media_type(part.data)};base64,{part.data}"
        return {"type": "input_image", "image_url": url, "detail": "auto"}
    out: dict[str, Any] = {"type": "input_file"}
    if part.data:
        name = part.title or "document"
        out["filename"] = name if name.lower().endswith(".pdf") else name + ".pdf"
        out["file_data"] = f"data:{part.media_type or PDF};base64,{part.data}"
    else:
        out["file_url"] = part.url or ""
    return out


def _build_assistant(message: Message) -> list[dict[str, Any]]:
    """Text as an assistant message, then each call as a function_call item."""
    items: list[dict[str, Any]] = []
    text = "".join(p.text for p in message.content if isinstance(p, Text))
    if text:
        items.append({"type": "message", "role": "assistant", "content": text})
    for part in message.content:
        if isinstance(part, ToolCall):
            items.append(
                {
                    "type": "function_call",
                    "call_id": part.id,
                    "name": part.name,
                    "arguments": _dumps(part.arguments),
                }
            )
        elif isinstance(part, Document):
            raise _fail(
                "A PDF document in an assistant message cannot be sent to a Responses "
                "upstream, whose assistant messages carry text only; move it to a user message.",
                "messages.content",
            )
    return items


def _build_tool(tool: Tool) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "function", "name": tool.name}
    if tool.description:
        out["description"] = tool.description
    out["parameters"] = tool.parameters
    out["strict"] = False  # True would make the upstream rewrite loose schemas' meaning
    return out


def _build_tool_choice(choice: ToolChoice) -> str | dict[str, Any]:
    if choice.mode == "tool":
        return {"type": "function", "name": choice.name or ""}
    return choice.mode


def _build_format(fmt: ResponseFormat) -> dict[str, Any]:
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    out: dict[str, Any] = {"type": "json_schema", "name": fmt.name or "response"}
    if fmt.description:
        out["description"] = fmt.description
    out["schema"] = fmt.schema or {"type": "object"}
    if fmt.strict is not None:
        out["strict"] = fmt.strict
    return out
