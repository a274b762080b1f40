"""Images for the prompt: `{fig}` (a matplotlib Figure or a PIL Image in the user
namespace) and `--image PATH`, as neutral Image parts (base64 PNG/JPEG/...).

Duck-typed, so neither matplotlib nor Pillow is a dependency: a Figure has
`savefig`, a PIL Image has `save` and `mode`.
"""

from __future__ import annotations

import base64
import io
import mimetypes
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError
from ..wire.neutral import Image

IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
MAX_IMAGE_BYTES = 20 * 1024 * 1024  # beyond what any provider accepts inline


def is_image(value: Any) -> bool:
    """A matplotlib Figure or a PIL Image (classes are not imported to check)."""
    if isinstance(value, type):
        return False
    figure = callable(getattr(value, "savefig", None)) and hasattr(value, "axes")
    pil = callable(getattr(value, "save", None)) and hasattr(value, "mode")
    return figure or pil


def image_of(value: Any) -> Image:
    """A Figure or PIL Image as a PNG part."""
    buffer = io.BytesIO()
    if callable(getattr(value, "savefig", None)):
        value.savefig(buffer, format="png", bbox_inches="tight")
    else:
        image = value if value.mode in ("RGB", "RGBA", "L", "LA", "P") else value.convert("RGBA")
        image.save(buffer, format="PNG")
    return Image(media_type="image/png", data=base64.b64encode(buffer.getvalue()).decode())


def image_file(path: str | Path) -> Image:
    """An image file as a part; ConfigError says what is wrong with it."""
    file = Path(path).expanduser()
    media_type = mimetypes.guess_type(file.name)[0]
    if media_type not in IMAGE_TYPES:
        raise ConfigError(
            f"--image {path}: use a PNG, JPEG, GIF or WebP file (models take only those)."
        )
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"--image {path}: {exc.strerror or type(exc).__name__}.") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ConfigError(f"--image {path}: {len(data) // 1_000_000} MB is more than models take.")
    return Image(media_type=media_type, data=base64.b64encode(data).decode())
