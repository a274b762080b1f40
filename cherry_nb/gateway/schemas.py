"""The gateway's request and response bodies as pydantic models: one source for two jobs.

1. Validating requests on the hot path (`validate_chat`, `validate_messages`,
   `validate_count_tokens`): types of known fields are checked, unknown fields and
   unknown content-block, part and tool types are accepted (`extra="allow"` and
   fallback models), so a new client feature never breaks a request.
2. Generating the OpenAPI document (`cherry_nb.gateway.openapi`): class docstrings and
   field descriptions are what the API docs show, so they are written for API users.

Unions are tagged by a function (see `_pick`), never tried member by member: a bad value
then gives one error whose location follows the JSON document, and `validation_message`
turns it into a sentence such as "messages.0.content: Input should be a string or an
array of content parts." without ever quoting the value (it may hold a secret).

Scalars are strict (no "1" for 1, no true for 1), like the wire converters that read
the same bodies after validation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    Strict,
    Tag,
    ValidationError,
)

from ..config.models import ProviderType

__all__ = [
    "AnthropicErrorEnvelope",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "CountTokensRequest",
    "CountTokensResponse",
    "Health",
    "MESSAGE_STREAM_EVENT_TYPES",
    "Message",
    "MessageStreamEvent",
    "MessagesRequest",
    "Model",
    "ModelList",
    "OpenAIErrorEnvelope",
    "PromptFilterChunk",
    "ServiceInfo",
    "validate_chat",
    "validate_count_tokens",
    "validate_messages",
    "validation_message",
]

# Strict scalars: JSON numbers and booleans only (a float field still takes an integer).
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]


class _Model(BaseModel):
    """Base of every body model: unknown fields are kept, never rejected."""

    model_config = ConfigDict(extra="allow")


# ---- tagged unions -------------------------------------------------------------------

_TAG_PREFIX = "~"
"""Union tags appear in error locations; this prefix lets `validation_message` drop them."""


def _pick(
    choices: dict[str, Any],
    choose: Callable[[Any], str | None],
    error: str,
) -> Any:
    """A union of `choices` (tag -> type) where `choose(value)` names the member to use.

    `choose` returns None when no member can fit; the value then fails with `error`.
    """
    members = tuple(Annotated[kind, Tag(_TAG_PREFIX + tag)] for tag, kind in choices.items())

    def tag_of(value: Any) -> str | None:
        tag = choose(value)
        # A tag taken from the body (e.g. a `type` that is an object) may be anything.
        return _TAG_PREFIX + tag if isinstance(tag, str) else None

    return Annotated[
        Union[members],  # noqa: UP007 - a runtime tuple of members needs Union[...]
        Discriminator(tag_of, custom_error_type="invalid_type", custom_error_message=error),
    ]


def _str_or_list(value: Any) -> str | None:
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return None


def _by_type(known: frozenset[str], default: str | None = None) -> Callable[[Any], str | None]:
    """Choose an object's member by its `type`; other types (and no type) -> "other"."""

    def choose(value: Any) -> str | None:
        if not isinstance(value, dict):
            return None
        kind = value.get("type", default)
        # A non-string type (`{"type": {}}`) goes to "other", whose `type: str` rejects it.
        return kind if isinstance(kind, str) and kind in known else "other"

    return choose


def _object_or_str(value: Any) -> str | None:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        return "str"
    return None


StrOrStrList = _pick(
    {"str": str, "list": list[str]},
    _str_or_list,
    "Input should be a string or an array of strings",
)


# ---- OpenAI Chat Completions: request --------------------------------------------------


class TextPart(_Model):
    """A text content part."""

    type: Literal["text"] = Field(description='"text"')
    text: str = Field(description="The text.")


class ImageURL(_Model):
    """Where the image is."""

    url: str = Field(
        description="An http(s) URL, or a data URL: `data:image/png;base64,<data>`.",
    )
    detail: str | None = Field(None, description='"auto", "low" or "high".')


ImageURLValue = _pick(
    {"object": ImageURL, "str": str},
    _object_or_str,
    "Input should be an object with a url (or a URL string)",
)


class ImageURLPart(_Model):
    """An image content part (user and tool messages)."""

    type: Literal["image_url"] = Field(description='"image_url"')
    image_url: ImageURLValue = Field(description="The image; a bare URL string is accepted too.")


class InputAudio(_Model):
    """Base64-encoded audio."""

    data: str = Field(description="Base64-encoded audio data.")
    format: str = Field(description='"wav", "mp3", ...')


class InputAudioPart(_Model):
    """An audio content part (passed through to OpenAI-type upstreams only)."""

    type: Literal["input_audio"] = Field(description='"input_audio"')
    input_audio: InputAudio = Field(description="The audio.")


class FileRef(_Model):
    """A file, inline or by id."""

    file_data: str | None = Field(None, description="Base64-encoded file content.")
    file_id: str | None = Field(None, description="An uploaded file's id.")
    filename: str | None = Field(None, description="The file name.")


