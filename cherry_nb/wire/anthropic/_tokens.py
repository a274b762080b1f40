"""count_tokens' estimate, for when the upstream cannot count (it is not Anthropic's
tokenizer)."""

from __future__ import annotations

import base64
import binascii
import math
import re

from ..neutral import (
    ChatRequest,
    Document,
    Image,
    Text,
    ToolCall,
    ToolResult,
)
from ._common import _dumps

IMAGE_TOKENS = 1600
"""count_tokens' flat estimate per image (Anthropic: about width*height/750, ~1,600 max)."""
PDF_PAGE_TOKENS = 2500
"""count_tokens' estimate per PDF page (Anthropic: 1,500-3,000 of text, plus its image)."""
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
MESSAGE_OVERHEAD_TOKENS = 4
"""count_tokens' estimate of the role and framing tokens each message costs."""


def count_tokens(request: ChatRequest) -> int:
    """An estimate, not Anthropic's tokenizer: for count_tokens when the upstream cannot.

    About four characters per token over the system prompt, texts, tool calls and results
    and tool definitions (schemas as compact JSON), plus MESSAGE_OVERHEAD_TOKENS per
    message, IMAGE_TOKENS per image and PDF_PAGE_TOKENS per PDF page (pages counted in
    the file; one for a PDF given by URL or whose pages are compressed out of sight).
    Reasoning is left out, as Anthropic strips earlier turns' thinking. Deterministic: the
    same request always gets the same number.
    """
    chars, images, pages = len(request.system or ""), 0, 0
    parts = [part for message in request.messages for part in message.content]
    parts += [inner for part in parts if isinstance(part, ToolResult) for inner in part.content]
    for part in parts:
        if isinstance(part, Text):
            chars += len(part.text)
        elif isinstance(part, Image):
            images += 1
        elif isinstance(part, Document):
            pages += _pdf_pages(part)
        elif isinstance(part, ToolCall):
            chars += len(part.name) + len(_dumps(part.arguments))
    for tool in request.tools:
        chars += len(tool.name) + len(tool.description) + len(_dumps(tool.parameters))
    overhead = MESSAGE_OVERHEAD_TOKENS * len(request.messages)
    media = IMAGE_TOKENS * images + PDF_PAGE_TOKENS * pages
    return math.ceil(chars / 4) + overhead + media


def _pdf_pages(document: Document) -> int:
    """The page objects in an inline PDF (at least one); one when there is no data to read."""
    try:
        raw = base64.b64decode(document.data or "")
    except (binascii.Error, ValueError):
        return 1
    return max(1, len(_PDF_PAGE.findall(raw)))
