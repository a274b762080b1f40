"""Small text helpers the wire modules share. Pure."""

from __future__ import annotations

import html
import re

_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)


def readable_text(text: str, limit: int = 200) -> str:
    """An HTML page or plain-text body reduced to its first `limit` readable characters,
    for error messages (a proxy's or web server's page instead of an API error)."""
    return " ".join(html.unescape(_TAGS.sub(" ", text)).split())[:limit]
