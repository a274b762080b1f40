"""Embeddings: OpenAI's request and reply, Gemini's `batchEmbedContents`, base64 vectors.

OpenAI's format is what gateway clients speak. An upstream that speaks it too gets the
client's body unchanged (the gateway's passthrough); these converters are for the
others, and for `Adapter.embed`, which speaks to any upstream whose kind declares an
embeddings endpoint. `FORMATS` holds one request builder and one reply reader per wire
format that has embeddings.

Policies:
- Gemini embeds text only: token-array inputs are refused (a 400 naming the input),
  never detokenized by guesswork. `user` has no Gemini field and is dropped (listed in
  `EmbeddingRequest.dropped`).
- Gemini's reply carries no token usage: `prompt_tokens` is estimated at one token per
  four characters (rounded up, per input), the same rule as count_tokens' estimate.
- `encoding_format: "base64"` is honoured by whoever builds the OpenAI reply: each
  vector as little-endian float32 bytes, base64-encoded, which is what OpenAI sends and
  what its SDKs decode.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from .._exceptions import WireFormatError

__all__ = [
    "FORMATS",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "EmbeddingsFormat",
    "decode_base64",
    "encode_base64",
    "estimate_tokens",
    "parse_openai_request",
    "build_openai_response",
]

EncodingFormat: TypeAlias = Literal["float", "base64"]
#: One input: a text, or the token ids of one (OpenAI's pre-tokenized form).
EmbeddingInput: TypeAlias = str | list[int]

MAX_INPUTS = 2048
"""OpenAI's limit on the inputs of one request (Gemini's batch allows fewer: 100)."""
_CHARS_PER_TOKEN = 4


@dataclass(slots=True)
class EmbeddingRequest:
    """What to embed, whatever format asked: inputs in order, and the options."""

    model: str
    inputs: list[EmbeddingInput]
    dimensions: int | None = None
    encoding_format: EncodingFormat = "float"
    user: str | None = None
    #: The client's fields the target format could not carry.
    dropped: list[str] = field(default_factory=list)


@dataclass(slots=True)
class EmbeddingResponse:
    """One vector per input, in the inputs' order."""

    model: str
    vectors: list[list[float]]
    prompt_tokens: int


@dataclass(frozen=True, slots=True)
class EmbeddingsFormat:
    """How one wire format asks for embeddings and answers."""

    build_request: Callable[[EmbeddingRequest], dict[str, Any]]
    parse_response: Callable[[Mapping[str, Any], EmbeddingRequest], EmbeddingResponse]


# ---- OpenAI ------------------------------------------------------------------------


def parse_openai_request(body: Mapping[str, Any]) -> EmbeddingRequest:
    """An OpenAI `POST /v1/embeddings` body, checked; WireFormatError names the field."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise WireFormatError("`model` is required.", param="model")
    asked = body.get("encoding_format")
    encoding: EncodingFormat = "base64" if asked == "base64" else "float"
    if asked not in (None, "float", "base64"):
        raise WireFormatError(
            '`encoding_format` must be "float" or "base64".', param="encoding_format"
        )
    dimensions = body.get("dimensions")
    if dimensions is not None and (not _is_int(dimensions) or dimensions < 1):
        raise WireFormatError("`dimensions` must be a positive integer.", param="dimensions")
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise WireFormatError("`user` must be a string.", param="user")
    return EmbeddingRequest(model, _inputs(body.get("input")), dimensions, encoding, user)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _inputs(value: Any) -> list[EmbeddingInput]:
    """OpenAI's `input` as a list: a string, strings, token ids, or arrays of token ids."""
    if isinstance(value, str):
        return [_text(value, "input")]
    if not isinstance(value, list) or not value:
        raise WireFormatError(
            "`input` must be a string or a non-empty array of strings or of token arrays.",
            param="input",
        )
    if len(value) > MAX_INPUTS:
        raise WireFormatError(
            f"`input` holds {len(value)} items; at most {MAX_INPUTS} are allowed.", param="input"
        )
    if all(_is_int(item) for item in value):
        return [list(value)]  # one input, as token ids
    inputs: list[EmbeddingInput] = []
    for index, item in enumerate(value):
        where = f"input.{index}"
        if isinstance(item, str):
            inputs.append(_text(item, where))
        elif isinstance(item, list) and item and all(_is_int(token) for token in item):
            inputs.append(list(item))
        else:
            raise WireFormatError(
                f"`{where}` must be a string or a non-empty array of token ids (integers); "
                "one request's inputs are all strings or all token arrays.",
                param=where,
            )
    return inputs


def _text(value: str, where: str) -> str:
    if not value:
        raise WireFormatError(
            f"`{where}` is an empty string: there is nothing to embed.", param=where
        )
    return value


def build_openai_request(request: EmbeddingRequest) -> dict[str, Any]:
    """An OpenAI embeddings body asking for floats (what `parse_openai_response` reads)."""
    inputs = request.inputs
    body: dict[str, Any] = {
        "model": request.model,
        "input": inputs[0] if len(inputs) == 1 and isinstance(inputs[0], str) else inputs,
        "encoding_format": "float",
    }
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    if request.user is not None:
        body["user"] = request.user
    return body


