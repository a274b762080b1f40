"""OpenAI's Responses API (`POST /v1/responses`) as the real service puts it on the wire.

Hand-written on purpose, independent of `cherry_nb.wire`: the simulator is the
reference the converters are tested against, so it must not share their code. Errors
use the Chat Completions envelope, as OpenAI does, so they come from `proto_openai`.

Stateless like a `store: false` request: `previous_response_id` is answered as OpenAI
answers an id it does not have (404). Reasoning is shown when `reasoning.effort` asks
for it (not "none"), with `encrypted_content` when `include` asks for it; a
`text.format` of json_schema gets JSON fitting the schema, json_object any JSON object.
Prompts of 1024 tokens or more report cached tokens in 128-token steps, as OpenAI does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .plan import Conversation, InvalidRequestError, Plan, dumps, media_type_of_url

__all__ = [
    "Ask",
    "parse_responses",
    "previous_not_found",
    "response",
    "response_events",
]

_ROLES = ("user", "assistant", "system", "developer")
_CACHE_MIN = 1024
_CACHE_STEP = 128


@dataclass(slots=True)
class Ask:
    """What a Responses request asks for beyond a `Conversation`."""

    body: dict[str, Any]
    reasoning: bool = False
    encrypted: bool = False


# -- request ------------------------------------------------------------------


def _missing(param: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def _text(content: Any, images: list[str] | None = None) -> str:
    """The text of a message's `content` (a string or a list of parts); collects images."""
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for part in content if isinstance(content, list) else ():
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("input_text", "output_text") and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "input_image" and images is not None:
            url = part.get("image_url")
            images.append(media_type_of_url(url) if isinstance(url, str) else "image")
    return "\n".join(texts)


