"""Requests: a client's /v1/messages body -> neutral, and neutral -> an upstream's body;
the block parsers here also read upstream replies (see `_responses`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..._exceptions import UntranslatableError, WireFormatError
from .._common import (
    NUMBER,
    OBJECT,
    REQUIRED_STRING,
    STRING,
    FieldRule,
    check_fields,
    image_media_type,
    split_data_url,
)
from .._signatures import own_signature, read_signature
from .._translate import MIN_ANTHROPIC_BUDGET, budget_for, check_choices, note_dropped
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
from ._common import FORMAT, _fail, _get

DEFAULT_MAX_TOKENS = 4096
"""Used when a neutral request has no max_tokens: Anthropic refuses requests without one."""


_TOOL_CHOICE_FROM_ANTHROPIC = {"auto": "auto", "any": "required", "tool": "tool", "none": "none"}
_TOOL_CHOICE_TO_ANTHROPIC = {"auto": "auto", "required": "any", "tool": "tool", "none": "none"}


PDF = "application/pdf"
"""The one media type of base64 documents (text documents have a `text` source)."""


# ---- requests: Anthropic -> neutral ----------------------------------------------------


READ_FIELDS = frozenset(
    {
        "model",
        "max_tokens",
        "messages",
        "system",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "tools",
        "tool_choice",
        "stream",
        # mapped by _read_extras (docs/translation.md)
        "output_config",
        "output_format",
        "thinking",
        "metadata",
    }
)
"""Top-level fields parse_request carries; any other a client sends (context_management,
cache_control, ...) is named in `ChatRequest.dropped` (forward compatibility: never
refused for being new)."""


FIELD_RULES = {
    "stream": FieldRule(bool, "a boolean"),
    "temperature": FieldRule(NUMBER, "a number from 0 to 1", 0, 1),
    "top_p": FieldRule(NUMBER, "a number from 0 to 1", 0, 1),
    "top_k": FieldRule(int, "a non-negative integer", 0),
    "metadata": FieldRule(OBJECT, "an object", fields={"user_id": STRING}),
    "thinking": FieldRule(
        OBJECT,
        "an object",
        fields={
            "type": REQUIRED_STRING,
            "budget_tokens": FieldRule(int, "a positive integer", 1),
        },
    ),
    "output_config": FieldRule(OBJECT, "an object"),
    "context_management": FieldRule(OBJECT, "an object"),
    "cache_control": FieldRule(OBJECT, "an object"),
    "service_tier": FieldRule(str, "a string"),
    "mcp_servers": FieldRule(list, "an array"),
    "container": FieldRule((str, OBJECT), "a string or an object"),
}
"""Types (and ranges) of top-level fields, carried or not: the format's own rules."""


def parse_request(body: Mapping[str, Any]) -> ChatRequest:
    """A client's /v1/messages JSON -> ChatRequest; WireFormatError names a field the format
    forbids, UntranslatableError (a subclass) one that is valid but has no neutral form.

    System-role entries inside `messages` (Claude Code's mid-conversation system text)
    join the top-level `system`, in order, so each upstream format gets them in its own
    place."""
    if not isinstance(body, Mapping):
        raise WireFormatError("The request body must be a JSON object.")
    model = _get(body, "model", str, "a model id", required=True)
    max_tokens = _get(body, "max_tokens", int, "a positive integer", required=True)
    if max_tokens < 1:
        raise _fail("max_tokens", "must be a positive integer.")
    raw_messages = _get(body, "messages", list, "a list of messages", required=True)
    if not raw_messages:
        raise _fail("messages", "must hold at least one message.")
    stop = _get(body, "stop_sequences", list, "a list of strings")
    if stop is not None and not all(isinstance(s, str) for s in stop):
        raise _fail("stop_sequences", "must be a list of strings.")
    dropped = check_fields(body, FIELD_RULES, READ_FIELDS, _fail)
    _check_cache_control(body, "")
    system = _parse_system(body.get("system"))
    systems = [system] if system else []
    messages = []
    dropped_blocks: list[str] = []
    for i, raw in enumerate(raw_messages):
        message = _parse_message(raw, f"messages.{i}", dropped_blocks)
        if isinstance(message, Message):
            messages.append(message)
        elif message:
            systems.append(message)
    request = ChatRequest(
        model=model,
        messages=messages,
        system="\n\n".join(systems) if systems else None,
        max_tokens=max_tokens,
        temperature=_float(body, "temperature"),
        top_p=_float(body, "top_p"),
        top_k=_get(body, "top_k", int, "an integer"),
        stop=stop,
        tools=_parse_tools(body.get("tools")),
        tool_choice=_parse_tool_choice(body.get("tool_choice")),
        stream=bool(_get(body, "stream", bool, "a boolean")),
        dropped=dropped + _server_tools(body) + dropped_blocks,
    )
    _read_extras(body, request)
    return request


