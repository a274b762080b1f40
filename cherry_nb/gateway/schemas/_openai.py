"""OpenAI Chat Completions bodies: the request, the completion and its stream chunks."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Field, model_validator

from ._base import (
    Bool,
    Float,
    Int,
    StrOrStrList,
    _by_type,
    _Model,
    _object_or_str,
    _pick,
    _str_or_list,
    _tag,
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


ImageURLValue: TypeAlias = Annotated[
    Annotated[ImageURL, _tag("object")] | Annotated[str, _tag("str")],
    _pick(_object_or_str, "Input should be an object with a url (or a URL string)"),
]


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
    """A file content part. A PDF as `file_data` is translated for other upstreams (an
    Anthropic document, Gemini `inlineData`); a `file_id` reaches OpenAI-type ones only."""

    type: Literal["file"] = Field(description='"file"')
    file: FileRef = Field(description="The file.")


class RefusalPart(_Model):
    """A refusal, in an earlier assistant message."""

    type: Literal["refusal"] = Field(description='"refusal"')
    refusal: str = Field(description="The refusal text.")


class OtherPart(_Model):
    """A content part of any other type: accepted here, the upstream decides."""

    type: str = Field(description="The part's type.")


ContentPart: TypeAlias = Annotated[
    Annotated[TextPart, _tag("text")]
    | Annotated[ImageURLPart, _tag("image_url")]
    | Annotated[InputAudioPart, _tag("input_audio")]
    | Annotated[FilePart, _tag("file")]
    | Annotated[RefusalPart, _tag("refusal")]
    | Annotated[OtherPart, _tag("other")],
    _pick(
        _by_type(frozenset({"text", "image_url", "input_audio", "file", "refusal"})),
        "Input should be an object (a content part)",
    ),
]

ChatContent: TypeAlias = Annotated[
    Annotated[str, _tag("str")] | Annotated[list[ContentPart], _tag("list")],
    _pick(_str_or_list, "Input should be a string or an array of content parts"),
]


FunctionArguments: TypeAlias = Annotated[
    Annotated[str, _tag("str")] | Annotated[dict[str, Any], _tag("object")],
    _pick(_object_or_str, "Input should be a string of JSON (or an object)"),
]


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

    @model_validator(mode="after")
    def _answers_a_call(self) -> ChatMessage:
        """A tool message names the call it answers, as the API requires."""
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs tool_call_id")
        return self


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


ChatTool: TypeAlias = Annotated[
    Annotated[FunctionTool, _tag("function")] | Annotated[OtherTool, _tag("other")],
    _pick(
        _by_type(frozenset({"function"}), default="function"),
        "Input should be an object (a tool)",
    ),
]


class FunctionName(_Model):
    """Names a function."""

    name: str = Field(description="The function's name.")


class NamedToolChoice(_Model):
    """Forces one tool: `{"type": "function", "function": {"name": "..."}}`."""

    type: str = Field("function", description='"function"')
    function: FunctionName | None = Field(None, description="The function to call.")


ChatToolChoice: TypeAlias = Annotated[
    Annotated[Literal["none", "auto", "required"], _tag("mode")]
    | Annotated[NamedToolChoice, _tag("object")],
    _pick(
        lambda v: "mode" if isinstance(v, str) else "object" if isinstance(v, dict) else None,
        'Input should be "none", "auto", "required" or an object naming a function',
    ),
]


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
        "first colon). A bare model id is looked up among the enabled providers' models. "
        "Or a model group's id: its members are tried by the group's strategy, the next "
        "one when a member fails before answering.",
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
