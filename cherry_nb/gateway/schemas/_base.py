"""What every body model shares: the base model, strict scalars and tagged unions.

Unions are tagged by a function (see `_pick`), never tried member by member: a bad value
then gives one error whose location follows the JSON document, which
`validation_message` can name. Scalars are strict (no "1" for 1, no true for 1), like
the wire converters that read the same bodies after validation.

A tagged union is written out, so that type checkers see its members too:

    Value: TypeAlias = Annotated[
        Annotated[Thing, _tag("object")] | Annotated[str, _tag("str")],
        _pick(_object_or_str, "Input should be ..."),
    ]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Discriminator, Strict, Tag

# Strict scalars: JSON numbers and booleans only (a float field still takes an integer).
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]


class _Model(BaseModel):
    """Base of every body model: unknown fields are kept, never rejected."""

    model_config = ConfigDict(extra="allow")


# ---- tagged unions -------------------------------------------------------------------

_TAG_PREFIX = "~"
"""Union tags appear in error locations; this prefix lets `validation_message` drop them."""


def _tag(name: str) -> Tag:
    """The tag of a `_pick` union's member that `choose` names `name`."""
    return Tag(_TAG_PREFIX + name)


def _pick(choose: Callable[[Any], str | None], error: str) -> Discriminator:
    """The discriminator of a union whose members are tagged with `_tag`: `choose(value)`
    names the member to use.

    `choose` returns None when no member can fit; the value then fails with `error`.
    """

    def tag_of(value: Any) -> str | None:
        tag = choose(value)
        # A tag taken from the body (e.g. a `type` that is an object) may be anything.
        return _TAG_PREFIX + tag if isinstance(tag, str) else None

    return Discriminator(tag_of, custom_error_type="invalid_type", custom_error_message=error)


def _str_or_list(value: Any) -> str | None:
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return None


def _by_type(known: frozenset[str], default: str | None = None) -> Callable[[Any], str | None]:
    """Choose an object's member by its `type`; other types (and no type) -> "other"."""

    def choose(value: Any) -> str | None:
        if not isinstance(value, dict):
            return None
        kind = value.get("type", default)
        # A non-string type (`{"type": {}}`) goes to "other", whose `type: str` rejects it.
        return kind if isinstance(kind, str) and kind in known else "other"

    return choose


def _object_or_str(value: Any) -> str | None:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        return "str"
    return None


StrOrStrList: TypeAlias = Annotated[
    Annotated[str, _tag("str")] | Annotated[list[str], _tag("list")],
    _pick(_str_or_list, "Input should be a string or an array of strings"),
]
