"""One %%chat turn with one model: the stream, and the tool loop around it.

Without tools a turn is one stream. With `--tools`, each reply that asks for
calls runs them here, in the kernel (after asking, with `--confirm`), sends the
results back and streams again, until the model stops calling tools or the step
limit is reached. Each call is shown compactly in the reply's output, between
the texts around it, and every message is kept so the conversation continues
with the calls and their results in it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .._exceptions import CherryError
from .._version import __version__
from ..config.models import Provider
from ..wire.neutral import ChatRequest, Message, Part, Text, ToolCall, ToolResult, Usage
from .chat import Outcome, Source, run_stream
from .render import ReplyView
from .runtime import Runtime
from .tools import PythonTool, call_line

Ask = Callable[[str], bool]  # asks the user whether to run a call (--confirm)


@dataclass(slots=True)
class TurnResult:
    """What a turn produced: the reply, what to show, what to remember."""

    text: str  # the model's words, all steps joined
    shown: str  # the Markdown shown: the words and the tool-call lines, in order
    thinking: str
    usage: Usage | None
    seconds: float
    first_token_seconds: float | None
    interrupted: bool = False
    error: CherryError | None = None
    messages: list[Message] = field(default_factory=list)  # new ones, the user's first
    tool_calls: int = 0
    step_limit_hit: bool = False


def run_turn(
    runtime: Runtime,
    source: Source,
    make_request: Callable[[list[Message]], ChatRequest],
    history: Sequence[Message],
    user: Message,
    view: ReplyView,
    *,
    tools: Sequence[PythonTool] = (),
    max_steps: int = 8,
    ask: Ask | None = None,
    show_thinking: bool = True,
) -> TurnResult:
    """Stream the reply to `user`, running tool calls until the model stops."""
    by_name = {tool.name: tool for tool in tools}
    new: list[Message] = [user]
    texts: list[str] = []
    shown: list[str] = []
    thinking: list[str] = []
    usage: Usage | None = None
    seconds = 0.0
    first_token: float | None = None
    calls_run = 0
    steps = 0
    while True:
        outcome = run_stream(
            runtime,
            source,
            make_request([*history, *new]),
            view.add,
            view.tick,
            view.add_thinking if show_thinking else None,
        )
        if first_token is None and outcome.first_token_seconds is not None:
            first_token = seconds + outcome.first_token_seconds
        seconds += outcome.seconds
        usage = _add(usage, outcome.usage)
        if outcome.text:
            texts.append(outcome.text)
            shown.append(outcome.text)
        if outcome.thinking:
            thinking.append(outcome.thinking)
        calls = _calls(outcome) if by_name else []
        result = TurnResult(
            "\n\n".join(texts),
            "\n\n".join(shown),
            "\n\n".join(thinking),
            usage,
            seconds,
            first_token,
            interrupted=outcome.interrupted,
            error=outcome.error,
            messages=new,
            tool_calls=calls_run,
        )
        if outcome.error is not None or outcome.interrupted or not calls:
            if outcome.text:  # a partial reply is remembered as said so far
                new.append(Message("assistant", [Text(outcome.text)]))
            return result
        if steps >= max_steps:
            result.step_limit_hit = True
            return result
        assert outcome.response is not None
        results: list[Part] = []
        for call in calls:
            started = time.monotonic()
            try:
                text, failed = _run(call, by_name, ask)
            except KeyboardInterrupt:
                result.interrupted = True
                return result
            seconds += time.monotonic() - started
            line = call_line(call.name, call.arguments, text, failed)
            view.add(f"\n\n{line}\n\n")
            shown.append(line)
            results.append(ToolResult(call.id, [Text(text)], is_error=failed, name=call.name))
            calls_run += 1
        new += [Message("assistant", list(outcome.response.content)), Message("user", results)]
        steps += 1


def _calls(outcome: Outcome) -> list[ToolCall]:
    if outcome.response is None:
        return []
    return [part for part in outcome.response.content if isinstance(part, ToolCall)]


def _run(call: ToolCall, tools: dict[str, PythonTool], ask: Ask | None) -> tuple[str, bool]:
    tool = tools.get(call.name)
    if tool is None:
        return f"There is no tool named {call.name!r}; the tools are: {', '.join(tools)}.", True
    if ask is not None and not ask(call_line(call.name, call.arguments, "", False)):
        return "The user declined to run this call.", True
    return tool.call(call.arguments)


def _add(total: Usage | None, more: Usage | None) -> Usage | None:
    if more is None:
        return total
    if total is None:
        return Usage(more.input_tokens, more.output_tokens, more.cache_read_tokens)
    return Usage(
        total.input_tokens + more.input_tokens,
        total.output_tokens + more.output_tokens,
        (total.cache_read_tokens or 0) + (more.cache_read_tokens or 0) or None,
    )


def provenance(
    model_ref: str, provider: Provider, model: str, result: TurnResult
) -> dict[str, Any]:
    """What produced a reply, for the display metadata the notebook file keeps: the
    model and provider (by id and type — never a key or an address), usage, timing."""
    usage = result.usage
    record: dict[str, Any] = {
        "model": model_ref,
        "provider": provider.id,
        "provider_type": provider.type,
        "upstream_model": model,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(result.seconds, 3),
        "first_token_seconds": (
            round(result.first_token_seconds, 3) if result.first_token_seconds is not None else None
        ),
        "usage": None
        if usage is None
        else {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_read_tokens": usage.cache_read_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
        },
        "interrupted": result.interrupted,
        "cherry_nb_version": __version__,
    }
    if result.tool_calls:
        record["tool_calls"] = result.tool_calls
    return record
