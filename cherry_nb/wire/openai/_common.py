"""What every part of the format uses: errors naming a field, call ids, compact JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cherry_nb._exceptions import WireFormatError
from cherry_nb._json import compact_json
from cherry_nb.wire._common import new_id


def _fail(message: str, param: str | None) -> WireFormatError:
    return WireFormatError(message, param=param)


_dumps = compact_json


def _required_str(obj: Mapping[str, Any], key: str, param: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise _fail(f"`{key}` is required and must be a non-empty string.", param)
    return value


def _call_id() -> str:
    return new_id("call_")