class FilePart(_Model):
    """A file content part (passed through to OpenAI-type upstreams only)."""

    type: Literal["file"] = Field(description='"file"')
    file: FileRef = Field(description="The file.")


class RefusalPart(_Model):
    """A refusal, in an earlier assistant message."""

    type: Literal["refusal"] = Field(description='"refusal"')
    refusal: str = Field(description="The refusal text.")


class OtherPart(_Model):
    """A content part of any other type: accepted here, the upstream decides."""

    type: str = Field(description="The part's type.")


ContentPart = _pick(
    {
        "text": TextPart,
        "image_url": ImageURLPart,
        "input_audio": InputAudioPart,
        "file": FilePart,
        "refusal": RefusalPart,
        "other": OtherPart,
    },
    _by_type(frozenset({"text", "image_url", "input_audio", "file", "refusal"})),
    "Input should be an object (a content part)",
)

ChatContent = _pick(
    {"str": str, "list": list[ContentPart]},
    _str_or_list,
    "Input should be a string or an array of content parts",
)


FunctionArguments = _pick(
    {"str": str, "object": dict[str, Any]},
    _object_or_str,
    "Input should be a string of JSON (or an object)",
)


class FunctionCall(_Model):
    """A function call: its name and arguments."""

    name: str = Field(description="The function's name.")
    arguments: FunctionArguments = Field(
        "", description="The arguments as a JSON string (an object is accepted too)."
    )


class ToolCall(_Model):
    """A tool call made by the assistant in an earlier turn."""

    id: str = Field(description="The call's id; the tool message answering it repeats it.")
    type: str = Field("function", description='"function"')
    function: FunctionCall = Field(description="What was called.")


class ChatMessage(_Model):
    """One message of the conversation.

    `system`/`developer` messages carry instructions, `user` messages text and images,
    `assistant` messages earlier replies (text and/or `tool_calls`), `tool` messages the
    result of a tool call (`tool_call_id`). `function` is the legacy form of `tool`.
    """

    role: Literal["system", "developer", "user", "assistant", "tool", "function"] = Field(
        description="Who wrote the message."
    )
    content: ChatContent | None = Field(
        None,
        description="A string, an array of content parts (text, image_url, ...), or null "
        "(an assistant message with only tool calls).",
    )
    name: str | None = Field(
        None, description="An optional participant name (the function name for `function`)."
    )
    tool_calls: list[ToolCall] | None = Field(
        None, description="Tool calls the assistant made (assistant messages)."
    )
    tool_call_id: str | None = Field(
        None, description="The id of the tool call this message answers (tool messages)."
    )
    function_call: FunctionCall | None = Field(
        None, description="Deprecated single function call (assistant messages)."
    )
    refusal: str | None = Field(None, description="The assistant's refusal, if any.")
    reasoning_content: str | None = Field(
        None, description="Reasoning text of an earlier assistant turn (DeepSeek-style)."
    )


class FunctionDefinition(_Model):
    """A function the model may call."""

    name: str = Field(description="The function's name.")
    description: str | None = Field(None, description="What the function does.")
    parameters: dict[str, Any] | None = Field(
        None, description="The arguments as a JSON Schema object."
    )
    strict: Bool | None = Field(None, description="Ask for strict schema adherence.")


class FunctionTool(_Model):
    """A function tool."""

    type: Literal["function"] = Field("function", description='"function"')
    function: FunctionDefinition = Field(description="The function.")


class OtherTool(_Model):
    """A tool of any other type (e.g. "custom"): accepted here, the upstream decides."""

    type: str = Field(description="The tool's type.")


ChatTool = _pick(
    {"function": FunctionTool, "other": OtherTool},
    _by_type(frozenset({"function"}), default="function"),
    "Input should be an object (a tool)",
)


class FunctionName(_Model):
    """Names a function."""

    name: str = Field(description="The function's name.")


class NamedToolChoice(_Model):
    """Forces one tool: `{"type": "function", "function": {"name": "..."}}`."""

    type: str = Field("function", description='"function"')
    function: FunctionName | None = Field(None, description="The function to call.")


ChatToolChoice = _pick(
    {"mode": Literal["none", "auto", "required"], "object": NamedToolChoice},
    lambda v: "mode" if isinstance(v, str) else "object" if isinstance(v, dict) else None,
    'Input should be "none", "auto", "required" or an object naming a function',
)


class StreamOptions(_Model):
    """Options for streamed responses."""

    include_usage: Bool | None = Field(
        None, description="Send a last chunk with token usage (and empty `choices`)."
    )


class JSONSchemaFormat(_Model):
    """A JSON Schema the reply must follow."""

    name: str = Field(description="The schema's name.")
    description: str | None = Field(None, description="What the schema is for.")
    schema_: dict[str, Any] | None = Field(
        None, alias="schema", description="The JSON Schema object."
    )
    strict: Bool | None = Field(None, description="Ask for strict schema adherence.")


