"""`cherry-nb groups`: list, add, set and remove model groups.

A group is one name for an ordered pool of `provider-id:model-id` members; clients
send the group id as `model` (or put it in the path) and the gateway tries the
members by the group's strategy. The registry validates; this only prints.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .config.groups import STRATEGIES


def add_arguments(groups: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    gsub = groups.add_subparsers(dest="action", metavar="ACTION")
    gsub.add_parser("list", help="list the model groups", parents=[common])
    add = gsub.add_parser("add", help="add a group: ID MEMBER...", parents=[common])
    add.add_argument("group_id", metavar="ID")
    add.add_argument("members", nargs="+", metavar="MEMBER", help="provider-id:model-id")
    add.add_argument("--strategy", choices=STRATEGIES, default="fallback")
    change = gsub.add_parser(
        "set", help="replace a group's members (and/or its strategy)", parents=[common]
    )
    change.add_argument("group_id", metavar="ID")
    change.add_argument("members", nargs="*", metavar="MEMBER", help="provider-id:model-id")
    change.add_argument("--strategy", choices=STRATEGIES)
    remove = gsub.add_parser("remove", help="delete a group", parents=[common])
    remove.add_argument("group_id", metavar="ID")


def run(registry: Any, args: argparse.Namespace) -> int:
    if args.action == "add":
        group = registry.add_group(args.group_id, args.members, strategy=args.strategy)
        print(f"Added group {group.id} ({group.strategy}): {', '.join(group.models)}.")
        print(f'Clients send "model": "{group.id}", or use the path /{group.id}/v1/...')
        return 0
    if args.action == "set":
        if not args.members and args.strategy is None:
            print(
                "cherry-nb: say what to change: new members (provider-id:model-id ...) "
                "and/or --strategy.",
                file=sys.stderr,
            )
            return 2
        group = registry.update_group(args.group_id, args.members or None, strategy=args.strategy)
        print(f"Group {group.id} ({group.strategy}): {', '.join(group.models)}.")
        return 0
    if args.action == "remove":
        registry.remove_group(args.group_id)
        print(f"Removed group {args.group_id}.")
        return 0
    return _list(registry)


def _list(registry: Any) -> int:
    config = registry.config
    if not config.groups:
        print(
            "No model groups. Add one with "
            "`cherry-nb groups add ID PROVIDER:MODEL PROVIDER:MODEL [--strategy S]`."
        )
        return 0
    enabled = {p.id for p in config.providers if p.enabled}
    known = {p.id for p in config.providers}
    rows = [("ID", "STRATEGY", "MEMBERS")]
    notes: list[str] = []
    for group in config.groups:
        rows.append((group.id, group.strategy, ", ".join(group.models)))
        for member in group.models:
            provider_id = member.partition(":")[0]
            if provider_id not in known:
                notes.append(f"{group.id}: {member} names no configured provider (skipped).")
            elif provider_id not in enabled:
                notes.append(f"{group.id}: {member} is on a disabled provider (skipped).")
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        print(f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2]}")
    for note in notes:
        print(f"note: {note}")
    return 0
