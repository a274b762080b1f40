"""OpenAI Embeddings bodies: the request and the list of vectors."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from annotated_types import Len
from pydantic import Field

from ._base import Int, _Model, _pick, _tag

MAX_INPUTS = 2048
"""OpenAI's limit on the inputs of one request."""


def _input_kind(value: Any) -> str | None:
    """Which form of `input` a value is, judged by its first item (JSON arrays are uniform)."""
    if isinstance(value, str):
        return "str"
    if not isinstance(value, list):
        return None
    first = value[0] if value else ""
    if isinstance(first, list):
        return "token_arrays"
    if isinstance(first, int) and not isinstance(first, bool):
        return "tokens"
    return "strings"


TokenArray: TypeAlias = Annotated[list[Int], Len(1)]

EmbeddingInput: TypeAlias = Annotated[
    Annotated[str, _tag("str")]
    | Annotated[list[str], Len(1, MAX_INPUTS), _tag("strings")]
    | Annotated[TokenArray, _tag("tokens")]
    | Annotated[list[TokenArray], Len(1, MAX_INPUTS), _tag("token_arrays")],
    _pick(
        _input_kind,
        "Input should be a string, an array of strings, an array of token ids or an array "
        "of token arrays",
    ),
]


class EmbeddingsRequest(_Model):
    """An OpenAI embeddings request, for any model whose provider has an embeddings
    endpoint (OpenAI-compatible, Azure OpenAI, Gemini)."""

    model: str = Field(
        min_length=1,
        description="provider-id:model-id (a bare model id on /{provider_id}/v1/embeddings).",
        examples=["my-openai:text-embedding-3-small"],
    )
    input: EmbeddingInput = Field(
        description="What to embed: a string, an array of strings (up to 2048), or token "
        "ids (an array of integers, or an array of such arrays). Gemini upstreams take "
        "text only."
    )
    encoding_format: Literal["float", "base64"] | None = Field(
        None,
        description='"float" (default): arrays of numbers; "base64": each vector as '
        "little-endian float32 bytes, base64-encoded (what the OpenAI SDKs ask for and "
        "decode by default).",
    )
    dimensions: Annotated[Int, Field(ge=1)] | None = Field(
        None,
        description="Shorten the vectors to this many dimensions, where the model can "
        "(Gemini: outputDimensionality).",
    )
    user: str | None = Field(
        None, description="An end-user id for the upstream's abuse monitoring (not sent to Gemini)."
    )


class Embedding(_Model):
    """One input's vector."""

    object: Literal["embedding"] = Field(description='"embedding"')
    index: int = Field(description="The input's position in `input`.")
    embedding: list[float] | str = Field(
        description="The vector: numbers, or a base64 string with encoding_format base64."
    )


class EmbeddingUsage(_Model):
    """Tokens the inputs used."""

    prompt_tokens: int = Field(
        description="Input tokens: the upstream's count, or for Gemini (which reports none) "
        "an estimate of one token per four characters."
    )
    total_tokens: int = Field(description="The same as prompt_tokens.")


class EmbeddingList(_Model):
    """The vectors, one per input, in the inputs' order."""

    object: Literal["list"] = Field(description='"list"')
    data: list[Embedding] = Field(description="One embedding per input.")
    model: str = Field(description="The model that embedded them.")
    usage: EmbeddingUsage = Field(description="Token usage.")