class ResponseFormat(_Model):
    """The reply's format."""

    type: str = Field(description='"text", "json_object" or "json_schema".')
    json_schema: JSONSchemaFormat | None = Field(
        None, description='The schema, when type is "json_schema".'
    )


class ChatCompletionRequest(_Model):
    """An OpenAI Chat Completions request; any model of any configured provider.

    Unknown fields are accepted and passed on where the upstream understands them.
    """

    model: str = Field(
        min_length=1,
        description="provider-id:model-id, e.g. `my-openai:gpt-4o-mini` (split at the "
        "first colon). A bare model id is looked up among the enabled providers' models.",
        examples=["my-openai:gpt-4o-mini"],
    )
    messages: list[ChatMessage] = Field(
        min_length=1, description="The conversation so far, oldest first."
    )
    stream: Bool | None = Field(
        None,
        description="Stream the reply as server-sent events (text/event-stream) of "
        "ChatCompletionChunk objects, ended by `data: [DONE]`.",
    )
    stream_options: StreamOptions | None = Field(None, description="Streaming options.")
    max_tokens: Annotated[Int, Field(ge=1)] | None = Field(
        None, description="Most tokens to generate (older name of max_completion_tokens)."
    )
    max_completion_tokens: Annotated[Int, Field(ge=1)] | None = Field(
        None, description="Most tokens to generate, reasoning included; wins over max_tokens."
    )
    temperature: Annotated[Float, Field(ge=0, le=2)] | None = Field(
        None, description="Sampling temperature, 0 to 2."
    )
    top_p: Annotated[Float, Field(ge=0, le=1)] | None = Field(
        None, description="Nucleus sampling probability mass, 0 to 1."
    )
    top_k: Annotated[Int, Field(ge=0)] | None = Field(
        None, description="Sample from the k most likely tokens (an extension some servers use)."
    )
    n: Annotated[Int, Field(ge=1)] | None = Field(None, description="How many choices to generate.")
    stop: StrOrStrList | None = Field(
        None, description="Up to 4 sequences where generation stops: a string or an array."
    )
    presence_penalty: Annotated[Float, Field(ge=-2, le=2)] | None = Field(
        None, description="Penalty for tokens already present, -2 to 2."
    )
    frequency_penalty: Annotated[Float, Field(ge=-2, le=2)] | None = Field(
        None, description="Penalty proportional to token frequency, -2 to 2."
    )
    logit_bias: dict[str, Float] | None = Field(None, description="Token id -> bias (-100 to 100).")
    logprobs: Bool | None = Field(None, description="Return log probabilities.")
    top_logprobs: Annotated[Int, Field(ge=0, le=20)] | None = Field(
        None, description="How many most likely tokens to return per position, 0 to 20."
    )
    seed: Int | None = Field(None, description="Best-effort deterministic sampling.")
    user: str | None = Field(None, description="An end-user identifier.")
    tools: list[ChatTool] | None = Field(None, description="Tools the model may call.")
    tool_choice: ChatToolChoice | None = Field(
        None,
        description='"none", "auto", "required", or `{"type": "function", "function": '
        '{"name": "..."}}`.',
    )
    parallel_tool_calls: Bool | None = Field(
        None, description="Allow several tool calls in one turn."
    )
    response_format: ResponseFormat | None = Field(
        None, description="Ask for JSON (`json_object`) or JSON following a schema."
    )
    reasoning_effort: str | None = Field(
        None, description='Reasoning models: "minimal", "low", "medium" or "high".'
    )
    modalities: list[str] | None = Field(None, description='Output modalities, e.g. ["text"].')
    metadata: dict[str, Any] | None = Field(None, description="Key-value pairs for the request.")
    store: Bool | None = Field(None, description="OpenAI: store the completion.")
    service_tier: str | None = Field(None, description="OpenAI: the service tier to use.")


# ---- OpenAI Chat Completions: responses -----------------------------------------------


class PromptTokensDetails(_Model):
    """Details of the prompt tokens."""

    cached_tokens: int | None = Field(None, description="Prompt tokens read from a cache.")


class CompletionTokensDetails(_Model):
    """Details of the completion tokens."""

    reasoning_tokens: int | None = Field(None, description="Tokens spent on reasoning.")


class Usage(_Model):
    """Token usage."""

    prompt_tokens: int = Field(description="Tokens in the prompt.")
    completion_tokens: int = Field(description="Tokens generated.")
    total_tokens: int = Field(description="Their sum.")
    prompt_tokens_details: PromptTokensDetails | None = Field(None, description="Details.")
    completion_tokens_details: CompletionTokensDetails | None = Field(None, description="Details.")


class AssistantMessage(_Model):
    """The generated message."""

    role: Literal["assistant"] = Field(description='"assistant"')
    content: str | None = Field(description="The reply's text; null when it only calls tools.")
    refusal: str | None = Field(None, description="A refusal, if the model refused.")
    tool_calls: list[ToolCall] | None = Field(None, description="Tool calls, if any.")
    reasoning_content: str | None = Field(
        None, description="The model's reasoning, when the upstream returns it."
    )


FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]


class Choice(_Model):
    """One generated choice."""

    index: int = Field(description="The choice's index.")
    message: AssistantMessage = Field(description="The assistant's reply.")
    finish_reason: FinishReason | None = Field(description="Why generation stopped.")
    logprobs: dict[str, Any] | None = Field(None, description="Log probabilities, if asked.")


class ChatCompletion(_Model):
    """A Chat Completions response (non-streamed)."""

    id: str = Field(description="The completion's id.")
    object: Literal["chat.completion"] = Field(description='"chat.completion"')
    created: int = Field(description="Unix time of creation, in seconds.")
    model: str = Field(description="The model, as the client named it.")
    choices: list[Choice] = Field(description="The generated choices.")
    usage: Usage | None = Field(None, description="Token usage.")
    system_fingerprint: str | None = Field(None, description="The upstream's fingerprint.")


class FunctionCallDelta(_Model):
    """A piece of a function call."""

    name: str | None = Field(None, description="The function's name (first chunk).")
    arguments: str | None = Field(None, description="The next piece of the arguments' JSON.")


class ToolCallDelta(_Model):
    """A piece of a tool call."""

    index: int = Field(description="Which tool call of the message this continues.")
    id: str | None = Field(None, description="The call's id (first chunk).")
    type: Literal["function"] | None = Field(None, description='"function" (first chunk).')
    function: FunctionCallDelta | None = Field(None, description="The function piece.")


class ChoiceDelta(_Model):
    """What a chunk adds to the message."""

    role: Literal["assistant"] | None = Field(None, description="Set in the first chunk.")
    content: str | None = Field(None, description="The next piece of text.")
    reasoning_content: str | None = Field(None, description="The next piece of reasoning.")
    refusal: str | None = Field(None, description="The next piece of a refusal.")
    tool_calls: list[ToolCallDelta] | None = Field(None, description="Tool call pieces.")


class ChunkChoice(_Model):
    """A choice's progress in one chunk."""

    index: int = Field(description="The choice's index.")
    delta: ChoiceDelta = Field(description="What this chunk adds.")
    finish_reason: FinishReason | None = Field(None, description="Set in the choice's last chunk.")
    logprobs: dict[str, Any] | None = Field(None, description="Log probabilities, if asked.")


class ChatCompletionChunk(_Model):
    """One server-sent event of a streamed Chat Completions response.

    With `"stream": true` the response is `text/event-stream`: each event is a line
    `data: <ChatCompletionChunk JSON>` followed by a blank line; the stream ends with
    `data: [DONE]`. With `stream_options.include_usage` the last chunk before it has
    empty `choices` and the `usage`.
    """

    id: str = Field(description="The completion's id (the same in every chunk).")
    object: Literal["chat.completion.chunk"] = Field(description='"chat.completion.chunk"')
    created: int = Field(description="Unix time of creation, in seconds.")
    model: str = Field(description="The model, as the client named it.")
    choices: list[ChunkChoice] = Field(description="Progress of each choice.")
    usage: Usage | None = Field(None, description="Token usage (last chunk, when asked).")


class PromptFilterChunk(_Model):
    """Azure OpenAI's first streamed event: the content filters' verdict on the prompt.

    An OpenAI-format stream from an Azure upstream is relayed as is, so it may start
    with this event before the ChatCompletionChunks: empty `choices`, `id`, `object`
    and `model`.
    """

    id: str = Field(description='""')
    object: Literal[""] = Field(description='""')
    created: int = Field(description="0")
    model: str = Field(description='""')
    choices: list[ChunkChoice] = Field(description="Empty.")
    prompt_filter_results: list[dict[str, Any]] = Field(
        description="Per prompt: `prompt_index` and its `content_filter_results`."
    )


# ---- Anthropic Messages: request -------------------------------------------------------


class CacheControl(_Model):
    """Prompt caching breakpoint (honoured by Anthropic upstreams, ignored by others)."""

    type: str = Field("ephemeral", description='"ephemeral"')
    ttl: str | None = Field(None, description='"5m" or "1h".')


class TextBlock(_Model):
    """A text block."""

    type: Literal["text"] = Field(description='"text"')
    text: str = Field(description="The text.")
    cache_control: CacheControl | None = Field(None, description="Prompt caching.")
    citations: list[dict[str, Any]] | None = Field(None, description="Citations, if any.")


class Base64ImageSource(_Model):
    """An inline image."""

    type: Literal["base64"] = Field(description='"base64"')
    media_type: str | None = Field(
        None, description='"image/jpeg", "image/png", "image/gif" or "image/webp".'
    )
    data: str = Field(description="The base64-encoded image.")


class URLImageSource(_Model):
    """An image by URL."""

    type: Literal["url"] = Field(description='"url"')
    url: str = Field(description="The image's URL.")


class OtherSource(_Model):
    """Any other source type (e.g. "file"): accepted, carried only to Anthropic upstreams."""

    type: str = Field(description="The source's type.")


