"""OpenAI Responses API bodies: the request the gateway validates, and the reply and
stream events it documents.

Only the fields the gateway reads are typed; items and parts are checked by the wire
converter, which names the offending one (`input[2].content[0].type`) when it cannot
translate it, and passed through untouched to a Responses upstream.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Field

from ._base import Bool, Float, Int, _Model, _pick, _str_or_list, _tag


class TextFormat(_Model):
    """Structured output: `{"type": "json_schema", "name": ..., "schema": {...}}`,
    `{"type": "json_object"}` or `{"type": "text"}`."""

    type: Literal["text", "json_object", "json_schema"] = Field(description="The format.")
    name: str | None = Field(None, description="json_schema: the schema's name.")
    schema_: dict[str, Any] | None = Field(
        None, alias="schema", description="json_schema: the JSON Schema the reply must fit."
    )
    strict: Bool | None = Field(None, description="json_schema: enforce the schema strictly.")


class TextConfig(_Model):
    """How the reply's text is shaped."""

    format: TextFormat | None = Field(None, description="Structured output.")


class ReasoningConfig(_Model):
    """Reasoning asked of the model; translated to Anthropic thinking or Gemini's config."""

    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = Field(
        None, description="How hard the model thinks."
    )
    summary: str | None = Field(None, description="Reasoning summaries (OpenAI's own).")


InputValue: TypeAlias = Annotated[
    Annotated[str, _tag("str")] | Annotated[list[dict[str, Any]], _tag("list")],
    _pick(_str_or_list, "Input should be a string or an array of input items"),
]


class ResponsesRequest(_Model):
    """An OpenAI Responses API request; any model of any configured provider.

    The gateway keeps no state: `store` is always false for translated requests, and
    `previous_response_id` works only where the upstream itself speaks the Responses
    API (it keeps the state); otherwise send the whole conversation in `input`.
    """

    model: str = Field(
        min_length=1,
        description="provider-id:model-id, e.g. `my-openai:gpt-5` (split at the first "
        "colon). A bare model id is looked up among the enabled providers' models. "
        "Or a model group's id: its members are tried by the group's strategy, the next "
        "one when a member fails before answering.",
        examples=["my-openai:gpt-5"],
    )
    input: InputValue = Field(
        description="A string (one user message) or an array of items: messages, "
        "function_call, function_call_output and reasoning items."
    )
    instructions: str | None = Field(None, description="A system prompt.")
    stream: Bool | None = Field(
        None,
        description="Stream the reply as typed server-sent events (response.created ... "
        "response.completed).",
    )
    max_output_tokens: Annotated[Int, Field(ge=1)] | None = Field(
        None, description="Most tokens to generate, reasoning included."
    )
    temperature: Annotated[Float, Field(ge=0, le=2)] | None = Field(
        None, description="Sampling temperature, 0 to 2."
    )
    top_p: Annotated[Float, Field(ge=0, le=1)] | None = Field(
        None, description="Nucleus sampling probability mass, 0 to 1."
    )
    tools: list[dict[str, Any]] | None = Field(
        None, description="Function tools: `{type: function, name, description, parameters}`."
    )
    tool_choice: str | dict[str, Any] | None = Field(
        None, description='"auto", "none", "required" or `{type: function, name}`.'
    )
    parallel_tool_calls: Bool | None = Field(None, description="Allow several calls at once.")
    text: TextConfig | None = Field(None, description="Text output options.")
    reasoning: ReasoningConfig | None = Field(None, description="Reasoning options.")
    store: Bool | None = Field(
        None, description="Ignored: the gateway never stores responses (as with false)."
    )
    previous_response_id: str | None = Field(
        None, description="Only for upstreams that speak the Responses API themselves."
    )


# ---- replies ---------------------------------------------------------------------------

RESPONSE_STREAM_EVENT_TYPES: tuple[str, ...] = (
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
    "response.reasoning_summary_part.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
    "response.completed",
    "response.incomplete",
    "response.failed",
    "error",
)
"""The typed events a translated Responses stream holds (an upstream that speaks the
Responses API itself may send others, passed through)."""


class InputTokensDetails(_Model):
    """Where the prompt's tokens came from."""

    cached_tokens: int = Field(description="Prompt tokens read from the upstream's cache.")


class OutputTokensDetails(_Model):
    """What the generated tokens were spent on."""

    reasoning_tokens: int = Field(description="Tokens spent reasoning.")


class ResponseUsage(_Model):
    """Token counts of a response."""

    input_tokens: int = Field(description="Prompt tokens, cached ones included.")
    input_tokens_details: InputTokensDetails = Field(description="Cached prompt tokens.")
    output_tokens: int = Field(description="Generated tokens, reasoning included.")
    output_tokens_details: OutputTokensDetails = Field(description="Reasoning tokens.")
    total_tokens: int = Field(description="input_tokens + output_tokens.")


class ResponseObject(_Model):
    """A response: the Responses API's `response` object, as the official SDKs read it."""

    id: str = Field(description="`resp_...`.")
    object: Literal["response"] = Field(description='"response"')
    created_at: int = Field(description="Unix time the response was created.")
    status: Literal["completed", "incomplete", "failed", "in_progress"] = Field(
        description="`incomplete` when max_output_tokens (or a content filter) cut it short."
    )
    model: str = Field(description="The model, as the request named it.")
    output: list[dict[str, Any]] = Field(
        description="Output items in order: `reasoning` (summary texts), `message` "
        "(output_text parts) and `function_call` (call_id, name, arguments as JSON text)."
    )
    usage: ResponseUsage | None = Field(None, description="Token counts.")
    incomplete_details: dict[str, Any] | None = Field(
        None, description='Why it is incomplete: `{"reason": "max_output_tokens"}`.'
    )
    error: dict[str, Any] | None = Field(None, description="What failed, for `failed`.")


class ResponseStreamEvent(_Model):
    """One typed event of a streamed response; its other fields are those of its type."""

    type: str = Field(description="The event's type, e.g. `response.output_text.delta`.")
    sequence_number: int = Field(description="The event's place in the stream, from 0.")


class InputTokenCount(_Model):
    """How many input tokens a Responses request would use (estimated by the gateway)."""

    object: Literal["response.input_tokens"] = Field(description='"response.input_tokens"')
    input_tokens: int = Field(description="The estimated input tokens.")
