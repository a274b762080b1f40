"""Folding a stream of neutral events back into one ChatResponse, and unfolding one.

Tool-call arguments arrive as JSON fragments split anywhere (mid-string,
mid-escape); they are joined per tool index and parsed once, at the end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

from .._exceptions import WireFormatError
from .neutral import (
    ChatResponse,
    Reasoning,
    ReasoningDelta,
    StopReason,
    StreamEnd,
    StreamEvent,
    StreamStart,
    Text,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    Usage,
)


@dataclass(slots=True)
class _PendingCall:
    id: str
    name: str
    fragments: list[str] = field(default_factory=list)


class ResponseAccumulator:
    """Feed events with `add`; read the reply so far with `text`, the whole with `response()`."""

    def __init__(self) -> None:
        self.id = ""
        self.model = ""
        self.input_tokens: int | None = None
        self.stop_reason: StopReason | None = None
        self.usage: Usage | None = None
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._signature: str | None = None
        self._origin: str | None = None
        self._calls: dict[int, _PendingCall] = {}

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            self._text.append(event.text)
        elif isinstance(event, ToolCallDelta):
            call = self._calls.get(event.index)
            if call is None:
                raise WireFormatError(f"Arguments for tool call {event.index} before it started.")
            call.fragments.append(event.arguments)
        elif isinstance(event, ToolCallStart):
            self._calls[event.index] = _PendingCall(event.id, event.name)
        elif isinstance(event, ReasoningDelta):
            self._reasoning.append(event.text)
            if event.signature:
                self._signature, self._origin = event.signature, event.origin
        elif isinstance(event, StreamStart):
            self.id, self.model, self.input_tokens = event.id, event.model, event.input_tokens
        elif isinstance(event, StreamEnd):
            self.stop_reason, self.usage = event.stop_reason, event.usage

    @property
    def text(self) -> str:
        return "".join(self._text)

    def response(self) -> ChatResponse:
        content: list[Text | Reasoning | ToolCall] = []
        if self._reasoning:
            content.append(Reasoning("".join(self._reasoning), self._signature, self._origin))
        if self._text:
            content.append(Text(self.text))
        for index in sorted(self._calls):
            call = self._calls[index]
            content.append(ToolCall(call.id, call.name, _parse_arguments(call)))
        usage = self.usage or Usage(input_tokens=self.input_tokens or 0)
        if usage.input_tokens == 0 and self.input_tokens:
            usage = replace(usage, input_tokens=self.input_tokens)
        return ChatResponse(self.id, self.model, content, self.stop_reason, usage)


def _parse_arguments(call: _PendingCall) -> dict[str, object]:
    raw = "".join(call.fragments).strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise WireFormatError(
            f"The arguments of tool call {call.name!r} are not valid JSON: {raw[:80]!r}"
        ) from exc
    if not isinstance(value, dict):
        raise WireFormatError(f"The arguments of tool call {call.name!r} are not a JSON object.")
    return value


def response_events(response: ChatResponse) -> list[StreamEvent]:
    """A whole reply as the stream that would have carried it (the inverse of
    ResponseAccumulator), for an upstream that answered a stream request in one piece."""
    events: list[StreamEvent] = [StreamStart(response.id, response.model)]
    calls = 0
    for part in response.content:
        if isinstance(part, Reasoning):
            events.append(ReasoningDelta(part.text, part.signature, part.origin))
        elif isinstance(part, Text):
            events.append(TextDelta(part.text))
        elif isinstance(part, ToolCall):
            events.append(ToolCallStart(calls, part.id, part.name))
            events.append(ToolCallDelta(calls, json.dumps(part.arguments, ensure_ascii=False)))
            calls += 1
    events.append(StreamEnd(response.stop_reason or "end_turn", response.usage))
    return events
