"""Anthropic Messages API (`/v1/messages`) <-> neutral: requests, responses, streams, errors.

Pure and fast: no pydantic models, and stream chunks parsed with `cherry_nb._json.loads`
(pydantic-core's parser, `json.loads`'s results), because StreamParser and StreamWriter
run once per stream chunk on the gateway's hot path.

Parsing is lenient where Anthropic's clients are inventive (Claude Code sends metadata,
thinking, cache_control, server tools, context_management...): unknown fields are ignored.
Fields this package does understand are type-checked, and a violation raises
WireFormatError whose `param` is the dotted path, e.g. "messages.2.content.0.text", so the
gateway can answer a 400 that names the culprit.

Unknown content blocks: in a client's request a block type this package cannot translate
is refused (WireFormatError naming the type, `param` its `type`), except the opaque ones
in DROPPED_PART_TYPES, dropped on purpose; in an upstream's response or stream, blocks of
unknown or unmodelled types are skipped, since only the upstream could fix them.

Documents: a PDF (base64 or URL source) is a neutral Document, a plain-text one becomes
Text; Files API (`file`) and custom `content` sources are refused like unknown blocks.
"""

from ._errors import build_error, parse_error
from ._requests import DROPPED_PART_TYPES, build_request, parse_request
from ._responses import build_response, parse_response
from ._stream import StreamParser, StreamWriter
from ._tokens import MESSAGE_OVERHEAD_TOKENS, PDF_PAGE_TOKENS, count_tokens

__all__ = [
    "DROPPED_PART_TYPES",
    "MESSAGE_OVERHEAD_TOKENS",
    "PDF_PAGE_TOKENS",
    "StreamParser",
    "StreamWriter",
    "build_error",
    "build_request",
    "build_response",
    "count_tokens",
    "parse_error",
    "parse_request",
    "parse_response",
]
