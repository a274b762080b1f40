"""What the format packages share beyond the neutral types: made-up ids, inline media
(data: URLs, the media type of a base64 image). Pure."""

from __future__ import annotations

import uuid

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
