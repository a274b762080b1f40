"""Masking a provider's own keys in bytes the gateway relays without parsing them.

Some upstreams echo the key they were sent (in an error message, say); a passthrough
must not hand it to the gateway's client. A C-speed search per key costs next to
nothing per read.
"""

from __future__ import annotations

Secrets = tuple[tuple[bytes, bytes], ...]  # (key, its mask)
# A held-back tail shorter than this is let out as is at the end: keys this short are not
# masked at all, and seven bytes of a longer one are its public prefix (`sk-proj`).
_REVEALABLE = 8


def scrub(data: bytes, secrets: Secrets) -> bytes:
    for secret, mask in secrets:
        if secret in data:
            data = data.replace(secret, mask)
    return data


class StreamScrubber:
    """`scrub` over a stream's reads, catching a key split across two of them.

    A read that ends with the beginning of a key keeps those bytes back until the next
    read decides. SSE events end with a newline, which no key holds, so nearly every
    read goes out whole and at once.
    """

    __slots__ = ("secrets", "_held")

    def __init__(self, secrets: Secrets) -> None:
        self.secrets = secrets
        self._held = b""

    def feed(self, chunk: bytes) -> bytes:
        data = scrub(self._held + chunk if self._held else chunk, self.secrets)
        self._held = b""
        if not self.secrets or data.endswith(b"\n"):
            return data
        keep = max(_key_start(data, secret) for secret, _ in self.secrets)
        if keep:
            data, self._held = data[:-keep], data[-keep:]
        return data

    def flush(self) -> bytes:
        """What was held back, at the end of the stream (a key's start is masked)."""
        held, self._held = self._held, b""
        if len(held) < _REVEALABLE:
            return held
        return next(mask for secret, mask in self.secrets if secret.startswith(held))


def _key_start(data: bytes, secret: bytes) -> int:
    """The length of the longest end of `data` that is a proper beginning of `secret`."""
    start = max(0, len(data) - len(secret) + 1)
    first = secret[:1]
    while (start := data.find(first, start)) != -1:
        if secret.startswith(data[start:]):
            return len(data) - start
        start += 1
    return 0
