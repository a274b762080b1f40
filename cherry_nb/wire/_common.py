"""What the format packages share beyond the neutral types: made-up ids, the media type
of a base64 image. Pure."""

from __future__ import annotations

import uuid

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