def _tools(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for tool in body.get("tools") or ():
        if isinstance(tool, dict) and tool.get("type") == "function":
            if isinstance(tool.get("name"), str):
                out.append((tool["name"], tool.get("parameters") or {}))
    return out


def _tool_choice(body: dict[str, Any], conv: Conversation) -> None:
    choice = body.get("tool_choice")
    if choice in ("none", "auto", "required"):
        conv.tool_mode = choice
    elif isinstance(choice, dict) and isinstance(choice.get("name"), str):
        conv.forced_tool = choice["name"]
        conv.tool_mode = "required"


def parse_responses(body: dict[str, Any]) -> tuple[Conversation, Ask]:
    """Validate a Responses request body and reduce it to a `Conversation`."""
    name = body.get("model")
    if not isinstance(name, str) or not name:
        raise _missing("model")
    raw = body.get("input")
    if raw is None:
        raise _missing("input")
    items = [{"role": "user", "content": raw}] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise InvalidRequestError(
            "Invalid type for 'input': expected a string or an array of input items.",
            param="input",
            code="invalid_type",
        )
    conv = Conversation(model=name)
    systems = [body["instructions"]] if isinstance(body.get("instructions"), str) else []
    chars = sum(len(s) for s in systems)
    names: dict[str, str] = {}
    last_user: Any = None
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidRequestError(
                f"Invalid type for 'input[{i}]': expected an object.",
                param=f"input[{i}]",
                code="invalid_type",
            )
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in _ROLES:
                raise InvalidRequestError(
                    f"Invalid value: '{role}'. Supported values are: 'assistant', 'system', "
                    "'developer', and 'user'.",
                    param=f"input[{i}].role",
                    code="invalid_value",
                )
            text = _text(item.get("content"))
            chars += len(text)
            if role in ("system", "developer"):
                systems.append(text)
                continue
            conv.message_count += 1
            if role == "user":
                last_user = item.get("content")
        elif kind == "function_call":
            names[str(item.get("call_id"))] = str(item.get("name"))
            chars += len(str(item.get("arguments") or ""))
        elif kind == "function_call_output":
            if not isinstance(item.get("call_id"), str):
                raise _missing(f"input[{i}].call_id")
            chars += len(_text(item.get("output")))
    conv.system = " ".join(s for s in systems if s)
    if last_user is not None:
        conv.user_text = _text(last_user, conv.images)
    results: list[tuple[str, str]] = []
    for item in reversed(items):
        if not isinstance(item, dict) or item.get("type") != "function_call_output":
            break
        call_id = str(item["call_id"])
        results.append((names.get(call_id, call_id), _text(item.get("output"))))
    results.reverse()
    conv.tool_results = results
    conv.text_chars = chars
    conv.tools = _tools(body)
    _tool_choice(body, conv)
    limit = body.get("max_output_tokens")
    conv.max_tokens = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
    conv.stream = body.get("stream") is True
    _text_format(body, conv)
    return conv, _ask(body)


def _obj(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def _ask(body: dict[str, Any]) -> Ask:
    reasoning = _obj(body, "reasoning")
    include = body.get("include")
    include = include if isinstance(include, list) else []
    effort = reasoning.get("effort")
    return Ask(
        body=body,
        reasoning=isinstance(effort, str) and effort != "none",
        encrypted="reasoning.encrypted_content" in include,
    )


def _text_format(body: dict[str, Any], conv: Conversation) -> None:
    """`text.format`: json_schema (JSON fitting its schema) or json_object (any object)."""
    fmt = _obj(_obj(body, "text"), "format")
    kind = fmt.get("type")
    if kind == "json_object":
        conv.output = kind
    elif kind == "json_schema":
        schema = fmt.get("schema")
        conv.output = kind
        conv.output_schema = schema if isinstance(schema, dict) else {"type": "object"}


# -- replies ------------------------------------------------------------------


def _cached(tokens: int) -> int:
    return tokens // _CACHE_STEP * _CACHE_STEP if tokens >= _CACHE_MIN else 0


def _summary(conv: Conversation) -> str:
    return f"The user wrote {len(conv.user_text.split())} words; answering plainly."


def _usage(plan: Plan, reasoning_tokens: int) -> dict[str, Any]:
    output = plan.output_tokens + reasoning_tokens
    return {
        "input_tokens": plan.input_tokens,
        "input_tokens_details": {"cached_tokens": _cached(plan.input_tokens)},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": plan.input_tokens + output,
    }


def _reasoning_tokens(ask: Ask, conv: Conversation) -> int:
    return len(_summary(conv).split()) if ask.reasoning else 0


def _shell(rid: str, created: int, model: str, ask: Ask, status: str) -> dict[str, Any]:
    """The `response` object without output, echoing the request as OpenAI does."""
    body = ask.body
    text = _obj(body, "text")
    reasoning = _obj(body, "reasoning")
    tool_choice = body.get("tool_choice", "auto")
    return {
        "id": rid,
        "object": "response",
        "created_at": created,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": model,
        "output": [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "service_tier": "default",
        "store": False,
        "temperature": body.get("temperature", 1.0),
        "text": {"format": text.get("format") or {"type": "text"}, "verbosity": "medium"},
        "tool_choice": tool_choice,
        "tools": list(body.get("tools") or ()),
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": None,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


def _finish(shell: dict[str, Any], plan: Plan, ask: Ask, conv: Conversation) -> dict[str, Any]:
    if plan.finish == "length":
        shell["status"] = "incomplete"
        shell["incomplete_details"] = {"reason": "max_output_tokens"}
    else:
        shell["status"] = "completed"
    shell["usage"] = _usage(plan, _reasoning_tokens(ask, conv))
    return shell


def _reasoning_item(rid: str, conv: Conversation, ask: Ask, done: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "rs_" + rid[5:],
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": _summary(conv)}] if done else [],
    }
    if ask.encrypted:
        item["encrypted_content"] = "gAAAAsim" + rid[5:]
    return item


def _message_item(rid: str, text: str | None, status: str) -> dict[str, Any]:
    content = [] if text is None else [_text_part(text)]
    return {
        "id": "msg_" + rid[5:],
        "type": "message",
        "status": status,
        "content": content,
        "role": "assistant",
    }


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def _call_item(rid: str, call_id: str, plan: Plan, arguments: str, status: str) -> dict[str, Any]:
    return {
        "id": "fc_" + rid[5:],
        "type": "function_call",
        "status": status,
        "arguments": arguments,
        "call_id": call_id,
        "name": plan.tool_name,
    }


def _output(rid: str, call_id: str, plan: Plan, ask: Ask, conv: Conversation) -> list[Any]:
    out = [_reasoning_item(rid, conv, ask, True)] if ask.reasoning else []
    status = "incomplete" if plan.finish == "length" else "completed"
    if plan.tool_name is not None:
        out.append(_call_item(rid, call_id, plan, plan.text, "completed"))
    else:
        out.append(_message_item(rid, plan.text, status))
    return out


def response(
    plan: Plan, conv: Conversation, ask: Ask, *, rid: str, call_id: str, created: int
) -> bytes:
    """A non-streamed `response` object."""
    shell = _shell(rid, created, conv.model, ask, "completed")
    shell["output"] = _output(rid, call_id, plan, ask, conv)
    return dumps(_finish(shell, plan, ask, conv)).encode()


class _Events:
    """Typed SSE events, numbered in order."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def add(self, kind: str, **fields: Any) -> None:
        payload = {"type": kind, "sequence_number": len(self.frames), **fields}
        self.frames.append(f"event: {kind}\ndata: {dumps(payload)}\n\n".encode())


def response_events(
    plan: Plan, conv: Conversation, ask: Ask, *, rid: str, call_id: str, created: int
) -> tuple[list[bytes], int]:
    """The events of a streamed response, and how many precede the content."""
    ev = _Events()
    shell = _shell(rid, created, conv.model, ask, "in_progress")
    ev.add("response.created", response=shell)
    ev.add("response.in_progress", response=shell)
    index = 0
    if ask.reasoning:
        _reasoning_events(ev, rid, conv, ask)
        index = 1
    if plan.tool_name is not None:
        ev.add(
            "response.output_item.added",
            output_index=index,
            item=_call_item(rid, call_id, plan, "", "in_progress"),
        )
        preamble = len(ev.frames)
        item_id = "fc_" + rid[5:]
        for piece in plan.chunks:
            ev.add(
                "response.function_call_arguments.delta",
                item_id=item_id,
                output_index=index,
                delta=piece,
            )
        ev.add(
            "response.function_call_arguments.done",
            item_id=item_id,
            output_index=index,
            arguments=plan.text,
        )
        done = _call_item(rid, call_id, plan, plan.text, "completed")
    else:
        status = "incomplete" if plan.finish == "length" else "completed"
        item_id = "msg_" + rid[5:]
        where = {"item_id": item_id, "output_index": index, "content_index": 0}
        ev.add(
            "response.output_item.added",
            output_index=index,
            item=_message_item(rid, None, "in_progress"),
        )
        ev.add("response.content_part.added", **where, part=_text_part(""))
        preamble = len(ev.frames)
        for piece in plan.chunks:
            ev.add("response.output_text.delta", **where, delta=piece, logprobs=[])
        ev.add("response.output_text.done", **where, text=plan.text, logprobs=[])
        ev.add("response.content_part.done", **where, part=_text_part(plan.text))
        done = _message_item(rid, plan.text, status)
    ev.add("response.output_item.done", output_index=index, item=done)
    final = _shell(rid, created, conv.model, ask, "completed")
    final["output"] = _output(rid, call_id, plan, ask, conv)
    final = _finish(final, plan, ask, conv)
    kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    ev.add(kind, response=final)
    return ev.frames, preamble


def _reasoning_events(ev: _Events, rid: str, conv: Conversation, ask: Ask) -> None:
    item_id = "rs_" + rid[5:]
    where = {"item_id": item_id, "output_index": 0, "summary_index": 0}
    text = _summary(conv)
    ev.add(
        "response.output_item.added", output_index=0, item=_reasoning_item(rid, conv, ask, False)
    )
    ev.add(
        "response.reasoning_summary_part.added", **where, part={"type": "summary_text", "text": ""}
    )
    words = text.split(" ")
    for k, word in enumerate(words):
        delta = word + (" " if k < len(words) - 1 else "")
        ev.add("response.reasoning_summary_text.delta", **where, delta=delta)
    ev.add("response.reasoning_summary_text.done", **where, text=text)
    ev.add(
        "response.reasoning_summary_part.done", **where, part={"type": "summary_text", "text": text}
    )
    ev.add("response.output_item.done", output_index=0, item=_reasoning_item(rid, conv, ask, True))


def previous_not_found(response_id: str) -> bytes:
    """What OpenAI answers (404) for a `previous_response_id` it does not have."""
    return dumps(
        {
            "error": {
                "message": f"Previous response with id '{response_id}' not found.",
                "type": "invalid_request_error",
                "param": "previous_response_id",
                "code": "previous_response_not_found",
            }
        }
    ).encode()
