"""HTTP/1.1 framing for the plain-http transport: request heads, response heads,
body framing and chunked decoding. Pure functions over bytes, no I/O.

Errors are httpx's own (`RemoteProtocolError`, `LocalProtocolError`), with the
messages httpcore gives where it has one, so callers cannot tell the transports apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

MAX_HEAD = 100 * 1024  # as httpcore's h11 limit for an incomplete event
MAX_LINE = 8 * 1024  # a chunk-size or trailer line
PIECE = 64 * 1024  # the most a body yields at once, as httpcore (parsers downstream like it)
HEAD_END = re.compile(rb"\r?\n\r?\n")
_LINE_SPLIT = re.compile(rb"\r?\n")
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_BLOCK = re.compile(rb"(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+: [^\x00\r\n]*\r\n)*")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")
_PLAIN_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})\r\n")  # the usual size line: no extension
_SIZE, _DATA, _CRLF, _TRAILER = range(4)  # chunked decoding states
_FRAMING = frozenset({b"connection", b"transfer-encoding", b"content-length"})


def request_head(request: httpx.Request) -> bytes:
    """The request line and header fields of `request`, ready to send."""
    method = request.method.encode("ascii")
    fields = request.headers.raw
    block = b"".join([b"%s: %s\r\n" % pair for pair in fields])
    # One line per field: a CR, LF or NUL inside a name or value cannot sneak through.
    if (
        not _TOKEN.fullmatch(method)
        or block.count(b"\n") != len(fields)
        or not _HEADER_BLOCK.fullmatch(block)
    ):
        raise httpx.LocalProtocolError("Illegal request method or header.")
    return b"%s %s HTTP/1.1\r\n%s\r\n" % (method, request.url.raw_path, block)


@dataclass(slots=True)
class Head:
    """A response's status line and headers, with the ones that frame its body split out."""

    version: bytes
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    framing: dict[bytes, list[bytes]]  # lower-cased name -> comma-separated tokens, lowered

    def tokens(self, name: bytes) -> list[bytes]:
        return self.framing.get(name, [])


def parse_head(raw: bytes) -> Head:
    """A response head (status line and fields, without the blank line after them)."""
    lines = _LINE_SPLIT.split(raw)
    version, _, rest = lines[0].partition(b" ")
    code, _, reason = rest.partition(b" ")
    if version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise httpx.RemoteProtocolError(f"Not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, value + b" " + line.strip(b" \t"))
            continue
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.fullmatch(name):
            raise httpx.RemoteProtocolError(f"Illegal header line {line[:80]!r}.")
        headers.append((name, value.strip(b" \t")))
    framing: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        key = name.lower()
        if key in _FRAMING:
            tokens = [t.strip().lower() for t in value.split(b",")]
            framing.setdefault(key, []).extend(t for t in tokens if t)
    return Head(version, int(code), reason, headers, framing)


def body_framing(head: Head, method: str) -> tuple[int | None, bool, bool]:
    """(Content-Length or None, chunked, keep-alive) of the body that follows `head`."""
    status = head.status
    keep_alive = head.version == b"HTTP/1.1" and b"close" not in head.tokens(b"connection")
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return 0, False, keep_alive
    codings = head.tokens(b"transfer-encoding")
    if codings:
        chunked = codings[-1] == b"chunked"
        return None, chunked, keep_alive and chunked  # not chunked: read until the close
    length = _content_length(head)
    return length, False, keep_alive and length is not None


def _content_length(head: Head) -> int | None:
    values = set(head.tokens(b"content-length"))
    if not values:
        return None
    if len(values) > 1 or not all(v.isdigit() for v in values):
        raise httpx.RemoteProtocolError("Invalid Content-Length in the response.")
    return int(values.pop())


class ChunkDecoder:
    """Chunked transfer coding, decoded from a buffer it consumes as it goes.

    Whole chunks already in the buffer (the usual case: an upstream read holds
    many SSE events) take one regex match and one slice each.
    """

    __slots__ = ("done", "_remaining", "_state")

    def __init__(self) -> None:
        self.done = False
        self._remaining = 0
        self._state = _SIZE

    def feed(self, buffer: bytearray, limit: int = PIECE) -> bytes:
        """Data decodable from `buffer` now (about `limit` bytes at most, or a little
        more: whole chunks are not split); sets `done` after the last chunk."""
        out: list[bytearray] = []
        pos, end, total = 0, len(buffer), 0
        while not self.done and total < limit:
            state = self._state
            if state == _SIZE:
                # Whole chunks with plain size lines, one after another: the fast lane
                # (an upstream read holds hundreds of small SSE chunks), ~2.5x the speed
                # of the general loop below, which takes whatever this one leaves.
                plain = _PLAIN_SIZE.match
                while total < limit and (match := plain(buffer, pos)) is not None:
                    size = int(match[1], 16)
                    start = match.end()
                    stop = start + size
                    if not size or buffer[stop : stop + 2] != b"\r\n":
                        break
                    out.append(buffer[start:stop])
                    pos = stop + 2
                    total += size
                if total >= limit:
                    break
            if state == _SIZE:
                match = _CHUNK_SIZE.match(buffer, pos)
                if match is None:
                    if buffer.find(b"\n", pos) >= 0:
                        raise httpx.RemoteProtocolError("malformed chunked encoding")
                    if end - pos > MAX_LINE:
                        raise httpx.RemoteProtocolError("chunked encoding line too long")
                    break
                size = int(match[1], 16)
                pos = match.end()
                if not size:
                    self._state = _TRAILER
                    continue
                stop = pos + size
                if buffer.startswith(b"\r\n", stop):  # the whole chunk is here
                    out.append(buffer[pos:stop])
                    pos = stop + 2
                    total += size
                    continue
                self._remaining, self._state = size, _DATA
            elif state == _DATA:
                take = min(self._remaining, end - pos, limit - total)
                if not take:
                    break
                out.append(buffer[pos : pos + take])
                pos += take
                total += take
                self._remaining -= take
                if self._remaining:
                    break
                self._state = _CRLF
            elif state == _CRLF:
                if buffer[pos : pos + 2] == b"\r\n":
                    pos += 2
                elif buffer[pos : pos + 1] == b"\n":
                    pos += 1
                elif end - pos < 2:
                    break
                else:
                    raise httpx.RemoteProtocolError("malformed chunked encoding")
                self._state = _SIZE
            else:  # trailer fields, up to an empty line
                eol = buffer.find(b"\n", pos)
                if eol < 0:
                    if end - pos > MAX_LINE:
                        raise httpx.RemoteProtocolError("chunked encoding line too long")
                    break
                self.done = buffer[pos:eol] in (b"", b"\r")
                pos = eol + 1
        del buffer[:pos]
        return b"".join(out)
