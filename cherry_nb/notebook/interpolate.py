"""`{name}` interpolation of a %%chat body from the user namespace. Pure.

Only bare identifiers are looked up — nothing in the body is ever evaluated —
so `{x + 1}` or `{json}`-like text in a prompt is left as written; `{{` and
`}}` are literal braces; undefined names stay as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

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
