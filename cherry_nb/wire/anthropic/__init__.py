"""Anthropic Messages API (`/v1/messages`) <-> neutral: requests, responses, streams, errors.

Pure and fast: no pydantic models, and stream chunks parsed with `cherry_nb._json.loads`
(pydantic-core's parser, `json.loads`'s results), because StreamParser and StreamWriter
run once per stream chunk on the gateway's hot path.

Parsing follows the forward-compatibility rule (docs/architecture.md): fields this
package does not carry (Claude Code sends metadata, thinking, output_config,
context_management, cache_control...) are never refused for being new; they are named in
`ChatRequest.dropped`, and type-checked where the API defines them (FIELD_RULES). A
violation raises WireFormatError whose `param` is the dotted path, e.g.
"messages.2.content.0.text", so the gateway can answer a 400 that names the culprit.
System-role entries inside `messages` join `system`, in order.

Unknown content blocks: in a client's request a block type this package cannot translate
raises UntranslatableError (naming the type, `param` its `type`; the gateway refuses it
only when translating), except the opaque ones in DROPPED_PART_TYPES, dropped on purpose,
and those in assistant turns, dropped and named in `dropped`; server tools are left out
and named there too. In an upstream's response or stream, blocks of unknown or unmodelled
types are skipped, since only the upstream could fix them.

Documents: a PDF (base64 or URL source) is a neutral Document, a plain-text one becomes
Text; Files API (`file`) and custom `content` sources are refused like unknown blocks.
"""

from ._errors import build_error, parse_error
from ._requests import DROPPED_PART_TYPES, build_request, parse_request
from ._responses import _parse_usage as parse_usage
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
    "parse_usage",
]
