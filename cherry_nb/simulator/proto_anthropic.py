"""Anthropic Messages as the real API puts it on the wire.

Hand-written, independent of `cherry_nb.wire`, so that it can check the
converters. Streams follow the real event order: message_start, ping,
content_block_start/delta/stop, message_delta, message_stop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .plan import Conversation, InvalidRequestError, Plan, dumps, media_type_of_url

__all__ = [
    "auth_error",
    "count_tokens",
    "error",
    "fault",
    "invalid_json",
    "message",
    "message_events",
    "model",
    "model_not_found",
    "models_list",
    "parse_messages",
]

_STOP = {"stop": "end_turn", "length": "max_tokens", "tool": "tool_use"}
_CREATED_AT = "2025-01-01T00:00:00Z"


# -- request ------------------------------------------------------------------


def _blocks_text(content: Any, images: list[str] | None = None) -> str:
    """Text of a `content` (string or blocks), ignoring tool results; collects images."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts: list[str] = []
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "image" and images is not None:
            source = block.get("source")
            media = "image"
            if isinstance(source, dict):
                if isinstance(source.get("media_type"), str):
                    media = source["media_type"]
                elif isinstance(source.get("url"), str):
                    media = media_type_of_url(source["url"])
            images.append(media)
    return "\n".join(texts)


def _only_tool_results(content: Any) -> bool:
    return (
        isinstance(content, list)
        and bool(content)
        and all(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)
    )


def parse_messages(body: dict[str, Any], *, count_only: bool = False) -> Conversation:
    """Validate a Messages (or count_tokens) body and reduce it to a `Conversation`."""
    name = body.get("model")
    if name is None:
        raise InvalidRequestError("model: Field required")
    if not isinstance(name, str):
        raise InvalidRequestError("model: Input should be a valid string")
    messages = body.get("messages")
    if messages is None:
        raise InvalidRequestError("messages: Field required")
    if not isinstance(messages, list):
        raise InvalidRequestError("messages: Input should be a valid list")
    if not count_only:
        limit = body.get("max_tokens")
        if limit is None:
            raise InvalidRequestError("max_tokens: Field required")
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise InvalidRequestError("max_tokens: Input should be a valid integer")
        if limit < 1:
            raise InvalidRequestError("max_tokens: Input should be greater than or equal to 1")
    if not messages:
        raise InvalidRequestError("messages: at least one message is required")
    conv = Conversation(model=name, message_count=len(messages))
    system = body.get("system")
    conv.system = _blocks_text(system) if system is not None else ""
    chars = len(conv.system)
    tool_names: dict[str, str] = {}
    last_user = -1
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise InvalidRequestError(f"messages.{i}: Input should be a valid dictionary")
        role = msg.get("role")
        # "system": instructions mid-conversation, which the current API accepts.
        if role not in ("user", "assistant", "system"):
            raise InvalidRequestError(
                f"messages.{i}.role: Input should be 'user', 'assistant' or 'system'"
            )
        content = msg.get("content")
        if content is None:
            raise InvalidRequestError(f"messages.{i}.content: Field required")
        chars += len(_blocks_text(content))
        if isinstance(content, list):
            for block in content:
                if not isinstance(block, dict):
                    continue
                if block.get("type") == "tool_use":
                    tool_names[str(block.get("id"))] = str(block.get("name"))
                elif block.get("type") == "tool_result":
                    chars += len(_blocks_text(block.get("content")))
        if role == "user" and not _only_tool_results(content):
            last_user = i
    if last_user >= 0:
        conv.user_text = _blocks_text(messages[last_user]["content"], conv.images)
    last = messages[-1]
    if last.get("role") == "user" and isinstance(last["content"], list):
        for block in last["content"]:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                use_id = str(block.get("tool_use_id"))
                label = tool_names.get(use_id, use_id)
                conv.tool_results.append((label, _blocks_text(block.get("content"))))
    conv.text_chars = chars
    tools = body.get("tools")
    if isinstance(tools, list):
        for tool in tools:
            if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                conv.tools.append((tool["name"], tool.get("input_schema") or {}))
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "none":
            conv.tool_mode = "none"
        elif kind == "any":
            conv.tool_mode = "required"
        elif kind == "tool" and isinstance(choice.get("name"), str):
            conv.tool_mode = "required"
            conv.forced_tool = choice["name"]
    if not count_only:
        conv.max_tokens = body["max_tokens"]
    conv.stream = body.get("stream") is True
    return conv


# -- replies ------------------------------------------------------------------


