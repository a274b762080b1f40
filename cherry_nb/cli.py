"""The `cherry-nb` command line. Every failure exits non-zero with a diagnosis,
never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import (
    _process,  # noqa: F401  (first: it must run before anything imports httpx)
    cli_groups,
)
from ._exceptions import CherryError
from ._secrets import display_url
from ._version import __version__
from .config.kinds import PROVIDER_TYPES
from .config.models import DEFAULT_PORT
from .config.urls import provider_address


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cherry-nb",
        description="Custom AI providers and an OpenAI/Anthropic-compatible gateway.",
    )
    parser.add_argument("--version", action="version", version=f"cherry-nb {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,  # so a nested parser's absent option cannot reset it
        help="config file (default: $CHERRY_NB_CONFIG or the user config dir)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, parents=[common])

    serve = command("serve", "run the gateway")
    serve.add_argument("--host", help="interface to bind (default from config: 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)"
    )
    serve.add_argument("--api-key", help="the key clients must send (default from config)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")

    providers = command("providers", "list, add, remove, export or import providers")
    psub = providers.add_subparsers(dest="action", metavar="ACTION")
    export = psub.add_parser(
        "export", help="print provider definitions without their keys", parents=[common]
    )
    export.add_argument("ids", nargs="*", help="provider ids (default: all)")
    imp = psub.add_parser("import", help="add providers from an exported file", parents=[common])
    imp.add_argument("file", type=Path)
    imp.add_argument("--replace", action="store_true", help="overwrite providers with same id")
    add = psub.add_parser("add", help="add a provider", parents=[common])
    add.add_argument("name")
    add.add_argument(
        "--type",
        choices=PROVIDER_TYPES,
        help="wire protocol (default: the preset's, else openai)",
    )
    add.add_argument("--base-url")
    add.add_argument("--api-key", default="", help="a key, k1,k2 for rotation, or env:VARNAME")
    add.add_argument("--id", dest="provider_id")
    add.add_argument("--preset", help="vllm, ollama, tgi, lmstudio, llamacpp, openai, ...")
    add.add_argument("--model", action="append", default=[], dest="models")
    add.add_argument("--api-version")
    remove = psub.add_parser("remove", help="delete a provider", parents=[common])
    remove.add_argument("provider_id")

    models = command("models", "list a provider's models")
    models.add_argument("provider_id")
    models.add_argument("--fetch", action="store_true", help="ask the upstream")
    models.add_argument("--add", action="store_true", help="with --fetch: save them all")

    check = command("check", "check a provider's key, address and model")
    check.add_argument("provider_id")
    check.add_argument("--model", "-m")

    keys = command("keys", "named gateway keys, one per client: add, list, revoke")
    ksub = keys.add_subparsers(dest="action", metavar="ACTION")
    key_add = ksub.add_parser(
        "add", help="issue a key for a client and print it (once)", parents=[common]
    )
    key_add.add_argument("name", help="who will use it, e.g. claude-code")
    ksub.add_parser("list", help="list the named keys, masked", parents=[common])
    key_revoke = ksub.add_parser("revoke", help="remove a named key", parents=[common])
    key_revoke.add_argument("name")

    groups = command("groups", "model groups (one name, several models): list, add, set, remove")
    cli_groups.add_arguments(groups, common)

    usage = command("usage", "requests, errors, tokens and latency from the usage ledger")
    usage.add_argument(
        "--since", default="1d", help="a duration ago (30m, 12h, 1d, 2w) or a date (default: 1d)"
    )
    usage.add_argument("--until", help="same forms as --since (default: now)")
    usage.add_argument(
        "--by", choices=("provider", "model", "key"), help="group the totals (default: provider)"
    )
    usage.add_argument(
        "--json", action="store_true", help="print the records (with --by: the totals) as JSON"
    )
    usage.add_argument("--provider", help="only this provider id")
    usage.add_argument("--model", help="only this model")
    usage.add_argument("--key", dest="key_name", help="only this gateway key's name")

    sim = command("simulator", "run the offline upstream simulator")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8765)
    sim.add_argument("--key", help="require this API key (default: accept any)")

    demo = command("demo", "simulator + gateway + a sample exchange, offline")
    demo.add_argument("--port", type=int, default=DEFAULT_PORT, help="gateway port (0: a free one)")
    demo.add_argument("--once", action="store_true", help="exit after the sample exchange")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # __main__.py paused the collector for start-up, if it ran us: `serve` resumes it
    # itself, once its app is built.
    if args.command != "serve":
        gc.enable()
    try:
        return _dispatch(args, getattr(args, "config", None))
    except CherryError as error:
        print(f"cherry-nb: {error.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, config_path: Path | None) -> int:
    from .config.registry import ProviderRegistry

    if args.command == "simulator":
        return _simulator(args)
    if args.command == "serve":
        from .gateway.cli import serve

        return serve(
            config_path,
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            workers=args.workers,
        )
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(port=args.port, once=args.once)
    registry = ProviderRegistry(config_path)
    if args.command == "providers":
        return _providers(registry, args)
    if args.command == "models":
        return _models(registry, args)
    if args.command == "check":
        return _check(registry, args)
    if args.command == "keys":
        return _keys(registry, args)
    if args.command == "usage":
        return _usage(registry, args)
    if args.command == "groups":
        return cli_groups.run(registry, args)
    raise AssertionError(args.command)


def _providers(registry: Any, args: argparse.Namespace) -> int:
    if args.action == "export":
        notes: list[str] = []
        json.dump(registry.export(args.ids or None, notes=notes), sys.stdout, indent=2)
        print()
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        return 0
    if args.action == "import":
        try:
            data = json.loads(args.file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CherryError(f"Cannot read {args.file}: {exc}") from exc
        ids = registry.import_(data, replace=args.replace)
        print(
            f"Imported {len(ids)} provider(s): {', '.join(ids)}. Keys are not shared: set "
            "them with `cherry-nb providers add`, the notebook widget, or env:VAR keys."
        )
        return 0
    if args.action == "add":
        provider, notes = registry.add(
            name=args.name,
            type=args.type,
            base_url=args.base_url,
            api_key=args.api_key,
            id=args.provider_id,
            preset=args.preset,
            models=args.models,
            api_version=args.api_version,
        )
        for note in notes:
            print(f"note: {note}")
        print(f"Added {provider.id} ({provider.type}, {display_url(provider.base_url)}).")
        print(f"Requests go to {display_url(provider_address(provider).chat_url())}")
        return 0
    if args.action == "remove":
        registry.delete(args.provider_id)
        print(f"Removed {args.provider_id}.")
        return 0
    providers = registry.config.providers
    if not providers:
        print(
            f"No providers in {registry.path}. Add one with `cherry-nb providers add` or "
            "`%chat setup` in a notebook."
        )
        return 0
    rows = [("ID", "TYPE", "ON", "MODELS", "KEY", "CALLS")]
    readings: list[str] = []
    for p in providers:
        try:
            place = provider_address(p)
        except CherryError as error:  # a hand-edited address that cannot be used
            calls = "(unusable base URL)"
            readings.append(f"{p.id}: {error.message}")
        else:
            calls = display_url(place.chat_url())
            readings.extend(f"{p.id}: {note}" for note in place.notes)
        state = "yes" if p.enabled else "no"
        rows.append((p.id, p.type, state, str(len(p.models)), p.key_hint, calls))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
        )
    if readings:
        print("\nHow the addresses in the file are read:")
        for reading in readings:
            print(f"  {reading}")
    return 0


def _models(registry: Any, args: argparse.Namespace) -> int:
    provider = registry.config.provider(args.provider_id)
    if not args.fetch:
        if not provider.models:
            print(f"{provider.id} has no models configured; try --fetch.")
        for model in provider.models:
            print(model.id if model.name is None else f"{model.id}\t{model.name}")
        return 0
    from .providers.pool import AdapterPool

    async def fetch() -> list[Any]:
        pool = AdapterPool()
        try:
            return await pool.adapter(provider).list_models()
        finally:
            await pool.aclose()

    fetched = asyncio.run(fetch())
    configured = set(provider.model_ids())
    for model in fetched:
        mark = "*" if model.id in configured else " "
        print(f"{mark} {model.id}" + (f"\t{model.name}" if model.name else ""))
    if args.add:
        registry.add_models(provider.id, [m.model_dump(exclude_none=True) for m in fetched])
        print(f"Saved {len(fetched)} models to {provider.id}.")
    return 0


def _check(registry: Any, args: argparse.Namespace) -> int:
    from .key_check import check

    provider = registry.config.provider(args.provider_id)
    result = asyncio.run(check(provider, args.model))
    print(str(result), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _keys(registry: Any, args: argparse.Namespace) -> int:
    from ._secrets import mask_key

    if args.action == "add":
        key = registry.add_gateway_key(args.name)
        print(key)
        print(
            f"Issued gateway key {args.name!r}, saved in {registry.path}. This is the only "
            "time it is shown: give it to that client now. Its usage is attributed to "
            f"{args.name!r}; `cherry-nb keys revoke {args.name}` withdraws it.",
            file=sys.stderr,
        )
        return 0
    if args.action == "revoke":
        registry.revoke_gateway_key(args.name)
        print(f"Revoked gateway key {args.name!r}: requests with it are refused from now on.")
        return 0
    keys = registry.config.server.keys
    if not keys:
        print(f"No named gateway keys in {registry.path}. Add one with `cherry-nb keys add NAME`.")
        return 0
    rows = [("NAME", "KEY", "CREATED")]
    rows += [(k.name, mask_key(k.key), k.created or "-") for k in keys]
    width = [max(len(row[i]) for row in rows) for i in range(2)]
    for name, masked, created in rows:
        print(f"{name.ljust(width[0])}  {masked.ljust(width[1])}  {created}")
    return 0


def _usage(registry: Any, args: argparse.Namespace) -> int:
    from .ledger.report import as_dicts, time_range, usage_table
    from .ledger.sqlite import SQLiteLedger, ledger_path

    filters = {
        name: value
        for name in ("provider", "model", "key_name")
        if (value := getattr(args, name)) is not None
    }
    since, until = time_range(args.since, args.until)
    ledger = SQLiteLedger(ledger_path(registry.path))
    if args.json:
        rows = (
            ledger.summarize(args.by, since, until, filters)
            if args.by
            else ledger.query(since, until, filters)
        )
        json.dump(as_dicts(rows), sys.stdout, indent=2)
        print()
        return 0
    by = args.by or "provider"
    totals = ledger.summarize(by, since, until, filters)
    if not totals:
        where = "" if ledger.path.exists() else f" ({ledger.path} does not exist yet)"
        print(f"No requests recorded since {args.since}{where}.")
        return 0
    print(usage_table(totals, by))
    return 0


def _simulator(args: argparse.Namespace) -> int:
    from .simulator import serve

    def ready(url: str) -> None:
        print(f"Listening on {url}", flush=True)

    asyncio.run(serve(args.host, args.port, args.key, ready=ready))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
