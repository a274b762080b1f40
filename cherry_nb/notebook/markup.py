"""Text that may hold Markdown's `code` spans, as HTML for panels and status lines.

Messages and hints are written once, with backticks around what to type
(`%chat simulator`), and shown both as text/plain (where backticks read well)
and inside HTML panels, where raw Markdown would show its backticks. Pure.
"""

from __future__ import annotations

import html
import re

from .._secrets import redact

_CODE = re.compile(r"`([^`\n]+)`")


def inline_html(text: str) -> str:
    """Escaped (and redacted) `text` with `code` spans as <code> and its line breaks kept."""
    escaped = html.escape(redact(text))
    return _CODE.sub(r"<code>\1</code>", escaped).replace("\n", "<br>")
