"""Google Gemini (Generative Language API v1beta) <-> the neutral representation.

Gemini differs from the other formats in ways that shape this package: the model
and streaming live in the URL (`models/{model}:generateContent`,
`:streamGenerateContent?alt=sse`), so they are arguments here; function results
are paired with calls by name (ids are optional); streams have no terminal event;
`parameters` accept only an OpenAPI subset of JSON Schema (see `_schema`).
The REST API also accepts snake_case field names, so the parsers do too.

Unknown parts (a part's type is its data field, e.g. `executableCode`): in a client's
request a part this package cannot translate is refused (WireFormatError naming the type,
`param` that field), except DROPPED_PART_TYPES and parts holding only metadata; in an
upstream's response or stream, unknown or unmodelled parts are skipped.

Media parts (`inlineData`, `fileData`) are read by MIME type: image/* (or none) an Image,
application/pdf a Document; other types (audio, video, ...) have no neutral part and are
refused. A Document or Image inside a tool result rides along as a sibling part of its
functionResponse, which holds JSON only.
"""

from ._errors import build_error, parse_error
from ._requests import DROPPED_PART_TYPES, build_request, parse_request
from ._responses import build_response, list_models_from_wire, parse_response
from ._stream import StreamParser, StreamWriter

__all__ = [
    "DROPPED_PART_TYPES",
    "StreamParser",
    "StreamWriter",
    "build_error",
    "build_request",
    "build_response",
    "list_models_from_wire",
    "parse_error",
    "parse_request",
    "parse_response",
]
