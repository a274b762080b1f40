"""Anthropic Messages bodies: the request, token counting, the message and its events."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Field, RootModel

from ._base import Bool, Float, Int, _by_type, _Model, _pick, _str_or_list, _tag

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
    """Any other source type (e.g. "file"): accepted; only Anthropic upstreams can use it,
    other upstreams refuse it with a 400."""

    type: str = Field(description="The source's type.")


ImageSource: TypeAlias = Annotated[
    Annotated[Base64ImageSource, _tag("base64")]
    | Annotated[URLImageSource, _tag("url")]
    | Annotated[OtherSource, _tag("other")],
    _pick(_by_type(frozenset({"base64", "url"})), "Input should be an object (an image source)"),
]


class ImageBlock(_Model):
    """An image block."""

    type: Literal["image"] = Field(description='"image"')
    source: ImageSource = Field(description="Where the image is.")
    cache_control: CacheControl | None = Field(None, description="Prompt caching.")


class DocumentBlock(_Model):
    """A document block: a PDF (base64 or URL) or text. Translated for other upstreams: a
    PDF to OpenAI `file` parts or Gemini `inlineData`, text to text."""

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
    passed to Anthropic upstreams. For others, the opaque blocks clients replay
    (redacted_thinking, server-tool blocks) and unknown blocks in assistant turns are
    dropped (named in the x-cherry-nb-dropped header); other types are refused (400)."""

    type: str = Field(description="The block's type.")


ToolResultContentBlock: TypeAlias = Annotated[
    Annotated[TextBlock, _tag("text")]
    | Annotated[ImageBlock, _tag("image")]
    | Annotated[DocumentBlock, _tag("document")]
    | Annotated[OtherBlock, _tag("other")],
    _pick(
        _by_type(frozenset({"text", "image", "document"})),
        "Input should be an object (a content block)",
    ),
]


ToolResultContent: TypeAlias = Annotated[
    Annotated[str, _tag("str")] | Annotated[list[ToolResultContentBlock], _tag("list")],
    _pick(_str_or_list, "Input should be a string or an array of content blocks"),
]


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


ContentBlock: TypeAlias = Annotated[
    Annotated[TextBlock, _tag("text")]
    | Annotated[ImageBlock, _tag("image")]
    | Annotated[DocumentBlock, _tag("document")]
    | Annotated[ToolUseBlock, _tag("tool_use")]
    | Annotated[ToolResultBlock, _tag("tool_result")]
    | Annotated[ThinkingBlock, _tag("thinking")]
    | Annotated[RedactedThinkingBlock, _tag("redacted_thinking")]
    | Annotated[OtherBlock, _tag("other")],
    _pick(
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
    ),
]


MessageContent: TypeAlias = Annotated[
    Annotated[str, _tag("str")] | Annotated[list[ContentBlock], _tag("list")],
    _pick(_str_or_list, "Input should be a string or an array of content blocks"),
]


class InputMessage(_Model):
    """One turn of the conversation."""

    role: Literal["user", "assistant", "system"] = Field(
        description='"user" or "assistant"; "system" for instructions given mid-conversation '
        "(text only), which join the system prompt in order when translated."
    )
    content: MessageContent = Field(description="A string, or an array of content blocks.")


SystemBlock: TypeAlias = Annotated[
    Annotated[TextBlock, _tag("text")] | Annotated[OtherBlock, _tag("other")],
    _pick(_by_type(frozenset({"text"})), "Input should be an object (a text block)"),
]
SystemPrompt: TypeAlias = Annotated[
    Annotated[str, _tag("str")] | Annotated[list[SystemBlock], _tag("list")],
    _pick(_str_or_list, "Input should be a string or an array of text blocks"),
]


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


MessagesTool: TypeAlias = Annotated[
    Annotated[CustomTool, _tag("custom")] | Annotated[ServerTool, _tag("server")],
    _pick(
        lambda v: (
            None
            if not isinstance(v, dict)
            else "custom"
            if v.get("type") in (None, "custom")
            else "server"
        ),
        "Input should be an object (a tool)",
    ),
]


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


class OtherToolChoice(_Model):
    """A kind of choice newer than this document: passed to Anthropic upstreams as is,
    refused when the request is translated."""

    type: str = Field(description="The choice's type.")


_TOOL_CHOICE_MODES = frozenset({"auto", "any", "none"})


def _tool_choice_tag(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if kind == "tool":
        return "tool"
    return "other" if isinstance(kind, str) and kind not in _TOOL_CHOICE_MODES else "mode"


MessagesToolChoice: TypeAlias = Annotated[
    Annotated[NamedToolChoiceBlock, _tag("tool")]
    | Annotated[ModeToolChoice, _tag("mode")]
    | Annotated[OtherToolChoice, _tag("other")],
    _pick(_tool_choice_tag, "Input should be an object with a type"),
]


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
        "id is otherwise looked up among the enabled providers' models. "
        "Or a model group's id: its members are tried by the group's strategy, the next "
        "one when a member fails before answering.",
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
    thinking: ThinkingConfig | None = Field(
        None,
        description='Thinking: {"type": "adaptive"}, "enabled" (with budget_tokens) or "disabled".',
    )
    output_config: dict[str, Any] | None = Field(
        None, description="Output settings: `effort` and `format` (structured output)."
    )
    context_management: dict[str, Any] | None = Field(
        None, description="Context editing (honoured by Anthropic upstreams)."
    )
    cache_control: CacheControl | None = Field(None, description="Prompt caching, request-wide.")
    mcp_servers: list[Any] | None = Field(
        None, description="MCP servers (Anthropic upstreams only)."
    )
    container: str | dict[str, Any] | None = Field(
        None, description="A code-execution container (Anthropic upstreams only)."
    )
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


ResponseBlock: TypeAlias = Annotated[
    Annotated[TextBlock, _tag("text")]
    | Annotated[ToolUseBlock, _tag("tool_use")]
    | Annotated[ThinkingBlock, _tag("thinking")]
    | Annotated[RedactedThinkingBlock, _tag("redacted_thinking")]
    | Annotated[OtherBlock, _tag("other")],
    _pick(
        _by_type(frozenset({"text", "tool_use", "thinking", "redacted_thinking"})),
        "Input should be an object (a content block)",
    ),
]

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


MESSAGE_STREAM_EVENT_TYPES = (
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
)
"""Each streamed Messages event's `type`, which is also its SSE `event:` name."""

StreamEvent: TypeAlias = Annotated[
    Annotated[MessageStartEvent, _tag("message_start")]
    | Annotated[ContentBlockStartEvent, _tag("content_block_start")]
    | Annotated[ContentBlockDeltaEvent, _tag("content_block_delta")]
    | Annotated[ContentBlockStopEvent, _tag("content_block_stop")]
    | Annotated[MessageDeltaEvent, _tag("message_delta")]
    | Annotated[MessageStopEvent, _tag("message_stop")]
    | Annotated[PingEvent, _tag("ping")]
    | Annotated[ErrorEvent, _tag("error")],
    _pick(
        lambda v: v.get("type") if isinstance(v, dict) else None,
        "Input should be a stream event object",
    ),
]


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