ImageSource = _pick(
    {"base64": Base64ImageSource, "url": URLImageSource, "other": OtherSource},
    _by_type(frozenset({"base64", "url"})),
    "Input should be an object (an image source)",
)


class ImageBlock(_Model):
    """An image block."""

    type: Literal["image"] = Field(description='"image"')
    source: ImageSource = Field(description="Where the image is.")
    cache_control: CacheControl | None = Field(None, description="Prompt caching.")


class DocumentBlock(_Model):
    """A document block (PDF or text); carried only to Anthropic upstreams."""

    type: Literal["document"] = Field(description='"document"')
    source: dict[str, Any] = Field(description="The document's source.")
    title: str | None = Field(None, description="The document's title.")
    context: str | None = Field(None, description="Context about the document.")
    citations: dict[str, Any] | None = Field(None, description="Citation settings.")
    cache_control: CacheControl | None = Field(None, description="Prompt caching.")


class ToolUseBlock(_Model):
    """A tool call the assistant made."""

    type: Literal["tool_use"] = Field(description='"tool_use"')
    id: str = Field(description="The call's id; the tool_result answering it repeats it.")
    name: str = Field(description="The tool's name.")
    input: dict[str, Any] | None = Field(None, description="The tool's arguments.")
    cache_control: CacheControl | None = Field(None, description="Prompt caching.")


class OtherBlock(_Model):
    """A block of any other type (server_tool_use, search_result, container_upload, ...):
    accepted; carried only to Anthropic upstreams."""

    type: str = Field(description="The block's type.")


ToolResultContentBlock = _pick(
    {"text": TextBlock, "image": ImageBlock, "document": DocumentBlock, "other": OtherBlock},
    _by_type(frozenset({"text", "image", "document"})),
    "Input should be an object (a content block)",
)


ToolResultContent = _pick(
    {"str": str, "list": list[ToolResultContentBlock]},
    _str_or_list,
    "Input should be a string or an array of content blocks",
)


class ToolResultBlock(_Model):
    """The result of a tool call, sent in a user message."""

    type: Literal["tool_result"] = Field(description='"tool_result"')
    tool_use_id: str = Field(description="The id of the tool_use block this answers.")
    content: ToolResultContent | None = Field(
        None, description="The result: a string or text/image blocks."
    )
    is_error: Bool | None = Field(None, description="The tool failed.")
    cache_control: CacheControl | None = Field(None, description="Prompt caching.")


class ThinkingBlock(_Model):
    """The assistant's earlier reasoning."""

    type: Literal["thinking"] = Field(description='"thinking"')
    thinking: str = Field(description="The reasoning text.")
    signature: str | None = Field(None, description="Its signature (Anthropic).")


class RedactedThinkingBlock(_Model):
    """Encrypted earlier reasoning."""

    type: Literal["redacted_thinking"] = Field(description='"redacted_thinking"')
    data: str = Field(description="The encrypted reasoning.")


ContentBlock = _pick(
    {
        "text": TextBlock,
        "image": ImageBlock,
        "document": DocumentBlock,
        "tool_use": ToolUseBlock,
        "tool_result": ToolResultBlock,
        "thinking": ThinkingBlock,
        "redacted_thinking": RedactedThinkingBlock,
        "other": OtherBlock,
    },
    _by_type(
        frozenset(
            {
                "text",
                "image",
                "document",
                "tool_use",
                "tool_result",
                "thinking",
                "redacted_thinking",
            }
        )
    ),
    "Input should be an object (a content block)",
)


MessageContent = _pick(
    {"str": str, "list": list[ContentBlock]},
    _str_or_list,
    "Input should be a string or an array of content blocks",
)


class InputMessage(_Model):
    """One turn of the conversation."""

    role: Literal["user", "assistant"] = Field(description='"user" or "assistant".')
    content: MessageContent = Field(description="A string, or an array of content blocks.")


SystemBlock = _pick(
    {"text": TextBlock, "other": OtherBlock},
    _by_type(frozenset({"text"})),
    "Input should be an object (a text block)",
)
SystemPrompt = _pick(
    {"str": str, "list": list[SystemBlock]},
    _str_or_list,
    "Input should be a string or an array of text blocks",
)


class CustomTool(_Model):
    """A client tool: the model calls it, the client runs it."""

    type: Literal["custom"] | None = Field(None, description='Absent or "custom".')
    name: str = Field(description="The tool's name.")
    description: str | None = Field(None, description="What the tool does.")
    input_schema: dict[str, Any] = Field(description="The input as a JSON Schema object.")
    cache_control: CacheControl | None = Field(None, description="Prompt caching.")


class ServerTool(_Model):
    """A server tool (`web_search_20250305`, `code_execution_...`, ...), identified by its
    versioned `type`; honoured by Anthropic upstreams, dropped for the others."""

    type: str = Field(description="The tool's versioned type.")
    name: str | None = Field(None, description="The tool's name.")


