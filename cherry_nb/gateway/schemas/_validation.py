"""Request validation for the routes, and the one-sentence message for a bad body.

`validation_message` names the field that failed and never quotes its value: bodies
carry prompts and sometimes secrets.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ._anthropic import CountTokensRequest, MessagesRequest
from ._base import _TAG_PREFIX
from ._embeddings import EmbeddingsRequest
from ._openai import ChatCompletionRequest
from ._responses import ResponsesRequest


def validate_chat(body: Any) -> ChatCompletionRequest:
    """Validate a parsed POST /v1/chat/completions body; raises pydantic.ValidationError."""
    return ChatCompletionRequest.model_validate(body)


def validate_messages(body: Any) -> MessagesRequest:
    """Validate a parsed POST /v1/messages body; raises pydantic.ValidationError."""
    return MessagesRequest.model_validate(body)


def validate_responses(body: Any) -> ResponsesRequest:
    """Validate a parsed POST /v1/responses body; raises pydantic.ValidationError."""
    return ResponsesRequest.model_validate(body)


def validate_count_tokens(body: Any) -> CountTokensRequest:
    """Validate a parsed POST /v1/messages/count_tokens body; raises pydantic.ValidationError."""
    return CountTokensRequest.model_validate(body)


def validate_embeddings(body: Any) -> EmbeddingsRequest:
    """Validate a parsed POST /v1/embeddings body; raises pydantic.ValidationError."""
    return EmbeddingsRequest.model_validate(body)


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
