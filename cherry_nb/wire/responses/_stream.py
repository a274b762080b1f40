"""Streams: the Responses API's typed SSE events -> neutral events (StreamParser) and
back (StreamWriter), in the documented order, each with its `sequence_number`."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from cherry_nb._json import loads
from cherry_nb.wire._common import new_id
from cherry_nb.wire._signatures import read_signature
from cherry_nb.wire.neutral import (
    Reasoning,
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

from ._common import FORMAT, _dumps, _fail, _item_id, _response_id
from ._errors import _failed
from ._responses import (
    _call_item,
    _message_item,
    _parse_usage,
    _reasoning_item,
    _response_object,
    _stop_reason,
    _text_part,
)

_TEXT_DELTAS = frozenset({"response.output_text.delta", "response.refusal.delta"})
_REASONING_DELTAS = frozenset(
    {"response.reasoning_summary_text.delta", "response.reasoning_text.delta"}
)
_STARTS = frozenset({"response.created", "response.in_progress", "response.queued"})
_ENDS = frozenset({"response.completed", "response.incomplete"})


# ---- streams: wire -> neutral ----------------------------------------------------


class _Call:
    """One streamed function call: its neutral index, and whether arguments came."""

    __slots__ = ("index", "had_arguments")

    def __init__(self, index: int) -> None:
        self.index = index
        self.had_arguments = False


class StreamParser:
    """Responses SSE events -> neutral stream events; other event types are skipped."""

    __slots__ = ("_started", "_ended", "_calls", "_count")

    def __init__(self) -> None:
        self._started = False
        self._ended = False
        self._calls: dict[Any, _Call] = {}  # item id, and ("at", output_index) -> call
        self._count = 0

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        data = event.data
        if self._ended or not data or data.isspace() or data.strip() == "[DONE]":
            return []
        try:
            chunk = loads(data)
        except ValueError:
            raise _fail(f"Invalid JSON in a stream event: {data[:200]!r}", None) from None
        if not isinstance(chunk, dict):
            raise _fail(f"A stream event must be a JSON object: {data[:200]!r}", None)
        kind = chunk.get("type") or event.event
        if not isinstance(kind, str):  # an upstream's bytes: never trusted to be a name
            kind = event.event
        if kind == "error" or event.event == "error" or (kind is None and chunk.get("error")):
            raise _failed(chunk)
        if kind == "response.failed":
            response = chunk.get("response")
            raise _failed(response if isinstance(response, Mapping) else chunk)
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            response = chunk.get("response") if kind in _STARTS else None
            response = response if isinstance(response, Mapping) else {}
            events.append(
                StreamStart(str(response.get("id") or ""), str(response.get("model") or ""))
            )
        if kind in _TEXT_DELTAS or kind in _REASONING_DELTAS:
            delta = chunk.get("delta")
            if isinstance(delta, str) and delta:
                events.append(TextDelta(delta) if kind in _TEXT_DELTAS else ReasoningDelta(delta))
        elif kind == "response.function_call_arguments.delta":
            call = self._call(chunk)
            delta = chunk.get("delta")
            if call is not None and isinstance(delta, str) and delta:
                call.had_arguments = True
                events.append(ToolCallDelta(call.index, delta))
        elif kind in ("response.output_item.added", "response.output_item.done"):
            self._item(chunk, events)
        elif kind == "response.reasoning_summary_part.added" and chunk.get("summary_index"):
            events.append(ReasoningDelta("\n\n"))  # parts join as parse_response joins them
        elif kind in _ENDS:
            response = chunk.get("response")
            response = response if isinstance(response, Mapping) else {}
            self._ended = True
            stop = _stop_reason(response, self._count > 0)
            events.append(StreamEnd(stop, _parse_usage(response.get("usage"))))
        return events

    def close(self) -> list[StreamEvent]:
        """End a stream cut short before `response.completed`: no stop reason."""
        if self._ended:
            return []
        self._ended = True
        start = [] if self._started else [StreamStart("", "")]
        return [*start, StreamEnd(None, None)]

    def _call(self, chunk: Mapping[str, Any]) -> _Call | None:
        return self._calls.get(chunk.get("item_id")) or self._calls.get(
            ("at", chunk.get("output_index"))
        )

    def _item(self, chunk: Mapping[str, Any], events: list[StreamEvent]) -> None:
        """A function_call item starts a call; its `done` form carries the arguments
        of a server that sent no deltas. A finished reasoning item's `encrypted_content`
        is its signature."""
        item = chunk.get("item")
        if not isinstance(item, Mapping):
            return
        if item.get("type") == "reasoning":
            signature = item.get("encrypted_content")
            if chunk.get("type") == "response.output_item.done" and isinstance(signature, str):
                if signature:
                    events.append(ReasoningDelta("", *read_signature(signature, FORMAT)))
            return
        if item.get("type") != "function_call":
            return
        call = self._calls.get(item.get("id")) or self._calls.get(("at", chunk.get("output_index")))
        if call is None:
            call = _Call(self._count)
            self._count += 1
            for key in (item.get("id"), ("at", chunk.get("output_index"))):
                if key is not None:
                    self._calls[key] = call
            call_id = item.get("call_id") or item.get("id") or new_id("call_")
            events.append(ToolCallStart(call.index, str(call_id), str(item.get("name") or "")))
        arguments = item.get("arguments")
        if not call.had_arguments and isinstance(arguments, str) and arguments:
            call.had_arguments = True
            events.append(ToolCallDelta(call.index, arguments))


# ---- streams: neutral -> wire ----------------------------------------------------


class _Item:
    """An output item being written: its place, id and the text or arguments so far."""

    __slots__ = ("kind", "output_index", "id", "call_id", "name", "parts", "signed")

    def __init__(self, kind: str, output_index: int, item_id: str) -> None:
        self.kind = kind  # "message" | "reasoning" | "function_call"
        self.output_index = output_index
        self.id = item_id
        self.call_id = ""
        self.name = ""
        self.parts: list[str] = []
        self.signed: Reasoning | None = None  # a reasoning item's signature and its origin


class StreamWriter:
    """Neutral stream events -> the Responses API's typed SSE events.

    Text and reasoning items close when another item opens; function calls stay open
    (their fragments may interleave) and close, in order, at the end.
    """

    __slots__ = ("_seq", "_id", "_model", "_created", "_output", "_open", "_calls", "_done")

    def __init__(self) -> None:
        self._seq = 0
        self._id: str | None = None
        self._model = ""
        self._created = 0
        self._output: list[dict[str, Any] | None] = []  # finished items, by output_index
        self._open: _Item | None = None  # the text or reasoning item being written
        self._calls: dict[int, _Item] = {}  # neutral call index -> item
        self._done = False

    def write(self, event: StreamEvent) -> bytes:
        if self._done:
            return b""
        if self._id is None and not isinstance(event, StreamStart):
            # Forgiving: a stream missing its start still opens with response.created.
            return self._start(StreamStart("", "")) + self.write(event)
        return _WRITERS[type(event)](self, event)

    def error(self, message: str, error_type: str = "server_error") -> bytes:
        """An `error` event, then `response.failed` for a response already created.

        The `error` event also nests its fields under `error`, which is what makes the
        official SDKs raise (an APIError) rather than hand the event on as data.
        """
        if self._done:
            return b""
        self._done = True
        nested = {"message": message, "type": error_type, "code": error_type, "param": None}
        out = self._emit("error", code=error_type, message=message, param=None, error=nested)
        if self._id is not None:
            error = {"code": "server_error", "message": message}
            response = self._response(None, None, status="failed", error=error)
            out += self._emit("response.failed", response=response)
        return out

    def _emit(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self._seq, **fields}
        self._seq += 1
        return encode_sse(_dumps(payload), kind)

    def _response(
        self,
        stop_reason: Any,
        usage: Usage | None,
        *,
        status: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        output = [item for item in self._output if item is not None]
        return _response_object(
            self._id or "",
            self._model,
            self._created,
            output,
            stop_reason,
            usage,
            status=status,
            error=error,
        )

    def _start(self, event: StreamStart) -> bytes:
        if self._id is not None:
            return b""
        self._id = _response_id(event.id)
        self._model, self._created = event.model, int(time.time())
        response = self._response(None, None, status="in_progress")
        return self._emit("response.created", response=response) + self._emit(
            "response.in_progress", response=response
        )

    def _new_item(self, kind: str, prefix: str) -> _Item:
        item = _Item(kind, len(self._output), _item_id(prefix))
        self._output.append(None)
        return item

    def _text(self, event: TextDelta) -> bytes:
        out = b""
        if self._open is None or self._open.kind != "message":
            out = self._close_open()
            item = self._open = self._new_item("message", "msg_")
            out += self._emit(
                "response.output_item.added",
                output_index=item.output_index,
                item=_message_item(item.id, [], "in_progress"),
            )
            out += self._emit(
                "response.content_part.added", **self._where(item), part=_text_part("")
            )
        item = self._open
        item.parts.append(event.text)
        return out + self._emit(
            "response.output_text.delta", **self._where(item), delta=event.text, logprobs=[]
        )

    def _reasoning(self, event: ReasoningDelta) -> bytes:
        out = b""
        if self._open is None or self._open.kind != "reasoning":
            out = self._close_open()
            item = self._open = self._new_item("reasoning", "rs_")
            out += self._emit(
                "response.output_item.added",
                output_index=item.output_index,
                item=_reasoning_item(item.id, [], "in_progress"),
            )
            out += self._emit(
                "response.reasoning_summary_part.added",
                **self._summary_where(item),
                part={"type": "summary_text", "text": ""},
            )
        item = self._open
        if event.signature:  # sent as the item's encrypted_content when it closes
            item.signed = Reasoning("", event.signature, event.origin)
        if not event.text:
            return out
        item.parts.append(event.text)
        return out + self._emit(
            "response.reasoning_summary_text.delta", **self._summary_where(item), delta=event.text
        )

    def _tool_start(self, event: ToolCallStart) -> bytes:
        out = self._close_open()
        if event.index in self._calls:
            return out
        item = self._calls[event.index] = self._new_item("function_call", "fc_")
        item.call_id, item.name = event.id, event.name
        added = _call_item(item.id, item.call_id, item.name, "", "in_progress")
        return out + self._emit(
            "response.output_item.added", output_index=item.output_index, item=added
        )

    def _tool_delta(self, event: ToolCallDelta) -> bytes:
        item = self._calls.get(event.index)
        out = b""
        if item is None:  # fragments before their start: open the call nameless
            out = self._tool_start(ToolCallStart(event.index, new_id("call_"), ""))
            item = self._calls[event.index]
        item.parts.append(event.arguments)
        return out + self._emit(
            "response.function_call_arguments.delta",
            item_id=item.id,
            output_index=item.output_index,
            delta=event.arguments,
        )

    def _end(self, event: StreamEnd) -> bytes:
        out = self._close_open()
        for item in self._calls.values():
            arguments = "".join(item.parts)
            out += self._emit(
                "response.function_call_arguments.done",
                item_id=item.id,
                output_index=item.output_index,
                arguments=arguments,
            )
            done = _call_item(item.id, item.call_id, item.name, arguments)
            self._output[item.output_index] = done
            out += self._emit(
                "response.output_item.done", output_index=item.output_index, item=done
            )
        self._calls = {}
        self._done = True
        response = self._response(event.stop_reason, event.usage or Usage())
        kind = {"incomplete": "response.incomplete", "failed": "response.failed"}.get(
            response["status"], "response.completed"
        )
        return out + self._emit(kind, response=response)

    def _close_open(self) -> bytes:
        item, self._open = self._open, None
        if item is None:
            return b""
        text = "".join(item.parts)
        if item.kind == "message":
            part = _text_part(text)
            done = _message_item(item.id, [part], "completed")
            out = self._emit(
                "response.output_text.done", **self._where(item), text=text, logprobs=[]
            )
            out += self._emit("response.content_part.done", **self._where(item), part=part)
        else:
            summary = {"type": "summary_text", "text": text}
            signed = [item.signed] if item.signed is not None else []
            done = _reasoning_item(item.id, [Reasoning(text), *signed], "completed")
            out = self._emit(
                "response.reasoning_summary_text.done", **self._summary_where(item), text=text
            )
            out += self._emit(
                "response.reasoning_summary_part.done", **self._summary_where(item), part=summary
            )
        self._output[item.output_index] = done
        return out + self._emit(
            "response.output_item.done", output_index=item.output_index, item=done
        )

    @staticmethod
    def _where(item: _Item) -> dict[str, Any]:
        return {"item_id": item.id, "output_index": item.output_index, "content_index": 0}

    @staticmethod
    def _summary_where(item: _Item) -> dict[str, Any]:
        return {"item_id": item.id, "output_index": item.output_index, "summary_index": 0}


_WRITERS: dict[type, Callable[[StreamWriter, Any], bytes]] = {
    StreamStart: StreamWriter._start,
    TextDelta: StreamWriter._text,
    ReasoningDelta: StreamWriter._reasoning,
    ToolCallStart: StreamWriter._tool_start,
    ToolCallDelta: StreamWriter._tool_delta,
    StreamEnd: StreamWriter._end,
}
