"""Embeddings as OpenAI (and Azure) and Gemini put them on the wire, with deterministic vectors.

Hand-written, independent of `cherry_nb.wire`, like the other protocol modules. A
vector is a pure function of (model, input, dimensions), which tests call through
`embedding_vector` to know what any route should return:

- the model's native dimension (`DIMENSIONS`, 16 for any other embedding model) of
  bytes from SHAKE-256 over the model name and the input, mapped to [-1, 1) and scaled
  to unit length;
- a smaller `dimensions` (OpenAI) or `outputDimensionality` (Gemini) keeps the first
  values and scales them to unit length again, as OpenAI's text-embedding-3 models do;
- every value is a float32, so a float reply and a base64 one hold the same numbers.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .plan import InvalidRequestError, dumps, text_tokens

__all__ = [
    "DIMENSIONS",
    "EMBEDDING_MODELS",
    "EmbeddingAsk",
    "embedding_vector",
    "gemini_reply",
    "openai_reply",
    "parse_gemini",
    "parse_openai",
]

EMBEDDING_MODELS: tuple[str, ...] = ("sim-embed", "sim-embed-large")
DIMENSIONS: dict[str, int] = {"sim-embed": 16, "sim-embed-large": 48}
DEFAULT_DIMENSION = 16
MAX_INPUTS = 2048  # OpenAI's limit per request
MAX_BATCH = 100  # Gemini's limit per batchEmbedContents request

Input = str | list[int]


def native_dimension(model: str) -> int:
    return DIMENSIONS.get(model, DEFAULT_DIMENSION)


def _float32(value: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _unit(values: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [_float32(v / norm) for v in values]


def embedding_vector(model: str, item: Input, dimensions: int | None = None) -> list[float]:
    """The simulator's embedding of `item` (a text or token ids) by `model`."""
    size = native_dimension(model)
    key = item if isinstance(item, str) else "tokens:" + ",".join(map(str, item))
    digest = hashlib.shake_256(f"{model}\0{key}".encode()).digest(4 * size)
    raw = [n / 2**31 - 1.0 for n in struct.unpack(f">{size}I", digest)]
    return _unit(raw[: dimensions or size])


def _usage(inputs: Sequence[Input]) -> int:
    return sum(text_tokens(len(i)) if isinstance(i, str) else len(i) for i in inputs)


@dataclass(slots=True)
class EmbeddingAsk:
    """One embeddings request, whatever its protocol: inputs and the size of each vector."""

    model: str
    inputs: list[Input]
    dimensions: list[int | None]
    base64: bool = False

    def vectors(self) -> list[list[float]]:
        return [
            embedding_vector(self.model, item, size)
            for item, size in zip(self.inputs, self.dimensions, strict=True)
        ]


def _check_dimensions(value: Any, model: str, name: str) -> int | None:
    if value is None:
        return None
    native = native_dimension(model)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= native:
        raise InvalidRequestError(
            f"Invalid value for '{name}': must be an integer from 1 to {native} for {model}.",
            param=name,
            code="invalid_value",
        )
    return value


# -- OpenAI and Azure ----------------------------------------------------------------


def _is_tokens(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(t, int) and not isinstance(t, bool) for t in value)
    )


def parse_openai(body: dict[str, Any], *, deployment: str | None = None) -> EmbeddingAsk:
    """Validate a `POST /v1/embeddings` body (Azure: the deployment names the model)."""
    model = deployment if deployment is not None else body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequestError("you must provide a model parameter")
    value = body.get("input")
    if value is None:
        raise InvalidRequestError(
            "Missing required parameter: 'input'.", param="input", code="missing_required_parameter"
        )
    if isinstance(value, str) or _is_tokens(value):
        inputs: list[Input] = [value]
    elif (
        isinstance(value, list)
        and 0 < len(value) <= MAX_INPUTS
        and (all(isinstance(i, str) for i in value) or all(_is_tokens(i) for i in value))
    ):
        inputs = list(value)
    else:
        raise InvalidRequestError(
            "'$.input' is invalid. Please check the API reference: "
            "https://platform.openai.com/docs/api-reference.",
            param="input",
            code="invalid_value",
        )
    if any(i == "" for i in inputs):
        raise InvalidRequestError(
            "'$.input' is invalid: an input is an empty string.", param="input"
        )
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64", None):
        raise InvalidRequestError(
            f"Invalid value: '{encoding}'. Supported values are: 'float' and 'base64'.",
            param="encoding_format",
            code="invalid_value",
        )
    size = _check_dimensions(body.get("dimensions"), model, "dimensions")
    return EmbeddingAsk(model, inputs, [size] * len(inputs), encoding == "base64")


def openai_reply(ask: EmbeddingAsk) -> bytes:
    """OpenAI's embeddings list; base64 vectors are little-endian float32 bytes."""
    data = []
    for index, vector in enumerate(ask.vectors()):
        embedding: Any = vector
        if ask.base64:
            embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = _usage(ask.inputs)
    return dumps(
        {
            "object": "list",
            "data": data,
            "model": ask.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    ).encode()


# -- Gemini ----------------------------------------------------------------------------


def parse_gemini(body: dict[str, Any], model: str) -> EmbeddingAsk:
    """Validate a `models/{model}:batchEmbedContents` body."""
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise InvalidRequestError("* BatchEmbedContentsRequest.requests: requests is required")
    if len(requests) > MAX_BATCH:
        raise InvalidRequestError(
            f"* BatchEmbedContentsRequest.requests: at most {MAX_BATCH} requests can be in one "
            "batch"
        )
    texts: list[Input] = []
    sizes: list[int | None] = []
    for index, request in enumerate(requests):
        where = f"BatchEmbedContentsRequest.requests[{index}]"
        if not isinstance(request, dict):
            raise InvalidRequestError(f"* {where}: must be an object")
        if request.get("model") != f"models/{model}":
            raise InvalidRequestError(
                f"* {where}.model: model in the request does not match the model in the URL "
                f"(models/{model})"
            )
        content = request.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        if not isinstance(parts, list) or not parts:
            raise InvalidRequestError(f"* {where}.content: content with parts is required")
        text = "".join(
            p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
        if not text:
            raise InvalidRequestError(f"* {where}.content: text content is empty")
        texts.append(text)
        size = request.get("outputDimensionality", request.get("output_dimensionality"))
        sizes.append(_check_dimensions(size, model, f"{where}.outputDimensionality"))
    return EmbeddingAsk(model, texts, sizes)


def gemini_reply(ask: EmbeddingAsk) -> bytes:
    """Gemini's `{"embeddings": [{"values": [...]}, ...]}` (no usage: Gemini sends none)."""
    return dumps({"embeddings": [{"values": vector} for vector in ask.vectors()]}).encode()
