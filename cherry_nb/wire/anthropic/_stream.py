"""Streams: Anthropic SSE events -> neutral events (StreamParser) and back (StreamWriter),
per chunk on the gateway's hot path."""

from __future__ import annotations

from typing import Any

from ..._exceptions import WireFormatError
from ..._json import loads
from .._signatures import read_signature, write_signature
from ..neutral import (
    ReasoningDelta,
    StopReason,
    StreamEnd,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    Usage,
)
from ..sse import SSEEvent, encode_sse
from ._common import FORMAT, _dumps
from ._errors import _stream_error
from ._responses import _build_usage, _neutral_usage, _stop_from_anthropic, _stop_to_anthropic

# ---- streams: Anthropic SSE -> neutral -------------------------------------------------


class StreamParser:
    """Anthropic SSE events -> neutral stream events; one parser per upstream message.

    Tool calls are numbered by their order among the message's tool_use blocks, not by
    content block index (a text or thinking block usually comes first). Blocks of any
    other type (server_tool_use, web_search_tool_result, later additions) produce nothing,
    nor do deltas of unknown types.
    """

    __slots__ = (
        "_cache_read",
        "_cache_write",
        "_ended",
        "_input",
        "_output",
        "_stop",
        "_tool_blocks",
        "_tools",
    )

    def __init__(self) -> None:
        self._tool_blocks: dict[int | None, int] = {}  # content block index -> tool ordinal
        self._tools = 0  # tool_use blocks seen
        self._input: int | None = None
        self._output = 0
        self._cache_read: int | None = None
        self._cache_write: int | None = None
        self._stop: StopReason | None = None
        self._ended = False

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        if self._ended or event.event == "ping":
            return []
        try:
            data = loads(event.data)
        except ValueError as exc:
            raise WireFormatError(f"An Anthropic stream event is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise WireFormatError("An Anthropic stream event is not a JSON object.")
        kind = data.get("type") or event.event
        if kind == "content_block_delta":
            return self._block_delta(data)
        if kind == "content_block_start":
            return self._block_start(data)
        if kind == "message_delta":
            delta = data.get("delta")
            if isinstance(delta, dict) and delta.get("stop_reason") is not None:
                self._stop = _stop_from_anthropic(delta["stop_reason"])
            self._update_usage(data.get("usage"))
        elif kind == "message_start":
            message = data.get("message")
            if not isinstance(message, dict):
                raise WireFormatError("message_start without a message object.")
            self._update_usage(message.get("usage"))
            id_, model = message.get("id") or "", message.get("model") or ""
            total = None
            if self._input is not None:
                total = _neutral_usage(self._input, 0, self._cache_read, self._cache_write)
            return [
                StreamStart(str(id_), str(model), None if total is None else total.input_tokens)
            ]
        elif kind == "message_stop":
            return self.close()
        elif kind == "error":
            raise _stream_error(data.get("error"))
        return []  # content_block_stop, ping, and event types added later

    def close(self) -> list[StreamEvent]:
        """The one StreamEnd; stop_reason None if the stream broke before message_delta."""
        if self._ended:
            return []
        self._ended = True
        usage = _neutral_usage(self._input, self._output, self._cache_read, self._cache_write)
        return [StreamEnd(self._stop, usage)]

    def _block_start(self, data: dict[str, Any]) -> list[StreamEvent]:
        block = data.get("content_block")
        if not isinstance(block, dict):
            return []
        kind = block.get("type")
        if kind == "text":
            return [TextDelta(text)] if (text := _text(block, "text")) else []
        if kind == "thinking":
            text, signature = _text(block, "thinking"), _text(block, "signature")
            if not (text or signature):
                return []
            return [ReasoningDelta(text, *read_signature(signature, FORMAT))]
        if kind != "tool_use":
            return []
        ordinal = self._tool_blocks[_block_index(data)] = self._tools
        self._tools += 1
        id_, name = block.get("id") or "", block.get("name") or ""
        events: list[StreamEvent] = [ToolCallStart(ordinal, str(id_), str(name))]
        if isinstance(arguments := block.get("input"), dict) and arguments:
            events.append(ToolCallDelta(ordinal, _dumps(arguments)))
        return events

    def _block_delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        delta = data.get("delta")
        if not isinstance(delta, dict):
            return []
        kind = delta.get("type")
        if kind == "text_delta":
            return [TextDelta(text)] if (text := _text(delta, "text")) else []
        if kind == "input_json_delta":
            ordinal = self._tool_blocks.get(_block_index(data))
            partial = _text(delta, "partial_json")
            return [ToolCallDelta(ordinal, partial)] if ordinal is not None and partial else []
        if kind == "thinking_delta":
            return [ReasoningDelta(text)] if (text := _text(delta, "thinking")) else []
        if kind == "signature_delta":
            signature = _text(delta, "signature")
            return [ReasoningDelta("", *read_signature(signature, FORMAT))] if signature else []
        return []  # citations_delta, and delta types added later

    def _update_usage(self, usage: Any) -> None:
        """Anthropic's counts are cumulative: later values replace earlier ones."""
        if not isinstance(usage, dict):
            return
        if isinstance(value := usage.get("input_tokens"), int):
            self._input = value
        if isinstance(value := usage.get("output_tokens"), int):
            self._output = value
        if isinstance(value := usage.get("cache_read_input_tokens"), int):
            self._cache_read = value
        if isinstance(value := usage.get("cache_creation_input_tokens"), int):
            self._cache_write = value


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _block_index(data: dict[str, Any]) -> int | None:
    index = data.get("index")
    return index if isinstance(index, int) else None


# ---- streams: neutral -> Anthropic SSE -------------------------------------------------

_EMPTY_BLOCKS = {
    "text": '{"type":"text","text":""}',
    "thinking": '{"type":"thinking","thinking":"","signature":""}',
}


class StreamWriter:
    """Neutral stream events -> Anthropic SSE bytes, content blocks numbered from 0.

    Anthropic's blocks are strictly sequential (start, deltas, stop); neutral tool calls
    need not be. So a tool's block opens lazily, at its first ToolCallDelta (or when a
    later block or the end forces it), and opening a block first opens (and so closes)
    every started tool with a lower index. That is exact for tools in order and for "all
    starts first, then each tool's arguments in order". Truly interleaved arguments (a
    delta for a tool whose block is already closed) cannot be expressed: such a delta is
    written against the tool's original block index, which index-keyed accumulators (the
    SDKs') still assemble. A delta for a tool without a ToolCallStart is dropped. Events
    before StreamStart get a synthetic message_start; after StreamEnd or error(), nothing.
    """

    __slots__ = ("_finished", "_index", "_next", "_open", "_pending", "_tool_blocks")

    def __init__(self) -> None:
        self._next = -1  # the next content block index; -1 until message_start is written
        self._index = -1  # the open block's index
        self._open: str | int | None = None  # "text", "thinking", or the open tool's index
        self._pending: dict[int, tuple[str, str]] = {}  # started, unopened tools: (id, name)
        self._tool_blocks: dict[int, int] = {}  # opened tools: tool index -> block index
        self._finished = False

    def write(self, event: StreamEvent) -> bytes:
        if self._finished:
            return b""
        out = b""
        if self._next < 0 and not isinstance(event, StreamStart):
            out = self._message_start(StreamStart("msg_unknown", ""))
        if isinstance(event, TextDelta):
            return out + self._text_like("text", event.text)
        if isinstance(event, ToolCallDelta):
            return out + self._tool_delta(event.index, event.arguments)
        if isinstance(event, ReasoningDelta):
            out += self._text_like("thinking", event.text)
            signature = write_signature(event, FORMAT)
            return out + self._signature(signature) if signature else out
        if isinstance(event, ToolCallStart):
            if event.index not in self._tool_blocks:
                self._pending.setdefault(event.index, (event.id, event.name))
            return out
        if isinstance(event, StreamStart):
            return self._message_start(event) if self._next < 0 else b""
        if isinstance(event, StreamEnd):
            return out + self._end(event)
        return out

    def error(self, message: str, error_type: str = "api_error") -> bytes:
        """An in-stream error event; the writer writes nothing afterwards, nor after the
        end (b"" once message_stop or an error has been written)."""
        if self._finished:
            return b""
        self._finished = True
        data = {"type": "error", "error": {"type": error_type, "message": message}}
        return encode_sse(_dumps(data), event="error")

    def _message_start(self, event: StreamStart) -> bytes:
        self._next = 0
        message: dict[str, Any] = {
            "id": event.id,
            "type": "message",
            "role": "assistant",
            "model": event.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": event.input_tokens or 0, "output_tokens": 0},
        }
        return encode_sse(_dumps({"type": "message_start", "message": message}), "message_start")

    def _text_like(self, kind: str, text: str) -> bytes:
        """A text or thinking delta (`kind` is the block type and the delta's field name)."""
        if not text:
            return b""
        out = b""
        if self._open != kind:
            out = self._flush_pending(None) + self._open_block(kind, _EMPTY_BLOCKS[kind])
        return out + _delta(self._index, f'"{kind}_delta","{kind}":{_dumps(text)}')

    def _signature(self, signature: str) -> bytes:
        """A signature_delta, then the end of its thinking block (one opened if none is)."""
        out = b""
        if self._open != "thinking":
            out = self._flush_pending(None) + self._open_block(
                "thinking", _EMPTY_BLOCKS["thinking"]
            )
        out += _delta(self._index, f'"signature_delta","signature":{_dumps(signature)}')
        return out + self._close_block()

    def _tool_delta(self, index: int, arguments: str) -> bytes:
        if not arguments:
            return b""
        payload = f'"input_json_delta","partial_json":{_dumps(arguments)}'
        if self._open == index:
            return _delta(self._index, payload)
        if index in self._pending:
            out = self._flush_pending(index) + self._start_tool(index)
            return out + _delta(self._index, payload)
        block_index = self._tool_blocks.get(index)  # interleaved: see the class docstring
        return b"" if block_index is None else _delta(block_index, payload)

    def _flush_pending(self, below: int | None) -> bytes:
        """Open (and so close) started tools with an index under `below` (all when None)."""
        out = b""
        for index in sorted(self._pending) if self._pending else ():
            if below is not None and index >= below:
                break
            out += self._start_tool(index)
        return out

    def _start_tool(self, index: int) -> bytes:
        id_, name = self._pending.pop(index)
        block = {"type": "tool_use", "id": id_, "name": name, "input": {}}
        out = self._open_block(index, _dumps(block))
        self._tool_blocks[index] = self._index
        return out

    def _open_block(self, kind: str | int, block: str) -> bytes:
        out = self._close_block()
        self._open, self._index = kind, self._next
        self._next += 1
        data = f'{{"type":"content_block_start","index":{self._index},"content_block":{block}}}'
        return out + encode_sse(data, event="content_block_start")

    def _close_block(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        data = f'{{"type":"content_block_stop","index":{self._index}}}'
        return encode_sse(data, event="content_block_stop")

    def _end(self, event: StreamEnd) -> bytes:
        self._finished = True
        out = self._flush_pending(None) + self._close_block()
        usage = _build_usage(event.usage or Usage())
        data = {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_to_anthropic(event.stop_reason), "stop_sequence": None},
            "usage": {"output_tokens": usage.pop("output_tokens"), **usage},
        }
        out += encode_sse(_dumps(data), event="message_delta")
        return out + encode_sse('{"type":"message_stop"}', event="message_stop")


def _delta(index: int, payload: str) -> bytes:
    """A content_block_delta; `payload` is the delta object's inside after `"type":`."""
    data = f'{{"type":"content_block_delta","index":{index},"delta":{{"type":{payload}}}}}'
    return encode_sse(data, event="content_block_delta")