def _content(plan: Plan, tool_id: str) -> list[dict[str, Any]]:
    if plan.tool_name is not None:
        return [
            {"type": "tool_use", "id": tool_id, "name": plan.tool_name, "input": plan.tool_args}
        ]
    return [{"type": "text", "text": plan.text}]


def _usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def message(plan: Plan, *, mid: str, tool_id: str, model_name: str) -> bytes:
    """A non-streamed `message` object."""
    return dumps(
        {
            "id": mid,
            "type": "message",
            "role": "assistant",
            "model": model_name,
            "content": _content(plan, tool_id),
            "stop_reason": _STOP[plan.finish],
            "stop_sequence": None,
            "usage": _usage(plan.input_tokens, plan.output_tokens),
        }
    ).encode()


def _event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


def message_events(
    plan: Plan, *, mid: str, tool_id: str, model_name: str
) -> tuple[list[bytes], int]:
    """The SSE events of a streamed message, and how many precede the content."""
    start = {
        "type": "message_start",
        "message": {
            "id": mid,
            "type": "message",
            "role": "assistant",
            "model": model_name,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": _usage(plan.input_tokens, 1),
        },
    }
    events = [_event("message_start", dumps(start)), _event("ping", '{"type": "ping"}')]
    if plan.tool_name is not None:
        block = {"type": "tool_use", "id": tool_id, "name": plan.tool_name, "input": {}}
        prefix = (
            '{"type":"content_block_delta","index":0,'
            '"delta":{"type":"input_json_delta","partial_json":'
        )
    else:
        block = {"type": "text", "text": ""}
        prefix = '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":'
    block_start = {"type": "content_block_start", "index": 0, "content_block": block}
    events.append(_event("content_block_start", dumps(block_start)))
    preamble = len(events)
    for piece in plan.chunks:
        events.append(_event("content_block_delta", f"{prefix}{dumps(piece)}}}}}"))
    events.append(_event("content_block_stop", '{"type":"content_block_stop","index":0}'))
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": _STOP[plan.finish], "stop_sequence": None},
        "usage": {
            "input_tokens": plan.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": plan.output_tokens,
        },
    }
    events.append(_event("message_delta", dumps(delta)))
    events.append(_event("message_stop", '{"type":"message_stop"}'))
    return events, preamble


def count_tokens(plan_input_tokens: int) -> bytes:
    """`POST /v1/messages/count_tokens`."""
    return dumps({"input_tokens": plan_input_tokens}).encode()


def _display(name: str) -> str:
    return " ".join(part.capitalize() for part in name.replace("_", "-").split("-"))


def _model(name: str) -> dict[str, Any]:
    return {"type": "model", "id": name, "display_name": _display(name), "created_at": _CREATED_AT}


def models_list(models: Sequence[str]) -> bytes:
    """`GET /v1/models` in Anthropic's shape (one page)."""
    return dumps(
        {
            "data": [_model(m) for m in models],
            "has_more": False,
            "first_id": models[0] if models else None,
            "last_id": models[-1] if models else None,
        }
    ).encode()


def model(name: str) -> bytes:
    """`GET /v1/models/{id}`."""
    return dumps(_model(name)).encode()


# -- errors -------------------------------------------------------------------


def error(kind: str, message_text: str) -> bytes:
    """Anthropic's error envelope."""
    return dumps({"type": "error", "error": {"type": kind, "message": message_text}}).encode()


def invalid_json() -> bytes:
    return error("invalid_request_error", "The request body is not valid JSON.")


def auth_error(missing: bool) -> bytes:
    return error(
        "authentication_error", "x-api-key header is required" if missing else "invalid x-api-key"
    )


def model_not_found(name: str) -> bytes:
    return error("not_found_error", f"model: {name}")


def fault(status: int, model_name: str) -> bytes:
    """A scripted failure as Anthropic reports it."""
    if status == 429:
        return error(
            "rate_limit_error",
            "This request would exceed the rate limit for your organization of 50 requests per "
            "minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can "
            "see the response headers for current usage.",
        )
    if status == 529:
        return error("overloaded_error", "Overloaded")
    if status == 401:
        return auth_error(False)
    if status == 403:
        return error(
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        )
    if status == 404:
        return model_not_found(model_name)
    if status == 413:
        return error("request_too_large", "Request exceeds the maximum allowed number of bytes.")
    if status >= 500:
        text = {500: "Internal server error", 502: "Bad gateway", 503: "Service unavailable"}
        return error("api_error", text.get(status, f"Simulated error {status}"))
    return error("invalid_request_error", f"Simulated error {status}.")
