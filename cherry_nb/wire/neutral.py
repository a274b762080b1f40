"""The one internal representation every wire format converts to and from.

Pure data, no I/O. Dataclasses with slots rather than pydantic models because
these are built per stream chunk on the gateway's hot path.

Vocabulary follows Anthropic's where the formats differ (system prompt apart
from messages, tool results as parts of a user message, `end_turn` etc.),
because it is the richest of the three and the others map into it losslessly
for everything cherry_nb translates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

Role: TypeAlias = Literal["user", "assistant"]

StopReason: TypeAlias = Literal[
    "end_turn", "max_tokens", "stop_sequence", "tool_use", "content_filter", "error"
]


@dataclass(slots=True)
class Text:
    text: str


@dataclass(slots=True)
class Image:
    """An image given inline (`data`, base64 without the data: prefix) or by `url` —
    never a data: URL, which readers split into `data` and `media_type`."""

    media_type: str | None = None
    data: str | None = None
    url: str | None = None


@dataclass(slots=True)
class Document:
    """A document file — so far always a PDF — given inline (`data`, base64 without the
    data: prefix) or by `url` (never a data: URL: readers split those into `data` and
    `media_type`); `title` is its title or file name when the client gave one.

    Plain-text documents are not Documents: readers turn them into Text.
    """

    media_type: str = "application/pdf"
    data: str | None = None
    url: str | None = None
    title: str | None = None


@dataclass(slots=True)
class Reasoning:
    """Model "thinking" text and the upstream's signature over it (Anthropic's thinking
    `signature`, Gemini's `thoughtSignature`, OpenAI's `encrypted_content`; text may be
    empty when only a signature came). `origin` is the wire format whose upstream made
    the signature: builders send it back to that format only (upstreams need their
    signatures again on tool-call turns; another family's is refused). See
    `wire/_signatures.py`."""

    text: str
    signature: str | None = None
    origin: str | None = None


@dataclass(slots=True)
class ToolCall:
    """A call the assistant asks for; `arguments` is the parsed JSON object."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ToolResult:
    """The result of a ToolCall, sent back in a user message.

    `name` is the called tool's name when known (Gemini needs it; converters that
    build Gemini requests look it up from the matching ToolCall when it is None).
    """

    tool_call_id: str
    content: list[Text | Image | Document] = field(default_factory=list)
    is_error: bool = False
    name: str | None = None


Part: TypeAlias = Text | Image | Document | Reasoning | ToolCall | ToolResult


@dataclass(slots=True)
class Message:
    role: Role
    content: list[Part] = field(default_factory=list)


@dataclass(slots=True)
class Tool:
    """A function the model may call; `parameters` is a JSON Schema object."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object"})


@dataclass(slots=True)
class ToolChoice:
    """`auto`, `none`, `required` (any tool) or `tool` (the one named)."""

    mode: Literal["auto", "none", "required", "tool"] = "auto"
    name: str | None = None


@dataclass(slots=True)
class ResponseFormat:
    """Structured output: free `text`, any `json_object`, or JSON fitting `schema`.

    OpenAI's `response_format` / Responses' `text.format`, Anthropic's
    `output_config.format`, Gemini's `responseMimeType` + `responseJsonSchema`.
    """

    type: Literal["text", "json_object", "json_schema"] = "text"
    schema: dict[str, Any] | None = None
    name: str | None = None
    description: str | None = None
    strict: bool | None = None


#: Reasoning effort, in OpenAI's words (Anthropic's `output_config.effort` uses a subset).
ReasoningEffort: TypeAlias = Literal["none", "minimal", "low", "medium", "high", "xhigh"]


@dataclass(slots=True)
class ChatRequest:
    """A chat request; `model` is the upstream's bare model id.

    `dropped` names the client's fields the reader did not carry into this request
    (each listed in docs/translation.md); the gateway reports them to the client.
    """

    model: str
    messages: list[Message]
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] | None = None
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    stream: bool = False
    response_format: ResponseFormat | None = None
    reasoning_effort: ReasoningEffort | None = None
    #: A thinking budget in tokens (Anthropic `budget_tokens`, Gemini `thinkingBudget`);
    #: 0 turns thinking off where the upstream allows it.
    thinking_budget: int | None = None
    n: int | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    user: str | None = None
    parallel_tool_calls: bool | None = None
    dropped: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Usage:
    """Token counts. `input_tokens` counts every prompt token, cached ones included
    (OpenAI's and Gemini's meaning; Anthropic's converter adds its cache counts)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None


@dataclass(slots=True)
class Choice:
    """One further reply to a request for several (`n`, Gemini's `candidateCount`)."""

    content: list[Text | Reasoning | ToolCall]
    stop_reason: StopReason | None = "end_turn"


@dataclass(slots=True)
class ChatResponse:
    """A whole reply; `more_choices` holds the second and later choices when the request
    asked for several (the response itself is the first)."""

    id: str
    model: str
    content: list[Text | Reasoning | ToolCall]
    stop_reason: StopReason | None = "end_turn"
    usage: Usage = field(default_factory=Usage)
    more_choices: list[Choice] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The reply's text parts joined: what a notebook shows."""
        return "".join(p.text for p in self.content if isinstance(p, Text))


# ---- stream events -------------------------------------------------------------
# A stream is: StreamStart, then any mix of deltas, then exactly one StreamEnd.
# Tool calls are numbered by `index` (0, 1, ... in order of appearance within the
# reply); a ToolCallStart precedes that index's ToolCallDelta fragments, which
# concatenate to the arguments' JSON text.


@dataclass(slots=True)
class StreamStart:
    id: str
    model: str
    input_tokens: int | None = None


@dataclass(slots=True)
class TextDelta:
    text: str


@dataclass(slots=True)
class ReasoningDelta:
    """Reasoning text, or (text empty) the signature that closes the reasoning so far,
    and the wire format that made the signature (as `Reasoning.origin`)."""

    text: str
    signature: str | None = None
    origin: str | None = None


@dataclass(slots=True)
class ToolCallStart:
    index: int
    id: str
    name: str


@dataclass(slots=True)
class ToolCallDelta:
    index: int
    arguments: str


@dataclass(slots=True)
class StreamEnd:
    """The end of a reply; `stop_reason` None means the upstream never said why
    (a stream cut short)."""

    stop_reason: StopReason | None = "end_turn"
    usage: Usage | None = None


StreamEvent: TypeAlias = (
    StreamStart | TextDelta | ReasoningDelta | ToolCallStart | ToolCallDelta | StreamEnd
)