def parse_openai_response(body: Mapping[str, Any], request: EmbeddingRequest) -> EmbeddingResponse:
    """An OpenAI embeddings reply (float or base64 vectors), in the inputs' order."""
    data = body.get("data")
    if not isinstance(data, list):
        raise WireFormatError("the embeddings reply has no `data` list")
    vectors: list[list[float] | None] = [None] * len(data)
    for position, item in enumerate(data):
        if not isinstance(item, dict):
            raise WireFormatError(f"data[{position}] is not an object")
        index = item.get("index", position)
        if not _is_int(index) or not 0 <= index < len(data) or vectors[index] is not None:
            raise WireFormatError(f"data[{position}] has a missing, repeated or wrong index")
        embedding = item.get("embedding")
        vectors[index] = (
            decode_base64(embedding) if isinstance(embedding, str) else _floats(embedding, position)
        )
    _expect(len(data), request)
    usage = body.get("usage")
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    if not isinstance(tokens, int) or isinstance(tokens, bool):
        tokens = estimate_tokens(request.inputs)
    model = body.get("model")
    return EmbeddingResponse(
        model if isinstance(model, str) else request.model,
        [vector for vector in vectors if vector is not None],
        tokens,
    )


def build_openai_response(response: EmbeddingResponse, encoding: EncodingFormat) -> dict[str, Any]:
    """OpenAI's reply: a list of embeddings (floats, or base64 float32 strings)."""
    return {
        "object": "list",
        "data": [
            {
                "object": "embedding",
                "index": index,
                "embedding": encode_base64(vector) if encoding == "base64" else vector,
            }
            for index, vector in enumerate(response.vectors)
        ],
        "model": response.model,
        "usage": {"prompt_tokens": response.prompt_tokens, "total_tokens": response.prompt_tokens},
    }


# ---- Gemini ------------------------------------------------------------------------


def build_gemini_request(request: EmbeddingRequest) -> dict[str, Any]:
    """Gemini's `batchEmbedContents` body: one request per input, each naming the model."""
    requests = []
    for index, item in enumerate(request.inputs):
        if not isinstance(item, str):
            where = "input" if len(request.inputs) == 1 else f"input.{index}"
            raise WireFormatError(
                f"`{where}` holds token ids; Gemini embeds text only: send the text instead.",
                param=where,
            )
        entry: dict[str, Any] = {
            "model": f"models/{request.model}",
            "content": {"parts": [{"text": item}]},
        }
        if request.dimensions is not None:
            entry["outputDimensionality"] = request.dimensions
        requests.append(entry)
    if request.user is not None and "user" not in request.dropped:
        request.dropped.append("user")
    return {"requests": requests}


def parse_gemini_response(body: Mapping[str, Any], request: EmbeddingRequest) -> EmbeddingResponse:
    """Gemini's `{"embeddings": [{"values": [...]}]}`, one per input; tokens estimated."""
    embeddings = body.get("embeddings")
    if not isinstance(embeddings, list):
        raise WireFormatError("the batchEmbedContents reply has no `embeddings` list")
    vectors = []
    for index, item in enumerate(embeddings):
        values = item.get("values") if isinstance(item, dict) else None
        vectors.append(_floats(values, index))
    _expect(len(vectors), request)
    return EmbeddingResponse(request.model, vectors, estimate_tokens(request.inputs))


# ---- shared ------------------------------------------------------------------------


def _floats(values: Any, index: int) -> list[float]:
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        raise WireFormatError(f"embedding {index} is not an array of numbers")
    return [float(v) for v in values]


def _expect(count: int, request: EmbeddingRequest) -> None:
    if count != len(request.inputs):
        raise WireFormatError(
            f"the reply holds {count} embeddings for {len(request.inputs)} inputs"
        )


def estimate_tokens(inputs: Sequence[EmbeddingInput]) -> int:
    """Token ids count as given; texts as one token per four characters, rounded up."""
    return sum(
        math.ceil(len(item) / _CHARS_PER_TOKEN) if isinstance(item, str) else len(item)
        for item in inputs
    )


def encode_base64(vector: Sequence[float]) -> str:
    """A vector as OpenAI's base64 encoding_format: little-endian float32, base64."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def decode_base64(text: str) -> list[float]:
    """`encode_base64`'s inverse; WireFormatError for text that is not such a vector."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise WireFormatError("an embedding is a string but not base64") from None
    if len(raw) % 4:
        raise WireFormatError("a base64 embedding is not a whole number of float32 values")
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


FORMATS: Mapping[str, EmbeddingsFormat] = {
    "openai": EmbeddingsFormat(build_openai_request, parse_openai_response),
    "gemini": EmbeddingsFormat(build_gemini_request, parse_gemini_response),
}
"""The embeddings converters of each wire format that has them (see `config/kinds.py`:
every kind that declares an embeddings endpoint speaks one of these)."""
