"""Streams: `alt=sse` events -> neutral events (StreamParser) and back (StreamWriter).
Gemini streams have no terminal event and send function calls whole."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..._exceptions import WireFormatError
from ..._json import compact_json, loads
from .._common import new_id
from .._signatures import read_signature, write_signature
from ..neutral import (
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    Usage,
)
from ..sse import SSEEvent
from ._common import FORMAT, _get, _obj, _optional_id
from ._errors import _HTTP_BY_STATUS, _stream_error
from ._responses import _NEUTRAL_TO_FINISH, _stop_reason, _usage, _usage_metadata


class StreamParser:
    """Upstream `alt=sse` events -> neutral stream events.

    Each event is a whole GenerateContentResponse fragment; the stream just ends,
    so `close()` is where the StreamEnd comes from.
    """

    __slots__ = ("_model", "_started", "_closed", "_calls", "_finish", "_usage", "_blocked")

    def __init__(self, *, model: str) -> None:
        self._model = model
        self._started = False
        self._closed = False
        self._calls = 0
        self._finish: str | None = None
        self._usage: Usage | None = None
        self._blocked = False

    def feed(self, event: SSEEvent) -> list[StreamEvent]:
        data = event.data.strip()
        if not data or self._closed:
            return []
        try:
            chunk = loads(data)
        except ValueError as exc:
            raise WireFormatError(f"Gemini stream event is not JSON: {data[:80]!r}") from exc
        if isinstance(chunk, list) and chunk:
            chunk = chunk[0]
        if not isinstance(chunk, Mapping):
            raise WireFormatError("Gemini stream event is not a JSON object")
        if isinstance(chunk.get("error"), Mapping):
            raise _stream_error(chunk["error"])
        out: list[StreamEvent] = []
        meta = chunk.get("usageMetadata")
        if not self._started:
            self._started = True
            prompt = meta.get("promptTokenCount") if isinstance(meta, Mapping) else None
            out.append(
                StreamStart(
                    id=chunk.get("responseId") or new_id("resp_"),
                    model=chunk.get("modelVersion") or self._model,
                    input_tokens=prompt,
                )
            )
        if meta is not None:
            self._usage = _usage(meta)
        if _obj(chunk.get("promptFeedback")).get("blockReason"):
            self._blocked = True
        candidates = chunk.get("candidates")
        candidate = candidates[0] if isinstance(candidates, list) and candidates else None
        if isinstance(candidate, Mapping):
            for part in _obj(candidate.get("content")).get("parts") or ():
                if isinstance(part, Mapping):
                    self._part(part, out)
            if candidate.get("finishReason"):
                self._finish = candidate["finishReason"]
        return out

    def _part(self, part: Mapping[str, Any], out: list[StreamEvent]) -> None:
        signature, origin = read_signature(_optional_id(_get(part, "thoughtSignature")), FORMAT)
        thought = part.get("thought") is True
        if signature and not thought:  # signed: the part after thinking
            out.append(ReasoningDelta("", signature, origin))
        call = _get(part, "functionCall")
        if isinstance(call, Mapping):
            index = self._calls
            self._calls += 1
            call_id = _optional_id(call.get("id")) or new_id("call_")
            args = call.get("args")
            out.append(ToolCallStart(index, call_id, str(call.get("name") or "")))
            out.append(ToolCallDelta(index, json.dumps(args if isinstance(args, Mapping) else {})))
            return
        text = part.get("text")
        if thought and (text or signature):
            out.append(ReasoningDelta(text if isinstance(text, str) else "", signature, origin))
        elif isinstance(text, str) and text:
            out.append(TextDelta(text))

    def close(self) -> list[StreamEvent]:
        """The one StreamEnd; without a finishReason the stop reason is unknown (None)."""
        if self._closed:
            return []
        self._closed = True
        out: list[StreamEvent] = []
        if not self._started:
            out.append(StreamStart(id=new_id("resp_"), model=self._model))
        finish = "SAFETY" if self._blocked and self._finish is None else self._finish
        out.append(StreamEnd(stop_reason=_stop_reason(finish, self._calls > 0), usage=self._usage))
        return out


class StreamWriter:
    """Neutral stream events -> an `alt=sse` stream as Gemini would send it.

    Function calls arrive whole in Gemini streams, so argument fragments are
    buffered and each call is emitted once complete: before the next text or
    thought, or with the final chunk.
    """

    __slots__ = ("_model", "_id", "_suffix", "_calls", "_input_tokens", "_ended", "_signature")

    _PREFIX = b'data: {"candidates":[{"content":{"role":"model","parts":['

    def __init__(self, *, model: str) -> None:
        self._model = model
        self._id: str | None = None
        self._suffix = b""
        self._calls: dict[int, list[Any]] = {}  # index -> [id, name, [fragments]]
        self._input_tokens: int | None = None
        self._ended = False
        self._signature: str | None = None  # a bare signature, for the next part written

    def _start(self, response_id: str) -> None:
        """Precompute the envelope after the parts: each delta is then one small dumps."""
        self._id = response_id
        tail: dict[str, Any] = {"modelVersion": self._model, "responseId": response_id}
        if self._input_tokens is not None:  # Gemini repeats usage in every chunk
            tokens = self._input_tokens
            tail = {
                "usageMetadata": {"promptTokenCount": tokens, "totalTokenCount": tokens},
                **tail,
            }
        text = compact_json(tail)
        self._suffix = (']},"index":0}],' + text[1:] + "\n\n").encode()

    def write(self, event: StreamEvent) -> bytes:
        if self._ended:
            return b""
        if isinstance(event, TextDelta | ReasoningDelta):
            if isinstance(event, ReasoningDelta) and event.signature and not event.text:
                self._signature = write_signature(event, FORMAT)
                return b""
            if not event.text:
                return b""
            part: dict[str, Any] = {"text": event.text}
            if isinstance(event, ReasoningDelta):
                part["thought"] = True
                if signature := write_signature(event, FORMAT):
                    part["thoughtSignature"] = signature
            out = self._flush()
            return out + self._chunk(self._signed([part]))
        if isinstance(event, ToolCallDelta):
            pending = self._calls.get(event.index)
            if pending is not None:
                pending[2].append(event.arguments)
            return b""
        if isinstance(event, ToolCallStart):
            self._calls[event.index] = [event.id, event.name, []]
            return b""
        if isinstance(event, StreamStart):
            self._input_tokens = event.input_tokens
            self._start(event.id)
            return b""
        return self._end(event)

    def _signed(self, parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`parts` with a pending bare signature on the first, where Gemini puts it."""
        if self._signature and parts:
            parts[0]["thoughtSignature"] = self._signature
            self._signature = None
        return parts

    def _chunk(self, parts: list[dict[str, Any]]) -> bytes:
        if self._id is None:
            self._start(new_id("resp_"))
        body = compact_json(parts)[1:-1]
        return self._PREFIX + body.encode() + self._suffix

    def _call_parts(self) -> list[dict[str, Any]]:
        parts = []
        for _, (call_id, name, fragments) in sorted(self._calls.items()):
            try:
                args = json.loads("".join(fragments) or "{}")
            except ValueError:
                args = {}
            args = args if isinstance(args, dict) else {}
            parts.append({"functionCall": {"id": call_id, "name": name, "args": args}})
        self._calls.clear()
        return parts

    def _flush(self) -> bytes:
        return self._chunk(self._signed(self._call_parts())) if self._calls else b""

    def _end(self, event: StreamEnd) -> bytes:
        self._ended = True
        if self._id is None:
            self._start(new_id("resp_"))
        parts = self._signed(self._call_parts() or [{"text": ""}])
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if event.stop_reason is not None:
            candidate["finishReason"] = _NEUTRAL_TO_FINISH.get(event.stop_reason, "OTHER")
        chunk: dict[str, Any] = {"candidates": [candidate]}
        usage = event.usage or (
            Usage(input_tokens=self._input_tokens) if self._input_tokens is not None else None
        )
        if usage is not None:
            chunk["usageMetadata"] = _usage_metadata(usage)
        chunk["modelVersion"] = self._model
        chunk["responseId"] = self._id
        return _encode(chunk)

    def error(self, message: str, error_type: str = "INTERNAL") -> bytes:
        """An in-band error event; Gemini streams have no other way to report one. The
        writer writes nothing afterwards, nor after the end (b"" once finished)."""
        if self._ended:
            return b""
        self._ended = True
        code = _HTTP_BY_STATUS.get(error_type, 500)
        return _encode({"error": {"code": code, "message": message, "status": error_type}})


def _encode(payload: Mapping[str, Any]) -> bytes:
    text = compact_json(payload)
    return b"data: " + text.encode() + b"\n\n"
