"""What the format packages share beyond the neutral types: made-up ids, inline media
(data: URLs, the media type of a base64 image), type rules for top-level request fields.
Pure."""

from __future__ import annotations

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
    """The JSON type (and range) a top-level request field must have, if present."""

    types: type | tuple[type, ...]
    what: str  # "a number from 0 to 2", for the error message
    low: float | None = None
    high: float | None = None

    def allows(self, value: Any) -> bool:
        if isinstance(value, bool) and not (self.types is bool or bool in _as_tuple(self.types)):
            return False
        if not isinstance(value, self.types):
            return False
        number: Any = value  # compared only when the rule has a range, i.e. is numeric
        if self.low is not None and number < self.low:
            return False
        return self.high is None or number <= self.high


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


NUMBER = (int, float)
OBJECT = Mapping


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
        if rule is not None and value is not None and not rule.allows(value):
            raise fail(key, f"must be {rule.what}.")
        if key not in carried:
            dropped.append(key)
    return dropped