UNMAPPED_FIELDS = ("service_tier", "container", "mcp_servers", "context_management")
"""Fields a client may send that no other format carries (docs/translation.md says why)."""

_EFFORT_FROM_ANTHROPIC: dict[str, ReasoningEffort] = {
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "xhigh",
    "max": "xhigh",
}


def _read_extras(body: Mapping[str, Any], request: ChatRequest) -> None:
    """Structured output, thinking and effort, the user id, parallel tool use; and the
    fields with no mapping, listed in `request.dropped`."""
    config = _get(body, "output_config", Mapping, "an object") or {}
    fmt = config.get("format")
    if fmt is None:  # the structured-outputs beta's name for the same object
        fmt, path = body.get("output_format"), "output_format"
    else:
        path = "output_config.format"
    request.response_format = _parse_output_format(fmt, path)
    effort = _get(config, "effort", str, "low, medium, high or max", "output_config")
    if effort is not None:
        if effort not in _EFFORT_FROM_ANTHROPIC:
            raise _fail("output_config.effort", "must be low, medium, high or max.")
        request.reasoning_effort = _EFFORT_FROM_ANTHROPIC[effort]
    request.thinking_budget = _parse_thinking_config(body.get("thinking"))
    metadata = _get(body, "metadata", Mapping, "an object") or {}
    request.user = _get(metadata, "user_id", str, "a string", "metadata")
    choice = body.get("tool_choice")
    if isinstance(choice, Mapping) and choice.get("disable_parallel_tool_use") is True:
        request.parallel_tool_calls = False
    request.dropped.extend(
        key for key in UNMAPPED_FIELDS if body.get(key) is not None and key not in request.dropped
    )


def _parse_output_format(value: Any, path: str) -> ResponseFormat | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _fail(path, "must be an object.")
    if value.get("type") != "json_schema":
        raise _fail(f"{path}.type", "must be 'json_schema'.")
    schema = _get(value, "schema", Mapping, "a JSON schema object", path, required=True)
    # Not `strict`: OpenAI's strict mode wants every property required, Anthropic's not.
    return ResponseFormat("json_schema", dict(schema), name="response")


def _parse_thinking_config(value: Any) -> int | None:
    """`enabled` -> its budget, `disabled` -> 0, `adaptive` -> None (the effort says how
    much, and the model decides)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _fail("thinking", "must be an object.")
    kind = value.get("type")
    if kind == "enabled":
        return int(_get(value, "budget_tokens", int, "an integer", "thinking", required=True))
    if kind == "disabled":
        return 0
    if kind == "adaptive":
        return None
    raise _fail("thinking.type", "must be enabled, disabled or adaptive.")


def _server_tools(body: Mapping[str, Any]) -> list[str]:
    """`tools.N` of each server tool, which `_parse_tools` leaves out."""
    tools = body.get("tools")
    return [
        f"tools.{i}"
        for i, tool in enumerate(tools if isinstance(tools, list) else ())
        if tool.get("input_schema") is None and tool.get("type") not in (None, "custom")
    ]


def _float(body: Mapping[str, Any], key: str) -> float | None:
    value = _get(body, key, int | float, "a number")
    return None if value is None else float(value)


def _parse_system(value: Any, path: str = "system") -> str | None:
    """A string, or text blocks (their cache_control ignored) joined by blank lines."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise _fail(path, "must be a string or a list of text blocks.")
    texts = [p.text for p in _parse_blocks(value, path, _SYSTEM_PARSERS)]
    return "\n\n".join(texts) if texts else None