MessagesTool = _pick(
    {"custom": CustomTool, "server": ServerTool},
    lambda v: (
        None
        if not isinstance(v, dict)
        else "custom"
        if v.get("type") in (None, "custom")
        else "server"
    ),
    "Input should be an object (a tool)",
)


class ModeToolChoice(_Model):
    """`auto` (the model decides), `any` (some tool), or `none` (no tools)."""

    type: Literal["auto", "any", "none"] = Field(description='"auto", "any" or "none".')
    disable_parallel_tool_use: Bool | None = Field(
        None, description="At most one tool call per turn."
    )


class NamedToolChoiceBlock(_Model):
    """Forces the tool named `name`."""

    type: Literal["tool"] = Field(description='"tool"')
    name: str = Field(description="The tool to call.")
    disable_parallel_tool_use: Bool | None = Field(
        None, description="At most one tool call per turn."
    )


MessagesToolChoice = _pick(
    {"tool": NamedToolChoiceBlock, "mode": ModeToolChoice},
    lambda v: None if not isinstance(v, dict) else "tool" if v.get("type") == "tool" else "mode",
    "Input should be an object with a type",
)


class RequestMetadata(_Model):
    """Metadata about the request."""

    user_id: str | None = Field(None, description="An opaque end-user identifier.")


class ThinkingConfig(_Model):
    """Extended thinking."""

    type: str = Field(description='"enabled", "disabled" or "adaptive".')
    budget_tokens: Annotated[Int, Field(ge=1)] | None = Field(
        None, description="Tokens the model may spend thinking (enabled)."
    )


class _MessagesBody(_Model):
    model: str = Field(
        min_length=1,
        description="provider-id:model-id, e.g. `my-anthropic:claude-sonnet-4-5` (split at "
        "the first colon). On /{provider_id}/v1/messages a bare model id is enough. A bare "
        "id is otherwise looked up among the enabled providers' models.",
        examples=["my-anthropic:claude-sonnet-4-5"],
    )
    messages: list[InputMessage] = Field(
        min_length=1, description="The conversation, alternating user and assistant turns."
    )
    system: SystemPrompt | None = Field(
        None, description="System prompt: a string or text blocks (with cache_control)."
    )
    stream: Bool | None = Field(
        None,
        description="Stream the reply as server-sent events (text/event-stream): "
        "message_start, content_block_start/delta/stop, message_delta, message_stop.",
    )
    temperature: Annotated[Float, Field(ge=0, le=1)] | None = Field(
        None, description="Sampling temperature, 0 to 1."
    )
    top_p: Annotated[Float, Field(ge=0, le=1)] | None = Field(
        None, description="Nucleus sampling probability mass, 0 to 1."
    )
    top_k: Annotated[Int, Field(ge=0)] | None = Field(
        None, description="Sample from the k most likely tokens."
    )
    stop_sequences: list[str] | None = Field(None, description="Sequences where generation stops.")
    tools: list[MessagesTool] | None = Field(
        None, description="Tools: client tools ({name, description, input_schema}) or server tools."
    )
    tool_choice: MessagesToolChoice | None = Field(
        None,
        description='How tools are used: {"type": "auto" | "any" | "none"} or '
        '{"type": "tool", "name": "..."}.',
    )
    metadata: RequestMetadata | None = Field(None, description="Request metadata.")
    thinking: ThinkingConfig | None = Field(None, description="Extended thinking settings.")
    service_tier: str | None = Field(None, description='"auto" or "standard_only".')


class MessagesRequest(_MessagesBody):
    """An Anthropic Messages request; any model of any configured provider.

    Unknown fields, block types and tool types are accepted; `?beta=true` and the
    `anthropic-version`/`anthropic-beta` headers are accepted too.
    """

    max_tokens: Annotated[Int, Field(ge=1)] = Field(description="Most tokens to generate.")


class CountTokensRequest(_MessagesBody):
    """A token-counting request: a Messages request without `max_tokens`."""

    max_tokens: Annotated[Int, Field(ge=1)] | None = Field(
        None, description="Accepted and ignored."
    )


# ---- Anthropic Messages: responses -----------------------------------------------------


class AnthropicUsage(_Model):
    """Token usage."""

    input_tokens: int = Field(description="Input tokens (not read from or written to cache).")
    output_tokens: int = Field(description="Tokens generated.")
    cache_creation_input_tokens: int | None = Field(
        None, description="Input tokens written to the cache."
    )
    cache_read_input_tokens: int | None = Field(
        None, description="Input tokens read from the cache."
    )


ResponseBlock = _pick(
    {
        "text": TextBlock,
        "tool_use": ToolUseBlock,
        "thinking": ThinkingBlock,
        "redacted_thinking": RedactedThinkingBlock,
        "other": OtherBlock,
    },
    _by_type(frozenset({"text", "tool_use", "thinking", "redacted_thinking"})),
    "Input should be an object (a content block)",
)

StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"]


