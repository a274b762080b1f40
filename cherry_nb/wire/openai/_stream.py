"""Streams: `chat.completion.chunk` SSE events -> neutral events (StreamParser) and back
(StreamWriter), per chunk on the gateway's hot path."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from cherry_nb._json import loads
from cherry_nb.wire._common import new_id
from cherry_nb.wire.neutral import (
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    Usage,
)
from cherry_nb.wire.sse import SSEEvent, encode_sse

from ._common import _call_id, _dumps, _fail
from ._errors import _stream_error
from ._responses import _build_usage, _finish_reason, _parse_usage, _reply_texts, _stop_reason

_DONE = encode_sse("[DONE]")


# ---- streams: wire -> neutral ----------------------------------------------------


class _CallState:
    """One streamed tool call; `pending` holds fragments that came before its name."""

    __slots__ = ("index", "id", "name", "started", "pending")

    def __init__(self, index: int) -> None:
        self.index = index
        self.id: str | None = None
        self.name: str | None = None
        self.started = False
        self.pending: list[str] = []


class StreamParser:
    """`chat.completion.chunk` SSE events -> neutral stream events."""

    __slots__ = ("_started", "_ended", "_finish", "_usage", "_calls", "_count")

    def __init__(self) -> None:
        self._started = False
        self._ended = False
        self._finish: str | None = None
        self._usage: Usage | None = None
        self._calls: dict[int, _CallState] = {}  # upstream index -> state
        self._count = 0  # tool calls seen: the next neutral index

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        data = event.data
        if self._ended or not data or data.isspace():
            return []
        if data == "[DONE]" or data.strip() == "[DONE]":
            return self._end()
        try:
            chunk = loads(data)
        except ValueError:
            raise _fail(f"Invalid JSON in a stream chunk: {data[:200]!r}", None) from None
        if not isinstance(chunk, dict):
            raise _fail(f"A stream chunk must be a JSON object: {data[:200]!r}", None)
        if chunk.get("error") or event.event == "error":
            raise _stream_error(chunk)
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            events.append(StreamStart(str(chunk.get("id") or ""), str(chunk.get("model") or "")))
        if chunk.get("usage"):
            self._usage = _parse_usage(chunk["usage"])
        for choice in chunk.get("choices") or ():
            if isinstance(choice, Mapping) and choice.get("index", 0) == 0:
                self._choice(choice, events)
        return events

    def close(self) -> list[StreamEvent]:
        """End a stream whose server never sent `[DONE]`."""
        return [] if self._ended else self._end()

    def _choice(self, choice: Mapping[str, Any], events: list[StreamEvent]) -> None:
        delta = choice.get("delta")
        if isinstance(delta, Mapping):
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning and isinstance(reasoning, str):
                events.append(ReasoningDelta(reasoning))
            content = delta.get("content") or delta.get("refusal")
            if content and isinstance(content, str):
                events.append(TextDelta(content))
            elif isinstance(content, list):  # parts, as some servers stream them
                events.extend(TextDelta(text) for text in _reply_texts(content))
            for position, call in enumerate(delta.get("tool_calls") or ()):
                self._tool_delta(position, call, events)
            if isinstance(delta.get("function_call"), Mapping):  # legacy
                self._tool_delta(0, {"function": delta["function_call"]}, events)
        if choice.get("finish_reason"):
            self._finish = choice["finish_reason"]

    def _tool_delta(self, position: int, call: Any, events: list[StreamEvent]) -> None:
        if not isinstance(call, Mapping):
            return
        key = call.get("index")
        key = key if isinstance(key, int) else position  # Ollama used to omit it
        fn = call.get("function")
        fn = fn if isinstance(fn, Mapping) else {}
        call_id, name, args = call.get("id") or None, fn.get("name") or None, fn.get("arguments")
        if not isinstance(args, str):
            args = _dumps(args) if isinstance(args, Mapping) else None
        state = self._calls.get(key)
        if state is None or (call_id and name and state.id and call_id != state.id):
            # New id and name at a known index: a server that numbers every call 0.
            state = self._calls[key] = _CallState(self._count)
            self._count += 1
        state.id = state.id or call_id
        state.name = state.name or name
        if not state.started:
            if state.name is None:
                state.pending.extend([args] if args else ())
                return
            self._start_call(state, events)
        if args:
            events.append(ToolCallDelta(state.index, args))

    def _start_call(self, state: _CallState, events: list[StreamEvent]) -> None:
        state.started = True
        events.append(ToolCallStart(state.index, state.id or _call_id(), state.name or ""))
        if state.pending:
            events.append(ToolCallDelta(state.index, "".join(state.pending)))
            state.pending = []

    def _end(self) -> list[StreamEvent]:
        self._ended = True
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            events.append(StreamStart("", ""))
        for state in self._calls.values():
            if not state.started:  # never named: keep its data rather than drop it
                self._start_call(state, events)
        stop = None if self._finish is None else _stop_reason(self._finish, self._count > 0)
        events.append(StreamEnd(stop, self._usage))
        return events


# ---- streams: neutral -> wire ----------------------------------------------------


class StreamWriter:
    """Neutral stream events -> `chat.completion.chunk` SSE bytes, as OpenAI sends them."""

    __slots__ = ("_include_usage", "_meta", "_head", "_tail", "_done")

    def __init__(self, *, include_usage: bool = True) -> None:
        self._include_usage = include_usage
        self._meta: str | None = None  # '{"id":..,"object":..,"created":..,"model":..'
        self._head = ""  # meta + ',"choices":[{"index":0,"delta":'
        self._tail = ""  # ',"logprobs":null,"finish_reason":null}]' ... '}'
        self._done = False

    def write(self, event: StreamEvent) -> bytes:
        if self._done:
            return b""
        if self._meta is None and not isinstance(event, StreamStart):
            # Forgiving: a stream missing its start still gets a valid first chunk.
            return self._start(StreamStart(new_id("chatcmpl-"), "")) + self.write(event)
        return _WRITERS[type(event)](self, event)

    def error(self, message: str, error_type: str = "api_error") -> bytes:
        """An error chunk then `[DONE]`, as compatible servers do it mid-stream."""
        if self._done:
            return b""
        self._done = True
        error = {"message": message, "type": error_type, "param": None, "code": None}
        return encode_sse(_dumps({"error": error})) + _DONE

    def _chunk(self, delta: str) -> bytes:
        return encode_sse(self._head + delta + self._tail)

    def _start(self, event: StreamStart) -> bytes:
        if self._meta is not None:
            return b""
        self._meta = (
            f'{{"id":{json.dumps(event.id)},"object":"chat.completion.chunk",'
            f'"created":{int(time.time())},"model":{json.dumps(event.model)}'
        )
        usage = ',"usage":null' if self._include_usage else ""
        self._head = self._meta + ',"choices":[{"index":0,"delta":'
        self._tail = ',"logprobs":null,"finish_reason":null}]' + usage + "}"
        return self._chunk('{"role":"assistant","content":""}')

    def _text(self, event: TextDelta) -> bytes:
        return self._chunk('{"content":' + json.dumps(event.text) + "}")

    def _reasoning(self, event: ReasoningDelta) -> bytes:
        if not event.text:  # a signature alone: Chat Completions has no place for it
            return b""
        return self._chunk('{"reasoning_content":' + json.dumps(event.text) + "}")

    def _tool_start(self, event: ToolCallStart) -> bytes:
        fn = {"name": event.name, "arguments": ""}
        call = {"index": event.index, "id": event.id, "type": "function", "function": fn}
        return self._chunk(_dumps({"tool_calls": [call]}))

    def _tool_delta(self, event: ToolCallDelta) -> bytes:
        arguments = json.dumps(event.arguments)
        return self._chunk(
            f'{{"tool_calls":[{{"index":{event.index},"function":{{"arguments":{arguments}}}}}]}}'
        )

    def _end(self, event: StreamEnd) -> bytes:
        self._done = True
        finish = f'"finish_reason":"{_finish_reason(event.stop_reason)}"'
        out = encode_sse(self._head + "{}" + self._tail.replace('"finish_reason":null', finish))
        if self._include_usage and event.usage is not None:
            usage = _dumps(_build_usage(event.usage))
            out += encode_sse(f'{self._meta},"choices":[],"usage":{usage}}}')
        return out + _DONE


_WRITERS: dict[type, Callable[[StreamWriter, Any], bytes]] = {
    StreamStart: StreamWriter._start,
    TextDelta: StreamWriter._text,
    ReasoningDelta: StreamWriter._reasoning,
    ToolCallStart: StreamWriter._tool_start,
    ToolCallDelta: StreamWriter._tool_delta,
    StreamEnd: StreamWriter._end,
}
