"""The gateway's request and response bodies as pydantic models, for the API document.

Requests are validated by each wire format's `parse_request` (`cherry_nb.wire.formats`),
the one validator; these models describe the same bodies, and
tests/gateway/test_formats_agree.py keeps the two accepting and refusing the same corpus
(`validate_chat`, `validate_messages`, `validate_responses`, `validate_count_tokens`
serve that test and the schema tests; embeddings bodies are read by
`wire/embeddings.parse_openai_request`). Unknown fields and content-block, part and tool
types are accepted (`extra="allow"` and fallback models), as the validator does.

They generate the OpenAPI document (`cherry_nb.gateway.openapi`): class docstrings and
field descriptions are what the API docs show, so they are written for API users.

One module per wire format (`_openai`, `_anthropic`, `_responses`), OpenAI's embeddings
(`_embeddings`), the gateway's own bodies
(`_service`), validation (`_validation`), and what they share (`_base`).
"""

from __future__ import annotations

from ._anthropic import (
    MESSAGE_STREAM_EVENT_TYPES,
    ContentBlockDeltaEvent,
    CountTokensRequest,
    CountTokensResponse,
    CustomTool,
    Message,
    MessagesRequest,
    MessageStreamEvent,
    ServerTool,
)
from ._embeddings import Embedding, EmbeddingList, EmbeddingsRequest, EmbeddingUsage
from ._openai import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    FunctionTool,
    ImageURL,
    ImageURLPart,
    OtherTool,
    PromptFilterChunk,
)
from ._responses import (
    RESPONSE_STREAM_EVENT_TYPES,
    InputTokenCount,
    ResponseObject,
    ResponsesRequest,
    ResponseStreamEvent,
)
from ._service import (
    AnthropicErrorEnvelope,
    Health,
    Model,
    ModelList,
    OpenAIErrorEnvelope,
    ServiceInfo,
)
from ._validation import (
    validate_chat,
    validate_count_tokens,
    validate_embeddings,
    validate_messages,
    validate_responses,
    validation_message,
)

__all__ = [
    "MESSAGE_STREAM_EVENT_TYPES",
    "RESPONSE_STREAM_EVENT_TYPES",
    "AnthropicErrorEnvelope",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ContentBlockDeltaEvent",
    "CountTokensRequest",
    "CountTokensResponse",
    "CustomTool",
    "Embedding",
    "EmbeddingList",
    "EmbeddingUsage",
    "EmbeddingsRequest",
    "FunctionTool",
    "Health",
    "ImageURL",
    "ImageURLPart",
    "InputTokenCount",
    "Message",
    "MessageStreamEvent",
    "MessagesRequest",
    "Model",
    "ModelList",
    "OpenAIErrorEnvelope",
    "OtherTool",
    "PromptFilterChunk",
    "ResponseObject",
    "ResponseStreamEvent",
    "ResponsesRequest",
    "ServerTool",
    "ServiceInfo",
    "validate_chat",
    "validate_count_tokens",
    "validate_embeddings",
    "validate_messages",
    "validate_responses",
    "validation_message",
]
