"""The gateway's request and response bodies as pydantic models: one source for two jobs.

1. Validating requests on the hot path (`validate_chat`, `validate_messages`,
   `validate_count_tokens`, `validate_embeddings`): types of known fields are checked,
   unknown fields and unknown content-block, part and tool types are accepted
   (`extra="allow"` and fallback models), so a new client feature never breaks a
   request. A bad body gets one sentence from `validation_message`, naming the field,
   never quoting the value.
2. Generating the OpenAPI document (`cherry_nb.gateway.openapi`): class docstrings and
   field descriptions are what the API docs show, so they are written for API users.

One module per wire format (`_openai`, `_anthropic`), OpenAI's embeddings
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
    validation_message,
)

__all__ = [
    "MESSAGE_STREAM_EVENT_TYPES",
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
    "Message",
    "MessageStreamEvent",
    "MessagesRequest",
    "Model",
    "ModelList",
    "OpenAIErrorEnvelope",
    "OtherTool",
    "PromptFilterChunk",
    "ServerTool",
    "ServiceInfo",
    "validate_chat",
    "validate_count_tokens",
    "validate_embeddings",
    "validate_messages",
    "validation_message",
]
