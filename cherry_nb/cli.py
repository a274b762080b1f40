"""The `cherry-nb` command line. Every failure exits non-zero with a diagnosis,
never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._exceptions import CherryError
from ._secrets import display_url
from ._version import __version__
from .config.models import DEFAULT_PORT, PROVIDER_TYPES


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
    rows = [("ID", "TYPE", "ON", "MODELS", "KEY", "BASE URL")]
    rows += [
        (
            p.id,
            p.type,
            "yes" if p.enabled else "no",
            str(len(p.models)),
            p.key_hint,
            display_url(p.base_url),
        )
        for p in providers
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
        )
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


def _simulator(args: argparse.Namespace) -> int:
    from .simulator import serve

    def ready(url: str) -> None:
        print(f"Listening on {url}", flush=True)

    asyncio.run(serve(args.host, args.port, args.key, ready=ready))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
