"""`cherry-nb serve`: the gateway as a standalone process, optionally with workers."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from pathlib import Path

from hypercorn.asyncio import serve as hypercorn_serve

from .._secrets import mask_key
from ..config.registry import ProviderRegistry
from .app import create_app, gateway_state
from .server import (
    check_exposure,
    ending_streams,
    ensure_api_key,
    hypercorn_config,
    is_loopback,
    reachable_urls,
)
from .workers import run_workers, worker_sockets

KEY_ENV = "CHERRY_NB_GATEWAY_KEY"


def serve(
    config_path: Path | None,
    *,
    host: str | None = None,
    port: int | None = None,
    api_key: str | None = None,
    workers: int = 1,
) -> int:
    """Serve until SIGINT/SIGTERM, which let in-flight requests finish."""
    registry = ProviderRegistry(config_path)
    settings = registry.config.server
    host = host or settings.host
    port = settings.port if port is None else port
    key = ensure_api_key(registry, api_key)
    check_exposure(host, registry, key)
    sockets = worker_sockets(host, port, workers)
    shown = f"[{host}]" if ":" in host else host
    bound = sockets[0].getsockname()[1]
    print(f"Listening on http://{shown}:{bound}", flush=True)
    if not is_loopback(host):
        print(
            f"warning: listening on {host}: anyone who can reach this machine can use your "
            "providers with the gateway key. Reachable at:",
            file=sys.stderr,
        )
        for url in reachable_urls(host, bound):
            print(f"  {url}", file=sys.stderr)
    print(
        f"Gateway key {mask_key(key)} (server.api_key in {registry.path}); "
        f"{len(registry.config.providers)} provider(s) configured.",
        file=sys.stderr,
        flush=True,
    )
    if workers <= 1:
        app = create_app(
            registry,
            api_key=key,
            reload_config=True,
        )
        # Everything loaded so far lives as long as the process: keep it out of the
        # collector's way, so full collections stay short under load (38 -> 5 ms). No
        # gc.collect() first: walking every object to free the few cycles start-up
        # leaves cost 30-40 ms of start-up.
        gc.freeze()
        config = hypercorn_config(sockets[0])
        trigger = ending_streams(_signalled, gateway_state(app), config.graceful_timeout)
        gc.enable()  # paused for start-up by __main__.py, if it ran us
        asyncio.run(hypercorn_serve(app, config, shutdown_trigger=trigger))
        return 0
    from ..ledger.metrics import prepare_multiprocess

    # Worker processes are spawned and build their app from the environment; their
    # metrics meet in one PROMETHEUS_MULTIPROC_DIR, so any worker's /metrics sums all.
    prepare_multiprocess()
    os.environ["CHERRY_NB_CONFIG"] = str(registry.path)
    os.environ[KEY_ENV] = key
    config = hypercorn_config(None, workers=workers)
    config.application_path = "cherry_nb.gateway.asgi:app"
    gc.enable()  # as above: this parent builds no app of its own
    return run_workers(config, sockets, workers)


async def _signalled() -> None:
    """Returns at SIGINT or SIGTERM (what Hypercorn waits for when given no trigger)."""
    received = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, received.set)
    await received.wait()
