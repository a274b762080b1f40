"""What every part of the format uses: errors naming a field, item ids, compact JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cherry_nb._exceptions import UntranslatableError, WireFormatError
from cherry_nb._json import compact_json
from cherry_nb.wire._common import new_id

_dumps = compact_json

FORMAT = "responses"
"""This format's name (`wire.formats`), the origin of the signatures its upstreams make."""


def _fail(message: str, param: str | None) -> WireFormatError:
    return WireFormatError(message, param=param)


def _untranslatable(message: str, param: str | None) -> UntranslatableError:
    """Valid Responses input that only a Responses upstream can take (refused when
    translating, passed through to an `openai-response` upstream)."""
    return UntranslatableError(message, param=param)


def _required_str(obj: Mapping[str, Any], key: str, param: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise _fail(f"`{key}` is required and must be a non-empty string.", param)
    return value


def _response_id(upstream_id: str) -> str:
    """A `resp_` id: the upstream's own when it is one, else made from it (or anew)."""
    if upstream_id.startswith("resp_"):
        return upstream_id
    return "resp_" + upstream_id if upstream_id else new_id("resp_")


def _item_id(prefix: str) -> str:
    """An output item's id (`msg_`, `fc_`, `rs_`): items have ids of their own."""
    return new_id(prefix)
