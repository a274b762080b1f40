"""Server-sent events framing: incremental parsing and encoding, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

_EOL = re.compile(rb"\r\n|\r|\n")


@dataclass(slots=True)
class SSEEvent:
    data: str
    event: str | None = None


class SSEParser:
    """Turns arbitrary byte chunks into complete events (spec: HTML Living Standard).

    Handles CRLF/LF/CR line endings, multi-line `data:`, comments and events split
    across chunk boundaries anywhere, including inside a UTF-8 sequence.
    """

    __slots__ = ("_buffer", "_data", "_event")

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event: str | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        buffer = self._buffer + chunk if self._buffer else chunk
        if b"\r" not in buffer:  # LF-only, as nearly every server sends: split in C
            cut = buffer.rfind(b"\n")
            if cut < 0:
                self._buffer = buffer
                return []
            # Whole lines only, decoded at once: no UTF-8 sequence spans a newline.
            lines = buffer[:cut].decode("utf-8", errors="replace").split("\n")
            self._buffer = buffer[cut + 1 :]
        else:
            raw, pos = [], 0
            for eol in _EOL.finditer(buffer):
                if eol.end() == len(buffer) and eol.group() == b"\r":
                    break  # a CR at the very end may be the first half of CRLF
                raw.append(buffer[pos : eol.start()])
                pos = eol.end()
            self._buffer = buffer[pos:]
            lines = [line.decode("utf-8", errors="replace") for line in raw]
        events: list[SSEEvent] = []
        data = self._data
        for line in lines:
            if not line:  # the blank line that ends an event
                if data:
                    events.append(SSEEvent("\n".join(data), self._event))
                    data = self._data = []
                self._event = None
            elif line.startswith("data:"):  # the usual line, without _line's call
                data.append(line[6:] if line.startswith(" ", 5) else line[5:])
            else:
                self._line(line, events)
                data = self._data
        return events

    def close(self) -> list[SSEEvent]:
        """Flush a final event that was not followed by a blank line."""
        events: list[SSEEvent] = []
        if self._buffer:
            self._line(self._buffer.decode("utf-8", errors="replace"), events)
            self._buffer = b""
        self._line("", events)
        return events

    def _line(self, line: str, events: list[SSEEvent]) -> None:
        if not line:
            if self._data:
                events.append(SSEEvent("\n".join(self._data), self._event))
            self._data = []
            self._event = None
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value


def encode_sse(data: str, event: str | None = None) -> bytes:
    """One SSE event; `data` must be a single line (compact JSON is)."""
    if event is None:
        return b"data: " + data.encode() + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data.encode() + b"\n\n"
