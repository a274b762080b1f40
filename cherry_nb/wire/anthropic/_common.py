"""What every part of the format uses: field checks whose errors name the dotted path,
compact JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._exceptions import WireFormatError
from ..._json import compact_json

_dumps = compact_json

FORMAT = "anthropic"
"""This format's name (`wire.formats`), the origin of the signatures its upstreams make."""


def _fail(param: str, problem: str) -> WireFormatError:
    return WireFormatError(f"{param}: {problem}", param=param)


def _get(
    obj: Mapping[str, Any], key: str, types: Any, what: str, path: str = "", required: bool = False
) -> Any:
    """obj[key] if it is absent/null (and optional) or of `types`; else WireFormatError."""
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, types) or (isinstance(value, bool) and types is not bool):
        raise _fail(f"{path}.{key}" if path else key, f"must be {what}.")
    return value
