"""What every part of the format uses: errors naming a field, ids, compact JSON."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from cherry_nb._exceptions import WireFormatError
from cherry_nb._json import compact_json


def _fail(message: str, param: str | None) -> WireFormatError:
    return WireFormatError(message, param=param)


_dumps = compact_json


def _new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


def _required_str(obj: Mapping[str, Any], key: str, param: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise _fail(f"`{key}` is required and must be a non-empty string.", param)
    return value


def _call_id() -> str:
    return _new_id("call_")