def _parse_message(raw: Any, path: str, dropped: list[str]) -> Message | str | None:
    """A user or assistant turn; a system-role entry's text (None if empty). Blocks of
    unknown types in an assistant turn are named in `dropped` (see `_parse_blocks`)."""
    if not isinstance(raw, Mapping):
        raise _fail(path, "must be an object.")
    role = raw.get("role")
    if role == "system":
        if raw.get("content") is None:
            raise _fail(f"{path}.content", "must be a string or a list of text blocks.")
        return _parse_system(raw.get("content"), f"{path}.content")
    if role not in ("user", "assistant"):
        raise _fail(f"{path}.role", f"must be 'user', 'assistant' or 'system', not {role!r}.")
    content = raw.get("content")
    if isinstance(content, str):
        return Message(role, [Text(content)] if content else [])
    if not isinstance(content, list):
        raise _fail(f"{path}.content", "must be a string or a list of blocks.")
    sink = dropped if role == "assistant" else None
    return Message(role, _parse_blocks(content, f"{path}.content", _BLOCK_PARSERS, dropped=sink))


def _parse_blocks(
    blocks: list[Any],
    path: str,
    parsers: Mapping[str, Callable],
    *,
    strict: bool = True,
    dropped: list[str] | None = None,
) -> list[Any]:
    """Blocks of the types in `parsers`; parsers return None to drop one, a list for several.

    Other types, in a client's request (`strict`), are refused as untranslatable unless
    listed in DROPPED_PART_TYPES, or — given a `dropped` list (an assistant turn, the
    model's own replayed output, e.g. a newer server tool's result) — left out and
    named there. In an upstream's response (not `strict`) they are skipped.
    """
    parts = []
    for i, block in enumerate(blocks):
        if not isinstance(block, Mapping):
            raise _fail(f"{path}.{i}", "a content block must be an object.")
        kind = block.get("type")
        if strict:
            if not isinstance(kind, str):
                raise _fail(f"{path}.{i}.type", "must be a string naming the block type.")
            _check_cache_control(block, f"{path}.{i}.")
        parser = parsers.get(kind) if isinstance(kind, str) else None
        if parser is None:
            if not strict or kind in DROPPED_PART_TYPES:
                continue
            if dropped is None:
                raise _untranslatable(f"{path}.{i}", kind, parsers)
            dropped.append(f"{path}.{i}")
            continue
        part = parser(block, f"{path}.{i}")
        if isinstance(part, list):
            parts += part
        elif part is not None:
            parts.append(part)
    return parts


def _check_cache_control(obj: Mapping[str, Any], prefix: str) -> None:
    """`cache_control`, allowed on every block, tool and the request: an object whose
    `type` and `ttl` are strings. Not carried to other formats, but checked everywhere,
    so a body gets the same answer whichever upstream it goes to."""
    value = obj.get("cache_control")
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise _fail(f"{prefix}cache_control", "must be an object.")
    if not isinstance(value.get("type", ""), str):  # may be absent, never null
        raise _fail(f"{prefix}cache_control.type", "must be a string.")
    if not isinstance(value.get("ttl"), str | None):
        raise _fail(f"{prefix}cache_control.ttl", "must be a string.")


def _cannot(param: str, problem: str) -> UntranslatableError:
    return UntranslatableError(f"{param}: {problem}", param=param)


