"""OpenAI Chat Completions wire format <-> the neutral representation.

Pure code, no I/O. The stream classes run per chunk on the gateway's hot path,
so they use `cherry_nb._json.loads`, pre-built chunk prefixes and flat dispatch.

Tolerant where compatible servers (Ollama, vLLM, DeepSeek, llama.cpp ...) differ
from the official API; strict, naming the field, where a client sends something
that cannot be honoured.

Top-level fields this package does not carry are named in `ChatRequest.dropped`, never
refused for being new, and type-checked where the API defines them (FIELD_RULES).

Unknown content parts: in a client's request a part type this package cannot translate
raises UntranslatableError (naming the type, `param` its `type`; the gateway refuses it
only when translating), except those in DROPPED_PART_TYPES; in an upstream's response
or stream, parts of unknown or unmodelled types are skipped, since only the upstream
could fix them.

Files: a `file` part holding a PDF as `file_data` is a neutral Document (a `file_id` is
refused: only OpenAI can read it). Building, a Document becomes such a part in a user
message (one from a tool result follows the `tool` messages, which carry text only, as
images do); one given by URL is refused with a WireFormatError saying what to do
instead, never dropped.
"""

from ._errors import build_error, parse_error
from ._requests import DROPPED_PART_TYPES, build_request, parse_request
from ._responses import _parse_usage as parse_usage
from ._responses import build_response, parse_response
from ._stream import StreamParser, StreamWriter

__all__ = [
    "DROPPED_PART_TYPES",
    "StreamParser",
    "StreamWriter",
    "build_error",
    "build_request",
    "build_response",
    "parse_error",
    "parse_request",
    "parse_response",
    "parse_usage",
]