class Message(_Model):
    """An Anthropic Messages response (non-streamed)."""

    id: str = Field(description="The message's id.")
    type: Literal["message"] = Field(description='"message"')
    role: Literal["assistant"] = Field(description='"assistant"')
    content: list[ResponseBlock] = Field(description="text, tool_use and thinking blocks.")
    model: str = Field(description="The model, as the client named it.")
    stop_reason: StopReason | None = Field(description="Why generation stopped.")
    stop_sequence: str | None = Field(None, description="The stop sequence that matched.")
    usage: AnthropicUsage = Field(description="Tokens used by this request.")


class MessageStartEvent(_Model):
    """First event: the message with empty content."""

    type: Literal["message_start"] = Field(description='"message_start"')
    message: Message = Field(description="The message so far.")


class ContentBlockStartEvent(_Model):
    """A content block starts."""

    type: Literal["content_block_start"] = Field(description='"content_block_start"')
    index: int = Field(description="The block's index.")
    content_block: ResponseBlock = Field(description="The block, empty.")


class BlockDelta(_Model):
    """What a delta adds to its block."""

    type: Literal["text_delta", "input_json_delta", "thinking_delta", "signature_delta"] = Field(
        description="The kind of delta."
    )
    text: str | None = Field(None, description="text_delta: the next piece of text.")
    partial_json: str | None = Field(
        None, description="input_json_delta: the next piece of the tool input's JSON."
    )
    thinking: str | None = Field(None, description="thinking_delta: the next reasoning piece.")
    signature: str | None = Field(None, description="signature_delta: the signature.")


class ContentBlockDeltaEvent(_Model):
    """A content block grows."""

    type: Literal["content_block_delta"] = Field(description='"content_block_delta"')
    index: int = Field(description="The block's index.")
    delta: BlockDelta = Field(description="The delta.")


class ContentBlockStopEvent(_Model):
    """A content block is complete."""

    type: Literal["content_block_stop"] = Field(description='"content_block_stop"')
    index: int = Field(description="The block's index.")


class MessageDeltaBody(_Model):
    """Final message fields."""

    stop_reason: StopReason | None = Field(None, description="Why generation stopped.")
    stop_sequence: str | None = Field(None, description="The stop sequence that matched.")


class MessageDeltaUsage(_Model):
    """Cumulative usage."""

    output_tokens: int = Field(description="Tokens generated.")
    input_tokens: int | None = Field(None, description="Input tokens, when known.")


class MessageDeltaEvent(_Model):
    """The message's stop reason and final usage."""

    type: Literal["message_delta"] = Field(description='"message_delta"')
    delta: MessageDeltaBody = Field(description="Final fields.")
    usage: MessageDeltaUsage = Field(description="Usage.")


class MessageStopEvent(_Model):
    """Last event."""

    type: Literal["message_stop"] = Field(description='"message_stop"')


class PingEvent(_Model):
    """Keep-alive."""

    type: Literal["ping"] = Field(description='"ping"')


class AnthropicError(_Model):
    """What went wrong."""

    type: str = Field(
        description="invalid_request_error, authentication_error, permission_error, "
        "not_found_error, request_too_large, rate_limit_error, api_error, overloaded_error "
        "or timeout_error."
    )
    message: str = Field(description="A readable explanation.")


class ErrorEvent(_Model):
    """An error after the stream started (the HTTP status was already 200)."""

    type: Literal["error"] = Field(description='"error"')
    error: AnthropicError = Field(description="The error.")


_STREAM_EVENTS = {
    "message_start": MessageStartEvent,
    "content_block_start": ContentBlockStartEvent,
    "content_block_delta": ContentBlockDeltaEvent,
    "content_block_stop": ContentBlockStopEvent,
    "message_delta": MessageDeltaEvent,
    "message_stop": MessageStopEvent,
    "ping": PingEvent,
    "error": ErrorEvent,
}


MESSAGE_STREAM_EVENT_TYPES = tuple(_STREAM_EVENTS)
"""Each streamed Messages event's `type`, which is also its SSE `event:` name."""

StreamEvent = _pick(
    _STREAM_EVENTS,
    lambda v: v.get("type") if isinstance(v, dict) else None,
    "Input should be a stream event object",
)


class MessageStreamEvent(RootModel[StreamEvent]):
    """The data of one server-sent event of a streamed Messages response.

    With `"stream": true` the response is `text/event-stream`; each event is
    `event: <type>` then `data: <JSON>`, in this order: message_start, then for each
    content block content_block_start, content_block_delta..., content_block_stop, then
    message_delta and message_stop; ping may come at any time, error ends a failed stream.
    """


class CountTokensResponse(_Model):
    """The number of input tokens the request would use."""

    input_tokens: int = Field(
        description="Input tokens: counted by Anthropic upstreams, estimated for the others."
    )


# ---- shared: models, health, index, errors ---------------------------------------------


