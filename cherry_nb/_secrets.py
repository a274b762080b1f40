"""Keeping API keys out of every string a user or log can see.

Every key the process resolves is registered here; `redact` replaces any
registered key (and anything shaped like a well-known key format, and any
`user:password@` in a URL) in a string with its mask. Exceptions, reprs and log
lines all pass through it. Credentials in a base URL are secrets like keys:
`display_url` is the one way a URL is shown, and `register_url_secrets` makes
`redact` catch them wherever else they turn up (httpx's log lines included).
"""

from __future__ import annotations

import base64
import logging
import math
import re
import threading
from urllib.parse import unquote, urlsplit, urlunsplit

_known: set[str] = set()
_lock = threading.Lock()
_pattern: re.Pattern[str] | None = None

# Shapes of real keys that must never be echoed even if we never registered them.
_KEY_SHAPES = re.compile(
    r"(sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{30,}|cs-sk-[0-9a-f\-]{20,})"
)
# `scheme://userinfo@` in any text: the userinfo is hidden whether registered or not.
_URL_USERINFO = re.compile(r"(?<=://)[^/?#@\s\"'<>]+@")
MIN_GATEWAY_KEY = 16  # characters, for any gateway key
MIN_PUBLIC_KEY = 32  # characters, for a gateway reachable beyond this machine
_MIN_PUBLIC_BITS = 100  # estimated bits of randomness, prefix excepted (a uuid4: ~110-122)
_KEY_PREFIXES = ("cs-sk-", "sk-")
# Words and runs that make a key guessable, however long it is.
_GUESSABLE = (
    "password", "passwd", "secret", "test", "changeme", "example", "default", "letmein",
    "qwerty", "admin", "gateway", "apikey", "api-key", "123456", "012345", "abcdef",
)  # fmt: skip
HOW_TO_MAKE_KEY = (
    "make one with: python -c \"import secrets; print('cs-sk-' + secrets.token_urlsafe(32))\""
)
# Header names that carry credentials (`headers` in a provider's config).
_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|passw|session|credential", re.I)


def mask_key(key: str) -> str:
    """`sk-…abcd`: enough to recognise a key, never enough to use it (nor, for a short
    secret, most of it)."""
    key = key.strip()
    if not key:
        return ""
    if len(key) < 8:
        return "…"
    if len(key) < 12:
        return "…" + key[-2:]
    prefix = key[:3] if not key.startswith("cs-sk-") else "cs-sk-"
    return f"{prefix}…{key[-4:]}"


def gateway_key_problem(key: str, *, public: bool = False) -> str | None:
    """Why `key` may not be a gateway key (None if it may). `public`: the gateway is
    reachable from other machines, so the key is all that stands in anyone's way and
    must be long and random, not merely long."""
    if len(key) < MIN_GATEWAY_KEY:
        return f"a gateway key must be at least {MIN_GATEWAY_KEY} characters long"
    if not public:
        return None
    if len(key) < MIN_PUBLIC_KEY:
        return (
            f"a gateway reachable from other machines needs a key of at least "
            f"{MIN_PUBLIC_KEY} random characters"
        )
    lowered = key.lower()
    word = next((w for w in _GUESSABLE if w in lowered), None)
    if word is not None:
        return f"the gateway key contains {word!r}, which makes it guessable"
    body = next((key[len(p) :] for p in _KEY_PREFIXES if key.startswith(p)), key)
    if _entropy_bits(body) < _MIN_PUBLIC_BITS:
        return "the gateway key repeats itself too much to be random"
    return None


def _entropy_bits(text: str) -> float:
    """Shannon entropy of `text`'s characters times its length: a rough randomness."""
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    total = len(text)
    return -sum(n * math.log2(n / total) for n in counts.values())


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
    """Replace every registered key, key-shaped token and URL userinfo in `text`."""
    if "://" in text:
        text = _URL_USERINFO.sub("…@", text)
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(lambda m: mask_key(m.group(0)), text)
    return _KEY_SHAPES.sub(lambda m: mask_key(m.group(0)), text)


def display_url(url: str) -> str:
    """`url` as it may be shown anywhere: `user:password@` hidden as `…@`, keys masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    if "@" in parts.netloc:
        url = urlunsplit(parts._replace(netloc="…@" + parts.netloc.rsplit("@", 1)[1]))
    return redact(url)


def strip_userinfo(url: str) -> str:
    """`url` without `user:password@` (what may be exported); unchanged if it has none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def register_url_secrets(url: str) -> None:
    """Register the credentials in `url`'s userinfo: as written, decoded, and as the
    Basic credential an HTTP client derives from them (an upstream may echo it)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    if "@" not in parts.netloc:
        return
    userinfo = parts.netloc.rsplit("@", 1)[0]
    user, _, password = userinfo.partition(":")
    for secret in (userinfo, unquote(userinfo), password, unquote(password)):
        register_secret(secret)
    basic = f"{unquote(user)}:{unquote(password)}".encode()
    register_secret(base64.b64encode(basic).decode())


def is_secret_header(name: str) -> bool:
    """Whether a header of this name carries a credential (never shown nor exported)."""
    return bool(_SECRET_HEADER.search(name))


def register_header_secrets(headers: dict[str, str]) -> None:
    """Register the values of credential headers, and their token after a scheme."""
    for name, value in headers.items():
        if is_secret_header(name):
            register_secret(value)
            register_secret(value.rpartition(" ")[2])


def masked_headers(headers: dict[str, str]) -> dict[str, str]:
    """`headers` with the values of credential headers masked."""
    return {k: mask_key(v) if is_secret_header(k) else v for k, v in headers.items()}


class RedactingFilter(logging.Filter):
    """Passes every record, with secrets masked in its rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's to report, not ours
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER = RedactingFilter()


def redact_logs(*names: str) -> None:
    """Mask secrets in what the named loggers log (a logger's filter sees its own
    records only, not its children's: name each one)."""
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
