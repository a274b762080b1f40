"""Anthropic Messages as the real API puts it on the wire.

Hand-written, independent of `cherry_nb.wire`, so that it can check the
converters. Streams follow the real event order: message_start, ping,
content_block_start/delta/stop, message_delta, message_stop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .plan import (
    Conversation,
    InvalidRequestError,
    Plan,
    dumps,
    media_type_of_url,
    reasons,
    signature_for,
)

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
        _check_thinking(body)
    thinking = body.get("thinking")
    conv.thinking = isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")
    if conv.thinking and reasons(name):
        _check_signed_tool_turn(messages, signature_for(name))
    _output_format(body.get("output_config"), conv)
    conv.stream = body.get("stream") is True
    return conv


def _check_thinking(body: dict[str, Any]) -> None:
    """The rules Anthropic enforces on extended thinking."""
    thinking = body.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
        return
    budget = thinking.get("budget_tokens")
    if not isinstance(budget, int) or isinstance(budget, bool):
        raise InvalidRequestError("thinking.enabled.budget_tokens: Field required")
    if budget < 1024:
        raise InvalidRequestError(
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        )
    if body["max_tokens"] <= budget:
        raise InvalidRequestError(
            "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
            "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
            "#max-tokens-and-context-window-size"
        )
    if body.get("temperature", 1) != 1:
        raise InvalidRequestError(
            "`temperature` may only be set to 1 when thinking is enabled. Please consult our "
            "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
        )
    if "top_k" in body:
        raise InvalidRequestError("`top_k` cannot be set when thinking is enabled.")


def _check_signed_tool_turn(messages: list[Any], signature: str) -> None:
    """With thinking on, an assistant turn whose tool calls are being answered must start
    with the thinking block it came with, signature intact."""
    if len(messages) < 2 or not _has_block(messages[-1], "tool_result"):
        return
    i = len(messages) - 2
    turn = messages[i]
    if turn.get("role") != "assistant" or not _has_block(turn, "tool_use"):
        return
    first = turn["content"][0]
    if not isinstance(first, dict) or first.get("type") not in ("thinking", "redacted_thinking"):
        found = first.get("type") if isinstance(first, dict) else "text"
        raise InvalidRequestError(
            f"messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but "
            f"found `{found}`. When `thinking` is enabled, a final `assistant` message must "
            "start with a thinking block (preceeding the lastmost set of `tool_use` and "
            "`tool_result` blocks)."
        )
    if first.get("type") == "thinking" and first.get("signature") != signature:
        raise InvalidRequestError(
            f"messages.{i}.content.0: Invalid `signature` in `thinking` block"
        )


def _has_block(message: Any, kind: str) -> bool:
    content = message.get("content") if isinstance(message, dict) else None
    return isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == kind for b in content
    )


def _output_format(config: Any, conv: Conversation) -> None:
    """`output_config.format`: JSON fitting a schema (the only type there is)."""
    if config is None:
        return
    if not isinstance(config, dict):
        raise InvalidRequestError("output_config: Input should be a valid dictionary")
    fmt = config.get("format")
    if fmt is None:
        return
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        raise InvalidRequestError("output_config.format.type: Input should be 'json_schema'")
    schema = fmt.get("schema")
    if not isinstance(schema, dict):
        raise InvalidRequestError("output_config.format.schema: Field required")
    conv.output, conv.output_schema = "json_schema", schema


# -- replies ------------------------------------------------------------------


def _content(plan: Plan, tool_id: str) -> list[dict[str, Any]]:
    thinking = []
    if plan.reasoning is not None:
        thinking = [{"type": "thinking", "thinking": plan.reasoning, "signature": plan.signature}]
    if plan.tool_name is not None:
        return [
            *thinking,
            {"type": "tool_use", "id": tool_id, "name": plan.tool_name, "input": plan.tool_args},
        ]
    return [*thinking, {"type": "text", "text": plan.text}]


def _usage(plan: Plan, output_tokens: int) -> dict[str, Any]:
    """Anthropic's input_tokens leave out the tokens read from the cache."""
    return {
        "input_tokens": plan.input_tokens - plan.cached_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": plan.cached_tokens,
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
            "usage": _usage(plan, plan.output_tokens),
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
            "usage": _usage(plan, 1),
        },
    }
    events = [_event("message_start", dumps(start)), _event("ping", '{"type": "ping"}')]
    index = 0
    if plan.reasoning is not None:
        events += _thinking_events(plan.reasoning, plan.signature or "")
        index = 1
    if plan.tool_name is not None:
        block = {"type": "tool_use", "id": tool_id, "name": plan.tool_name, "input": {}}
        prefix = (
            f'{{"type":"content_block_delta","index":{index},'
            '"delta":{"type":"input_json_delta","partial_json":'
        )
    else:
        block = {"type": "text", "text": ""}
        prefix = (
            f'{{"type":"content_block_delta","index":{index},"delta":{{"type":"text_delta","text":'
        )
    block_start = {"type": "content_block_start", "index": index, "content_block": block}
    events.append(_event("content_block_start", dumps(block_start)))
    preamble = len(events)
    for piece in plan.chunks:
        events.append(_event("content_block_delta", f"{prefix}{dumps(piece)}}}}}"))
    stop = {"type": "content_block_stop", "index": index}
    events.append(_event("content_block_stop", dumps(stop)))
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": _STOP[plan.finish], "stop_sequence": None},
        "usage": {k: v for k, v in _usage(plan, plan.output_tokens).items() if k != "service_tier"},
    }
    events.append(_event("message_delta", dumps(delta)))
    events.append(_event("message_stop", '{"type":"message_stop"}'))
    return events, preamble


def _thinking_events(text: str, signature: str) -> list[bytes]:
    """Block 0: a thinking block, its text, then its signature, as Claude streams them."""
    block = {"type": "thinking", "thinking": "", "signature": ""}
    deltas = [
        {"type": "thinking_delta", "thinking": text},
        {"type": "signature_delta", "signature": signature},
    ]
    start = {"type": "content_block_start", "index": 0, "content_block": block}
    return [
        _event("content_block_start", dumps(start)),
        *(
            _event(
                "content_block_delta",
                dumps({"type": "content_block_delta", "index": 0, "delta": d}),
            )
            for d in deltas
        ),
        _event("content_block_stop", '{"type":"content_block_stop","index":0}'),
    ]


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
