"""What the format packages share beyond the neutral types: made-up ids, inline media
(data: URLs, the media type of a base64 image), type rules for top-level request fields.
Pure."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import WireFormatError

_IMAGE_TYPE_BY_PREFIX = (
    ("iVBORw0KGgo", "image/png"),
    ("/9j/", "image/jpeg"),
    ("R0lGOD", "image/gif"),
    ("UklGR", "image/webp"),
)
"""Base64 openings (magic numbers) of the image formats every upstream accepts."""


def new_id(prefix: str) -> str:
    """`prefix` + 24 random hex digits: an id for a reply, stream or call that has none."""
    return prefix + uuid.uuid4().hex[:24]


def image_media_type(data: str) -> str:
    """The media type of a base64 image by its opening bytes, for an image that came
    without one; image/png when they are not a PNG, JPEG, GIF or WebP opening."""
    for prefix, media_type in _IMAGE_TYPE_BY_PREFIX:
        if data.startswith(prefix):
            return media_type
    return "image/png"


def split_data_url(url: str, param: str) -> tuple[str | None, str] | None:
    """A `data:` URL -> (its media type, None if it names none; its base64 data), so that
    readers hand on inline data and neutral parts never hold a data: URL; None for any
    other URL.

    A data: URL that is not base64 (`data:image/svg+xml,%3Csvg...`) or holds no data is a
    WireFormatError naming `param`: sent on as base64 it would be garbage, and no upstream
    fetches a data: URL. Media type parameters (`;charset=...`) are dropped.
    """
    if url[:5].lower() != "data:":
        return None
    header, comma, data = url[5:].partition(",")
    if not comma or not data or header[-7:].lower() != ";base64":
        raise WireFormatError(
            f"{param}: a data: URL must be base64, as `data:<media type>;base64,<data>`.",
            param=param,
        )
    return header[:-7].split(";", 1)[0] or None, data


@dataclass(frozen=True, slots=True)
class FieldRule:
    """The JSON type (and range, items, keys) a request field must have, if present."""

    types: type | tuple[type, ...]
    what: str  # "a number from 0 to 2", for the error message
    low: float | None = None
    high: float | None = None
    items: type | tuple[type, ...] | None = None  # an array's items, an object's values
    fields: Mapping[str, FieldRule] | None = None  # an object's keys, checked if present
    required: bool = False  # inside `fields`: the key must be there, and not null

    def problem(self, value: Any, param: str) -> tuple[str, str] | None:
        """(param, what it must be) if `value` breaks the rule, else None."""
        if isinstance(value, bool) and not (self.types is bool or bool in _as_tuple(self.types)):
            return param, self.what
        if not isinstance(value, self.types):
            return param, self.what
        checked: Any = value  # iterated only with `items` (an array), compared with a range
        if self.items is not None:
            items = checked.values() if isinstance(checked, Mapping) else checked
            if not all(_is(item, self.items) for item in items):
                return param, self.what
        if (self.low is not None and checked < self.low) or (
            self.high is not None and checked > self.high
        ):
            return param, self.what
        for key, rule in (self.fields or {}).items():
            inner = checked.get(key)
            if inner is None:
                if rule.required:
                    return f"{param}.{key}", rule.what
                continue
            if (found := rule.problem(inner, f"{param}.{key}")) is not None:
                return found
        return None


def _is(value: Any, types: type | tuple[type, ...]) -> bool:
    """isinstance, except that a boolean is not a number."""
    if isinstance(value, bool):
        return types is bool or bool in _as_tuple(types)
    return isinstance(value, types)


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


NUMBER = (int, float)
OBJECT = Mapping
STRING = FieldRule(str, "a string")
REQUIRED_STRING = FieldRule(str, "a string", required=True)
BOOLEAN = FieldRule(bool, "a boolean")


#: The scalar kinds `optional_scalar` checks, by the words its error uses.
SCALARS: dict[str, type | tuple[type, ...]] = {
    "an integer": int,
    "a number": (int, float),
    "a boolean": bool,
}


def optional_scalar(body: Mapping[str, Any], key: str, kind: str) -> Any:
    """`body[key]` if absent, null or a scalar of the SCALARS `kind` (a bool is never a
    number); else the WireFormatError naming the field."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, SCALARS[kind]) and isinstance(value, bool) == (kind == "a boolean"):
        return value
    raise WireFormatError(f"`{key}` must be {kind}.", param=key)


def check_fields(
    body: Mapping[str, Any],
    rules: Mapping[str, FieldRule],
    carried: frozenset[str],
    fail: Callable[[str, str], WireFormatError],
) -> list[str]:
    """The top-level fields of `body` not in `carried` (for `ChatRequest.dropped`), after
    refusing a present, non-null field that breaks its rule; `fail(param, problem)` makes
    the format's own error. Fields a reader does not carry are still type-checked, so a
    body gets the same answer whichever upstream it goes to. One pass over the body."""
    dropped = []
    for key, value in body.items():
        rule = rules.get(key)
        if rule is not None and value is not None:
            if (found := rule.problem(value, key)) is not None:
                raise fail(found[0], f"must be {found[1]}.")
        if key not in carried:
            dropped.append(key)
    return dropped


def parse_arguments(value: Any, param: str) -> dict[str, Any]:
    """A function call's `arguments` JSON text -> dict (OpenAI's Chat Completions and
    Responses alike); empty text means no arguments, and an object (Ollama and friends
    sometimes send one) is taken as it is."""
    if isinstance(value, Mapping):
        return dict(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if not isinstance(value, str):
        raise WireFormatError("`arguments` must be a string of JSON.", param=param)
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise WireFormatError(f"`arguments` is not valid JSON ({exc}).", param=param) from None
    if not isinstance(parsed, dict | None):
        raise WireFormatError("`arguments` must encode a JSON object.", param=param)
    return parsed or {}
