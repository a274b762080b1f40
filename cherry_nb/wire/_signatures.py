"""Reasoning signatures and where they came from: only the provider family that signed
reasoning can read the signature (Anthropic's thinking `signature`, Gemini's
`thoughtSignature`, OpenAI's encrypted reasoning); another answers 400. So every neutral
`Reasoning` / `ReasoningDelta` holds its `origin`, the wire format whose upstream made
the signature, and builders send a signature only to that format.

The origin must survive a client of another format: a Gemini signature handed to an
Anthropic client comes back in that client's next request. A writer therefore puts
`TAG` and a four-letter code of the origin before a signature it hands to a client of
another format, and readers take it off again. The prefix is twelve base64 characters,
so a client that decodes signatures as base64 (Gemini's SDKs hold `thoughtSignature` as
bytes) keeps it intact. An untagged signature is the reading format's own.
"""

from __future__ import annotations

from .neutral import Reasoning, ReasoningDelta

TAG = "cherrynb"
_CODES = {"anthropic": "anth", "gemini": "gemi", "responses": "resp"}
"""The formats that carry signatures, by the code that names them in a tag."""
_ORIGINS = {code: name for name, code in _CODES.items()}
_PREFIX = len(TAG) + 4


def read_signature(value: str | None, own: str) -> tuple[str | None, str | None]:
    """A signature as a client or upstream of format `own` sent it -> (signature, origin);
    (None, None) for none."""
    if not value:
        return None, None
    if value.startswith(TAG) and (origin := _ORIGINS.get(value[len(TAG) : _PREFIX])):
        return value[_PREFIX:], origin
    return value, own


def write_signature(part: Reasoning | ReasoningDelta, own: str) -> str | None:
    """`part`'s signature for a client of format `own`: tagged with its origin when
    another format made it."""
    signature, origin = part.signature, part.origin
    if not signature or origin is None or origin == own or origin not in _CODES:
        return signature or None
    return f"{TAG}{_CODES[origin]}{signature}"


def own_signature(part: Reasoning | ReasoningDelta, own: str) -> str | None:
    """`part`'s signature if an upstream of format `own` made it, else None: what a
    builder may send to such an upstream."""
    return part.signature if part.signature and part.origin == own else None
