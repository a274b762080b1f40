"""What every part of the format uses: camelCase or snake_case field reads, checks whose
errors name the field, lenient reads of upstream data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..._exceptions import WireFormatError

FORMAT = "gemini"
"""This format's name (`wire.formats`), the origin of the signatures its upstreams make."""

# The REST API accepts proto field names in snake_case as well as camelCase.
_CAMEL_FIELDS = (
    "systemInstruction inlineData mimeType fileData fileUri functionCall functionResponse "
    "thoughtSignature generationConfig maxOutputTokens topP topK stopSequences toolConfig "
    "functionCallingConfig allowedFunctionNames functionDeclarations parametersJsonSchema "
    "responseMimeType responseSchema responseJsonSchema thinkingConfig thinkingBudget "
    "thinkingLevel includeThoughts candidateCount presencePenalty frequencyPenalty "
    "safetySettings cachedContent responseModalities speechConfig responseLogprobs "
    "mediaResolution"
).split()
_SNAKE: dict[str, str] = {k: re.sub(r"([A-Z])", r"_\1", k).lower() for k in _CAMEL_FIELDS}


def _get(obj: Mapping[str, Any], key: str) -> Any:
    """`obj[key]` under its camelCase or snake_case spelling."""
    value = obj.get(key)
    if value is None and key in _SNAKE:
        value = obj.get(_SNAKE[key])
    return value


def _mapping(value: Any, param: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise WireFormatError(f"{param} must be an object", param=param)
    return value


def _list(value: Any, param: str) -> list[Any]:
    if not isinstance(value, list):
        raise WireFormatError(f"{param} must be an array", param=param)
    return value


def _string(value: Any, param: str) -> str:
    if not isinstance(value, str) or not value:
        raise WireFormatError(f"{param} must be a non-empty string", param=param)
    return value


def _obj(value: Any) -> Mapping[str, Any]:
    """Upstream data read leniently: anything but an object counts as empty."""
    return value if isinstance(value, Mapping) else {}


def _optional_id(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
