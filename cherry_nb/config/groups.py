"""What makes a model group valid to add or change: the registry's rules for groups.

The config file itself tolerates a member whose provider was later removed (the
resolver skips it, like a disabled one), so a hand edit or a deleted provider never
makes the file unreadable; adding or changing a group through the registry (code, CLI,
widget) is stricter, so a typo is caught when it is made.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, get_args

from .._exceptions import ConfigError
from .ids import check_id
from .models import GroupStrategy

STRATEGIES: tuple[str, ...] = get_args(GroupStrategy)


def check_group_id(group_id: Any, data: dict[str, Any]) -> str:
    """`group_id` if it can name a new group in `data` (a config dump)."""
    try:
        check_id(group_id)
    except ValueError as exc:
        raise ConfigError(f"Group id {group_id!r} {exc}.") from None
    if any(p["id"] == group_id for p in data["providers"]):
        raise ConfigError(
            f"{group_id!r} is a provider id; a group needs an id of its own "
            "(clients write it as `model`, or in the path, just like a provider id)."
        )
    return group_id


def check_members(members: Iterable[Any], data: dict[str, Any]) -> list[str]:
    """The members as `provider-id:model-id` strings of providers in `data`, in order."""
    items = [members] if isinstance(members, str) else list(members)
    if not items:
        raise ConfigError("A group needs at least one member, as provider-id:model-id.")
    ids = [p["id"] for p in data["providers"]]
    checked: list[str] = []
    for member in items:
        provider_id, sep, model = member.partition(":") if isinstance(member, str) else ("", "", "")
        if not sep or not model.strip():
            raise ConfigError(
                f"Group member {member!r} should be written as provider-id:model-id, "
                "e.g. my-openai:gpt-4o-mini."
            )
        if provider_id not in ids:
            raise ConfigError(
                f"Group member {member!r} names no configured provider "
                f"(providers: {', '.join(ids) or 'none yet'})."
            )
        if member in checked:
            raise ConfigError(f"Group member {member!r} is listed twice.")
        checked.append(member)
    return checked


def check_strategy(strategy: Any) -> str:
    if strategy not in STRATEGIES:
        raise ConfigError(f"Group strategy {strategy!r} is not one of: {', '.join(STRATEGIES)}.")
    return str(strategy)


def group_index(data: dict[str, Any], group_id: str) -> int:
    for index, group in enumerate(data["groups"]):
        if group["id"] == group_id:
            return index
    names = ", ".join(g["id"] for g in data["groups"]) or "none"
    raise ConfigError(f"No model group {group_id!r} (groups: {names}).")
