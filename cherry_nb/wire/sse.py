"""Server-sent events framing: incremental parsing and encoding, no I/O.

An upstream decides how big its events are, so the parser bounds what it holds: one
event (its data lines plus the unfinished line) may reach MAX_EVENT_BYTES, beyond
which `feed` raises WireFormatError (the caller fails that one request with a 502).
A line that arrives in many chunks costs time linear in its length: once it is long,
chunks without a line end are appended in place, never re-copied nor re-scanned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._exceptions import WireFormatError

_EOL = re.compile(rb"\r\n|\r|\n")
MAX_EVENT_BYTES = 16 * 1024 * 1024  # far above any real event (a large image is ~10 MB)
_LONG_LINE = 64 * 1024  # an unfinished line this long grows in place, never re-copied


@dataclass(slots=True)
class SSEEvent:
    data: str
    event: str | None = None


class SSEParser:
    """Turns arbitrary byte chunks into complete events (spec: HTML Living Standard).

    Handles CRLF/LF/CR line endings, multi-line `data:`, comments and events split
    across chunk boundaries anywhere, including inside a UTF-8 sequence.
    """

    __slots__ = ("_buffer", "_data", "_event", "_size", "limit")

    def __init__(self, limit: int = MAX_EVENT_BYTES) -> None:
        self._buffer: bytes | bytearray = b""  # the unfinished line
        self._data: list[str] = []
        self._event: str | None = None
        self._size = 0  # characters in `_data`
        self.limit = limit

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """The events `chunk` completes; WireFormatError if one grows past `limit`."""
        pending = self._buffer
        if (
            len(pending) >= _LONG_LINE
            and b"\n" not in chunk
            and b"\r" not in chunk
            and not pending.endswith(b"\r")
        ):
            # A long unfinished line grows in place (amortised O(len(chunk))) instead of
            # being copied and re-scanned at every chunk.
            if isinstance(pending, bytes):
                pending = self._buffer = bytearray(pending)
            pending += chunk
            if self._size + len(pending) > self.limit:
                self._too_big()
            return []
        if isinstance(pending, bytearray):
            pending = bytes(pending)  # once, when the long line ends
        buffer = pending + chunk if pending else chunk
        if b"\r" not in buffer:  # LF-only, as nearly every server sends: split in C
            cut = buffer.rfind(b"\n")
            if cut < 0:
                self._buffer = buffer
                if self._size + len(buffer) > self.limit:
                    self._too_big()
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
        data, size = self._data, self._size
        for line in lines:
            if not line:  # the blank line that ends an event
                if data:
                    events.append(SSEEvent("\n".join(data), self._event))
                    data = self._data = []
                    size = 0
                self._event = None
            elif line.startswith("data:"):  # the usual line, without _line's call
                data.append(line[6:] if line.startswith(" ", 5) else line[5:])
                size += len(line)
            else:
                self._size = size
                self._line(line, events)
                data, size = self._data, self._size
        self._size = size
        if size + len(self._buffer) > self.limit:
            self._too_big()
        return events

    def _too_big(self) -> None:
        size = self._size + len(self._buffer)
        self._buffer, self._data, self._size = b"", [], 0  # drop it now
        raise WireFormatError(
            f"one server-sent event exceeded {self.limit // (1024 * 1024)} MB "
            f"({size} bytes held without its end); the stream was stopped"
        )

    def close(self) -> list[SSEEvent]:
        """Flush a final event that was not followed by a blank line."""
        events: list[SSEEvent] = []
        if self._buffer:
            self._line(bytes(self._buffer).decode("utf-8", errors="replace"), events)
            self._buffer = b""
        self._line("", events)
        return events

    def _line(self, line: str, events: list[SSEEvent]) -> None:
        if not line:
            if self._data:
                events.append(SSEEvent("\n".join(self._data), self._event))
            self._data = []
            self._size = 0
            self._event = None
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._size += len(value)
        elif name == "event":
            self._event = value


def encode_sse(data: str, event: str | None = None) -> bytes:
    """One SSE event; `data` must be a single line (compact JSON is)."""
    if event is None:
        return b"data: " + data.encode() + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data.encode() + b"\n\n"
