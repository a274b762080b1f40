"""`{name}` interpolation of a %%chat body from the user namespace. Pure.

`interpolate_parts` also puts images where `{fig}` names one (a Figure or a
PIL Image, recognised and converted by the callables it is given), splitting
the text around them. Only bare identifiers are looked up — nothing in the body is ever evaluated —
so `{x + 1}` or `{json}`-like text in a prompt is left as written; `{{` and
`}}` are literal braces; undefined names stay as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

P = TypeVar("P")

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = match.group(1)
        if name in namespace and not name.startswith("_"):
            return str(namespace[name])
        return token

    return _TOKEN.sub(replace, text)


def interpolate_parts(
    text: str,
    namespace: Mapping[str, Any],
    is_image: Callable[[Any], bool],
    to_part: Callable[[Any], P],
) -> tuple[str, list[tuple[int, P]]]:
    """Interpolate `text`; a `{name}` naming an image becomes an image part instead.

    Returns the text (images left out) and each image with the offset in that
    text where it stood, so the caller can interleave text and image parts.
    """
    images: list[tuple[int, P]] = []
    out: list[str] = []
    length = 0
    position = 0
    for match in _TOKEN.finditer(text):
        piece = text[position : match.start()]
        out.append(piece)
        length += len(piece)
        position = match.end()
        name = match.group(1)
        value = namespace.get(name) if name and not name.startswith("_") else None
        if name and value is not None and is_image(value):
            images.append((length, to_part(value)))
            continue
        piece = interpolate(match.group(0), namespace)
        out.append(piece)
        length += len(piece)
    out.append(text[position:])
    return "".join(out), images
