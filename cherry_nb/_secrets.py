"""Keeping API keys out of every string a user or log can see.

Every key the process resolves is registered here; `redact` replaces any
registered key (and anything shaped like a well-known key format) in a string
with its mask. Exceptions, reprs and log lines all pass through it.
"""

from __future__ import annotations

import re
import threading

_known: set[str] = set()
_lock = threading.Lock()
_pattern: re.Pattern[str] | None = None

# Shapes of real keys that must never be echoed even if we never registered them.
_KEY_SHAPES = re.compile(
    r"(sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{30,}|cs-sk-[0-9a-f\-]{20,})"
)


def mask_key(key: str) -> str:
    """`sk-…abcd`: enough to recognise a key, never enough to use it."""
    key = key.strip()
    if not key:
        return ""
    if len(key) < 12:
        return "…" + key[-2:]
    prefix = key[:3] if not key.startswith("cs-sk-") else "cs-sk-"
    return f"{prefix}…{key[-4:]}"


def register_secret(key: str) -> None:
    """Remember a key so that `redact` removes it from any text."""
    global _pattern
    key = key.strip()
    if len(key) < 6:
        return  # too short to be a real key and too likely to mangle ordinary text
    with _lock:
        if key in _known:
            return
        _known.add(key)
        alternatives = sorted(_known, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(k) for k in alternatives))


def redact(text: str) -> str:
    """Replace every registered key and key-shaped token in `text` by its mask."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(lambda m: mask_key(m.group(0)), text)
    return _KEY_SHAPES.sub(lambda m: mask_key(m.group(0)), text)