def _untranslatable(path: str, kind: Any, parsers: Mapping[str, Callable]) -> WireFormatError:
    known = ", ".join(parsers)
    return UntranslatableError(
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
        url = _get(source, "url", str, "a string", path, required=True)
        inline = split_data_url(url, f"{path}.url")
        return Image(url=url) if inline is None else Image(*inline)
    # A file id (Anthropic's Files API) or a later source kind: no other format can use it.
    raise _cannot(f"{path}.type", f"image source type {kind!r} cannot be translated.")


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


def _parse_tool_reference(block: Mapping[str, Any], path: str) -> Text:
    """A tool that a tool search loaded (Claude Code's ToolSearch): Anthropic expands
    the reference into that tool's definition from the request's deferred tools. Other
    formats get every tool in full from the start (`defer_loading` has no meaning there),
    so naming the tool says all the reference says."""
    name = _get(block, "tool_name", str, "a string", path, required=True)
    return Text(f"{TOOL_REFERENCE_TEXT}{name}")


TOOL_REFERENCE_TEXT = "Tool loaded: "
"""What a `tool_reference` block becomes for other formats, before the tool's name."""


def _parse_thinking(block: Mapping[str, Any], path: str) -> Reasoning:
    text = _get(block, "thinking", str, "a string", path, required=True)
    signature = _get(block, "signature", str, "a string", path)
    return Reasoning(text, *read_signature(signature, FORMAT))


def _parse_document(
    block: Mapping[str, Any], path: str
) -> Text | Document | list[Text | Document] | None:
    """A PDF (base64 or URL source, a data: URL read as base64) becomes a Document, its
    `context` a Text before it; a plain-text document becomes Text (title and context
    first). A Files API id or a custom `content` source cannot be carried to another
    format."""
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
        if (inline := split_data_url(url, f"{source_path}.url")) is None:
            document = Document(url=url, title=title)
        elif (inline[0] or PDF) != PDF:
            raise _fail(f"{source_path}.url", f"must be a PDF, not {inline[0]!r}.")
        else:
            document = Document(PDF, inline[1], title=title)
    else:
        raise _cannot(f"{source_path}.type", f"document source type {kind!r} cannot be translated.")
    return [Text(context), document] if context else document


DROPPED_PART_TYPES = frozenset({"redacted_thinking", "server_tool_use", "web_search_tool_result"})
"""Request block types dropped on purpose rather than refused: clients (Claude Code among
them) send back the assistant's earlier turns as received, and these carry nothing another
format can express — redacted thinking is encrypted, a web search's results are encrypted
and its call was already run by Anthropic (the assistant's text after it says what it found).
A server_tool_use of another server tool still fails on its readable result block."""

# Request block types, by where they may appear; anything else is refused (see above).
_SYSTEM_PARSERS = {"text": _parse_text}
_CONTENT_PARSERS = {"text": _parse_text, "image": _parse_image, "document": _parse_document}
_RESULT_PARSERS = {**_CONTENT_PARSERS, "tool_reference": _parse_tool_reference}
_BLOCK_PARSERS = {
    **_CONTENT_PARSERS,
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
        if not isinstance(raw.get("type"), str | None):
            raise _fail(f"{path}.type", "must be a string.")
        _check_cache_control(raw, f"{path}.")
        if not isinstance(raw.get("name"), str | None):
            raise _fail(f"{path}.name", "must be a string.")
        if raw.get("input_schema") is None and raw.get("type") not in (None, "custom"):
            # A server tool (web_search_..., code_execution_...): only Anthropic runs it, so
            # when translating it is left out (named in `dropped`), not refused: Claude Code
            # lists web_search among its tools, and the model can still answer without it.
            continue
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
    if not isinstance(kind, str):
        raise _fail("tool_choice.type", "must be auto, any, tool or none.")
    mode = _TOOL_CHOICE_FROM_ANTHROPIC.get(kind)
    if mode is None:  # a newer kind of choice: the API may know it, no other format does
        raise _cannot("tool_choice.type", f"tool_choice type {kind!r} cannot be translated.")
    name = _get(value, "name", str, "a string", "tool_choice", required=mode == "tool")
    return ToolChoice(mode, name if mode == "tool" else None)  # type: ignore[arg-type]


# ---- requests: neutral -> Anthropic ----------------------------------------------------


def build_request(request: ChatRequest) -> dict[str, Any]:
    """ChatRequest -> an upstream /v1/messages body; None fields are left out, and what
    Anthropic cannot carry is added to `request.dropped`."""
    check_choices(request, "Anthropic", supported=False)
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
    _build_extras(request, body)
    return body


JSON_OBJECT_INSTRUCTION = "Reply with one JSON object and nothing else."
"""What asks for `json_object` output: Anthropic's output_config.format needs a schema
whose objects all forbid extra properties, so "any object" cannot be said as one."""


def _build_extras(request: ChatRequest, body: dict[str, Any]) -> None:
    """Structured output, thinking, the user id, parallel tool use; unmapped fields noted."""
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema":
        schema = fmt.schema if fmt.schema is not None else {"type": "object"}
        body["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
    elif fmt is not None and fmt.type == "json_object":
        system = body.get("system")
        body["system"] = (
            f"{system}\n\n{JSON_OBJECT_INSTRUCTION}" if system else (JSON_OBJECT_INSTRUCTION)
        )
    _build_thinking(request, body)
    if request.user is not None:
        body["metadata"] = {"user_id": request.user}
    if request.parallel_tool_calls is False and request.tools:
        choice = body.setdefault("tool_choice", {"type": "auto"})
        if choice["type"] != "none":  # no calls at all: nothing to keep serial
            choice["disable_parallel_tool_use"] = True
    for key in ("seed", "presence_penalty", "frequency_penalty"):
        if getattr(request, key) is not None:
            note_dropped(request, key)


def _build_thinking(request: ChatRequest, body: dict[str, Any]) -> None:
    """`thinking` from the budget or effort. Anthropic wants budget_tokens of at least
    1024 and under max_tokens, no forced tool beside it, and no sampling changes but
    temperature 1 and top_p of 0.95 or more: what conflicts is left out, and noted."""
    budget = budget_for(request)
    if budget is None:
        return
    if budget <= 0:
        body["thinking"] = {"type": "disabled"}
        return
    reason = "reasoning_effort" if request.reasoning_effort is not None else "thinking_budget"
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
        note_dropped(request, reason)  # Anthropic refuses thinking with a forced tool
        return
    if _unsigned_tool_turn(request.messages):
        note_dropped(request, reason)  # Anthropic wants that turn's signed thinking first
        return
    budget = max(budget, MIN_ANTHROPIC_BUDGET)
    if request.max_tokens is None:
        body["max_tokens"] = max(body["max_tokens"], budget + DEFAULT_MAX_TOKENS)
    elif budget >= body["max_tokens"]:
        budget = body["max_tokens"] - 1
        if budget < MIN_ANTHROPIC_BUDGET:
            note_dropped(request, reason)  # no room to think within the client's limit
            return
    body["thinking"] = {"type": "enabled", "budget_tokens": budget}
    if body.get("temperature", 1) != 1:
        del body["temperature"]
        note_dropped(request, "temperature")
    if body.pop("top_k", None) is not None:
        note_dropped(request, "top_k")
    if body.get("top_p", 1) < 0.95:
        del body["top_p"]
        note_dropped(request, "top_p")


def _unsigned_tool_turn(messages: list[Message]) -> bool:
    """Whether the request answers tool calls of an assistant turn that has no signed
    reasoning of Anthropic's (a client in a format without signatures, or a turn another
    provider family made): with thinking on, Anthropic
    refuses such a turn, so thinking stays off until the tool loop ends."""
    if len(messages) < 2 or not any(isinstance(p, ToolResult) for p in messages[-1].content):
        return False
    turn = messages[-2]
    return (
        turn.role == "assistant"
        and any(isinstance(p, ToolCall) for p in turn.content)
        and not any(isinstance(p, Reasoning) and own_signature(p, FORMAT) for p in turn.content)
    )


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
    if signature := own_signature(part, FORMAT):  # wanted back on tool-call turns
        return {"type": "thinking", "thinking": part.text, "signature": signature}
    return None  # unsigned, or signed by another family: Anthropic would refuse it


def _build_image(image: Image) -> dict[str, Any] | None:
    if image.data:
        media_type = image.media_type or image_media_type(image.data)
        source = {"type": "base64", "media_type": media_type, "data": image.data}
        return {"type": "image", "source": source}
    return {"type": "image", "source": {"type": "url", "url": image.url}} if image.url else None


def _build_document(document: Document) -> dict[str, Any] | None:
    if document.data:
        source = {"type": "base64", "media_type": document.media_type or PDF, "data": document.data}
    elif document.url:
        source = {"type": "url", "url": document.url}
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
