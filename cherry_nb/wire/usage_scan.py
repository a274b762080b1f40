"""Token usage read from a reply the gateway relays untouched (passthrough), cheaply.

A passthrough reply is bytes the gateway never parses, yet the usage ledger wants its
tokens. Where they are, in each client format:

- a whole reply: its top-level `usage` (Chat Completions, Messages, Responses);
- a stream: Chat Completions' last chunk (only when the client asked `include_usage`;
  every chunk before it says `"usage":null`), Messages' `message_start` (its
  `message.usage`: the prompt) and `message_delta` (`usage`: output so far, and newer
  APIs repeat the prompt's counts), Responses' `response.completed` /
  `.incomplete` / `.failed` (`response.usage`).

So a stream is scanned for the bytes `"usage"`, with C-speed `bytes.find`, and only an
event line holding it with a value other than `null` is parsed: a few lines per stream,
whatever its length. Unescaped, `"usage"` cannot occur inside a JSON string (its quotes
would be escaped), so text that mentions usage is never mistaken for it. Counts seen
later override earlier ones key by key, which is how Messages streams report them; the
format's own `parse_usage` turns the result into neutral `Usage` once, at the end.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from .._json import loads
from . import anthropic, openai, responses
from .neutral import Usage
from .sse import MAX_EVENT_BYTES

_MARK = b'"usage"'
_NULL = b"null"
# Where the usage object sits in a reply or an event: at the top, or one level down in
# Messages' `message_start` (`message`) and the Responses events (`response`).
_HOLDERS = ("message", "response")
_DECODER = json.JSONDecoder()


def _anthropic_usage(raw: Mapping[str, Any]) -> Usage | None:
    return anthropic.parse_usage(raw)


_PARSERS: dict[str, Callable[[Any], Usage | None]] = {
    "openai": openai.parse_usage,
    "anthropic": _anthropic_usage,
    "responses": responses.parse_usage,
}


def scans(format_name: str) -> bool:
    """Whether replies in this format can be read for usage."""
    return format_name in _PARSERS


def reply_usage(format_name: str, data: bytes) -> Usage | None:
    """The usage of a whole JSON reply in `format_name`, or None if it states none.

    The top-level `usage` is the last key named so in every format's reply: that object
    alone is parsed (a quarter of the cost of the whole reply); anything unexpected there
    falls back to parsing the whole reply.
    """
    at = data.rfind(_MARK)
    if at < 0 or format_name not in _PARSERS:
        return None
    raw: Mapping[str, Any] | None = _object_after(data, at + len(_MARK))
    if raw is None:
        try:
            raw = _usage_object(loads(data.decode("utf-8", "replace")))
        except ValueError:
            return None
    return _PARSERS[format_name](raw) if raw is not None else None


def _object_after(data: bytes, at: int) -> dict[str, Any] | None:
    """The JSON object that is the value of the key ending at `at`, or None."""
    text = data[at : at + 4096].decode("utf-8", "replace").lstrip()
    if not text.startswith(":"):
        return None
    try:
        value, _ = _DECODER.raw_decode(text[1:].lstrip())
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class StreamUsage:
    """Feed a passthrough stream's chunks as they are relayed; `usage()` at any point.

    Only the line being received is kept (as parts, joined once it ends), so the cost is
    one `rfind` and one `find` per chunk, and a parse per line that states usage.
    """

    __slots__ = ("_parse", "_open", "_open_bytes", "_counts")

    def __init__(self, format_name: str) -> None:
        self._parse = _PARSERS[format_name]
        self._open: list[bytes] | None = []  # the current line's parts; None: too long, skipped
        self._open_bytes = 0
        self._counts: dict[str, Any] = {}

    def feed(self, chunk: bytes) -> None:
        last = chunk.rfind(b"\n")
        if last < 0:
            self._keep(chunk)  # the line goes on
            return
        start = 0
        if self._open is None or self._open:  # a line begun in earlier chunks ends in this one
            end = chunk.find(b"\n")
            if self._open is not None:
                line = b"".join(self._open) + chunk[:end]
                if _MARK in line:
                    self._line(line)
            self._open, self._open_bytes = [], 0
            start = end + 1
        at = chunk.find(_MARK, start, last)
        while at >= 0:
            begin = max(chunk.rfind(b"\n", start, at) + 1, start)
            end = chunk.find(b"\n", at, last + 1)
            self._line(chunk[begin:end])
            start = end + 1
            at = chunk.find(_MARK, start, last)
        if last + 1 < len(chunk):
            self._keep(chunk[last + 1 :])

    def _keep(self, part: bytes) -> None:
        """Hold part of an unfinished line, up to the size of the largest SSE event."""
        if self._open is None:
            return
        self._open_bytes += len(part)
        if self._open_bytes > MAX_EVENT_BYTES:
            self._open = None  # no usage line is that long: skip to the next line
            return
        self._open.append(part)

    def usage(self) -> Usage | None:
        """The usage stated so far, or None if the stream has stated none."""
        return self._parse(self._counts) if self._counts else None

    def _line(self, line: bytes) -> None:
        at = line.find(_MARK)
        while at >= 0:  # `"usage":null` (every Chat Completions chunk but the last) is skipped
            after = at + len(_MARK)
            if not line[after : after + 12].lstrip(b" \t:").startswith(_NULL):
                break
            at = line.find(_MARK, after)
        else:
            return
        data = line.partition(b":")[2] if line.startswith(b"data:") else b""
        try:
            event = loads(data.decode("utf-8", "replace"))
        except ValueError:
            return  # not a one-line JSON event: nothing to read
        raw = _usage_object(event)
        if raw is not None:
            self._counts.update((k, v) for k, v in raw.items() if v is not None)


def _usage_object(body: Any) -> Mapping[str, Any] | None:
    if not isinstance(body, dict):
        return None
    raw = body.get("usage")
    if isinstance(raw, dict):
        return raw
    for holder in _HOLDERS:
        inner = body.get(holder)
        if isinstance(inner, dict) and isinstance(raw := inner.get("usage"), dict):
            return raw
    return None
