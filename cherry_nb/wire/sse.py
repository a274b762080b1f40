"""Server-sent events framing: incremental parsing and encoding, no I/O."""

from __future__ import annotations

from dataclasses import dataclass


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
        self._buffer += chunk
        events: list[SSEEvent] = []
        while True:
            line, sep, rest = _split_line(self._buffer)
            if sep is None:
                break
            self._buffer = rest
            self._line(line.decode("utf-8", errors="replace"), events)
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


def _split_line(buffer: bytes) -> tuple[bytes, bytes | None, bytes]:
    lf = buffer.find(b"\n")
    cr = buffer.find(b"\r")
    if cr == -1 and lf == -1:
        return buffer, None, b""
    if cr == -1 or (lf != -1 and lf < cr):
        return buffer[:lf], b"\n", buffer[lf + 1 :]
    # A CR at the very end may be the first half of CRLF: wait for more bytes.
    if cr == len(buffer) - 1:
        return buffer, None, b""
    if buffer[cr + 1 : cr + 2] == b"\n":
        return buffer[:cr], b"\r\n", buffer[cr + 2 :]
    return buffer[:cr], b"\r", buffer[cr + 1 :]


def encode_sse(data: str, event: str | None = None) -> bytes:
    """One SSE event; `data` must be a single line (compact JSON is)."""
    if event is None:
        return b"data: " + data.encode() + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data.encode() + b"\n\n"
