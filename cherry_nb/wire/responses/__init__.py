"""OpenAI Responses API wire format <-> the neutral representation.

Pure code, no I/O, the same seams as `wire.openai`.

No state: the gateway never stores a response (every reply says `store: false`, whatever
the client asked), so `previous_response_id`, `conversation`, `prompt` (a stored prompt
template), `item_reference` items and `background: true` are refused with a 400 telling
the client to send the whole conversation in `input`. Built requests always send
`store: false`.

Carried: `input` as a string or items (messages of role user, assistant, system or
developer with input_text, output_text, refusal, input_image and input_file parts;
`function_call`, `function_call_output` and `reasoning` items), `instructions` (joined
with system/developer messages into the system prompt), function tools and
`tool_choice`, `text.format` (-> response_format), `reasoning.effort`,
`max_output_tokens`, `temperature`, `top_p`, `parallel_tool_calls`, `user`. Read but
not carried, and named in ChatRequest.dropped: DROPPED_FIELDS, and the tools of
UNCARRIED_TOOL_TYPES (OpenAI's hosted tools, `namespace` groups), left out so that
agents which always send some (Codex) still work. Refused, naming the field: other
tool types (`custom`), tool choices forcing a hosted tool or allowed_tools, files by
`file_id`, unknown item and part types.

Reasoning: a `reasoning` item becomes a neutral Reasoning (its summary and content
texts; `encrypted_content` as the signature, origin "responses" unless tagged). Replies
and streams carry Reasoning as a reasoning item whose summary is the text and whose
`encrypted_content` is the signature (tagged when another family made it); built
requests drop Reasoning, whose signature only the family that made it can read.

Streams: StreamWriter emits the documented typed events in order with
`sequence_number`; `error()` sends an `error` event then `response.failed`. Errors use
Chat Completions' envelope, so build_error and parse_error are `wire.openai`'s.
"""

from ._errors import build_error, parse_error
from ._requests import (
    DROPPED_FIELDS,
    DROPPED_PART_TYPES,
    UNCARRIED_TOOL_TYPES,
    build_request,
    parse_request,
)
from ._responses import _parse_usage as parse_usage
from ._responses import build_response, parse_response
from ._stream import StreamParser, StreamWriter

__all__ = [
    "DROPPED_FIELDS",
    "DROPPED_PART_TYPES",
    "UNCARRIED_TOOL_TYPES",
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