class Model(_Model):
    """A model of an enabled provider."""

    id: str = Field(
        description="provider-id:model-id, what to send as `model`.",
        examples=["my-openai:gpt-4o-mini"],
    )
    object: Literal["model"] = Field(description='"model"')
    name: str = Field(description="The model's display name.")
    created: int = Field(description="Unix time of creation (0 when unknown).")
    owned_by: str = Field(description="The provider's display name.")
    provider: str = Field(description="The provider's id.")
    provider_name: str = Field(description="The provider's display name.")
    provider_type: ProviderType = Field(description="The wire protocol the provider speaks.")
    provider_model_id: str = Field(description="The model's id at the provider.")


class ModelList(_Model):
    """The models of the enabled providers."""

    object: Literal["list"] = Field(description='"list"')
    data: list[Model] = Field(description="The models.")


class Health(_Model):
    """The gateway is up."""

    status: str = Field(description='"ok"', examples=["ok"])
    version: str = Field(description="cherry-nb's version.")
    uptime_seconds: float = Field(description="Seconds since the gateway started.")


class ServiceInfo(_Model):
    """What this server is and where its endpoints are."""

    name: str = Field(description="The service's name.")
    version: str = Field(description="cherry-nb's version.")
    endpoints: dict[str, str] = Field(
        description='Endpoint name -> "METHOD /path", e.g. "models": "GET /v1/models".'
    )


class OpenAIError(_Model):
    """What went wrong."""

    message: str = Field(description="A readable explanation.")
    type: str = Field(
        description="invalid_request_error, authentication_error, permission_error, "
        "not_found_error, rate_limit_error, api_error, ..."
    )
    param: str | None = Field(None, description="The offending field, e.g. messages.0.content.")
    code: str | int | None = Field(None, description="A machine-readable code, if any.")


class OpenAIErrorEnvelope(_Model):
    """An error, in OpenAI's envelope (OpenAI routes)."""

    error: OpenAIError = Field(description="The error.")


class AnthropicErrorEnvelope(_Model):
    """An error, in Anthropic's envelope (Messages routes)."""

    type: Literal["error"] = Field(description='"error"')
    error: AnthropicError = Field(description="The error.")


# ---- validation --------------------------------------------------------------------------


def validate_chat(body: Any) -> ChatCompletionRequest:
    """Validate a parsed POST /v1/chat/completions body; raises pydantic.ValidationError."""
    return ChatCompletionRequest.model_validate(body)


def validate_messages(body: Any) -> MessagesRequest:
    """Validate a parsed POST /v1/messages body; raises pydantic.ValidationError."""
    return MessagesRequest.model_validate(body)


def validate_count_tokens(body: Any) -> CountTokensRequest:
    """Validate a parsed POST /v1/messages/count_tokens body; raises pydantic.ValidationError."""
    return CountTokensRequest.model_validate(body)


# pydantic's wording for a few error types, in JSON's terms; others keep pydantic's message.
_MESSAGES: dict[str, str] = {
    "model_type": "Input should be an object",
    "model_attributes_type": "Input should be an object",
    "dict_type": "Input should be an object",
    "list_type": "Input should be an array",
    "missing": "Field required",
    "string_type": "Input should be a string",
    "int_type": "Input should be an integer",
    "float_type": "Input should be a number",
    "bool_type": "Input should be a boolean",
    "union_tag_invalid": "Input has an unsupported type",
    "union_tag_not_found": "Input needs a type",
}
# Error types whose pydantic message may quote the input get a generic one instead.
_GENERIC = "Input is invalid"
_QUOTING = frozenset({"json_invalid", "value_error", "assertion_error"})


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(
        str(part) for part in loc if not (isinstance(part, str) and part.startswith(_TAG_PREFIX))
    )


def validation_message(exc: ValidationError) -> tuple[str, str | None]:
    """(one readable sentence, the offending field's path) for a failed request.

    The sentence names the field, e.g. "messages.0.content: Input should be a string
    or an array of content parts.", and never contains the input value: bodies carry
    prompts and sometimes secrets. The path is None when the body as a whole is wrong.
    """
    errors = exc.errors(include_url=False, include_input=True, include_context=False)
    if not errors:
        return "The request body is invalid.", None
    first = errors[0]
    kind = first.get("type", "")
    message = _MESSAGES.get(kind) or (_GENERIC if kind in _QUOTING else first.get("msg", ""))
    message = _scrub(message.rstrip("."), first.get("input")) or _GENERIC
    path = _path(tuple(first.get("loc", ())))
    text = f"{path}: {message}." if path else f"The request body is invalid: {message}."
    if len(errors) > 1:
        more = len(errors) - 1
        text += f" ({more} more problem{'s' if more > 1 else ''} after this one.)"
    return text, path or None


def _scrub(message: str, value: Any) -> str:
    """`message`, or a generic one if it quotes the scalar input `value` (belt and braces)."""
    if isinstance(value, bool) or value is None:
        return message
    if isinstance(value, str | int | float):
        text = str(value)
        if len(text) >= 3 and text in message:
            return _GENERIC
    return message
