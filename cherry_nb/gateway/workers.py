"""`cherry-nb serve --workers N`: N worker processes, each accepting on a socket of its own.

Hypercorn's own multi-worker mode hands every worker the same listening socket. Each
worker's asyncio accept loop takes every connection waiting when it wakes, so a
client's keep-alive connections (an SDK's pool, a load generator's 16) mostly land on
whichever worker woke first: 13/3, 15/1 and 16/0 of 16 in bench runs. Sockets bound to
one port with SO_REUSEPORT, one per worker, let the kernel spread connections over the
workers by their addresses instead. The kernel balances them so on Linux only; elsewhere
the workers share one socket, as before.
"""

from __future__ import annotations

import signal
import socket
import sys
from multiprocessing import get_context
from multiprocessing.connection import wait
from typing import Any

from hypercorn.config import Config as HypercornConfig
from hypercorn.config import Sockets

from .server import bind_socket

#: Whether sockets sharing a port with SO_REUSEPORT get its connections spread by the
#: kernel (Linux); BSD and macOS give them all to one socket.
BALANCED = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def worker_sockets(host: str, port: int, workers: int) -> list[socket.socket]:
    """One listening socket per worker on the same port, where the kernel balances them;
    else one socket for all. A port in use is a ConfigError, as for one worker."""
    first = bind_socket(host, port)
    if workers <= 1 or not BALANCED:
        return [first]
    # Bound without SO_REUSEPORT first, so a port another server holds (even with
    # SO_REUSEPORT) is refused, never silently shared with it; then the workers' own.
    port = first.getsockname()[1]
    first.close()
    return [bind_socket(host, port, reuse_port=True) for _ in range(workers)]


def run_workers(config: HypercornConfig, sockets: list[socket.socket], workers: int) -> int:
    """Serve with `workers` processes until SIGINT/SIGTERM; the exit code of the first
    worker that failed, else 0. A worker that ends on its own ends them all: with a
    socket per worker, its share of new connections would find no one accepting."""
    worker_class: Any
    if config.worker_class == "uvloop":
        from hypercorn.asyncio.run import uvloop_worker as worker_class
    else:
        from hypercorn.asyncio.run import asyncio_worker as worker_class
    context = get_context("spawn")
    shutdown = context.Event()
    # Ignored before spawning, so the workers inherit it: the parent alone decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    processes = []
    for index in range(workers):
        own = [sockets[index % len(sockets)]]
        process = context.Process(
            target=worker_class,
            kwargs={
                "config": config,
                "sockets": Sockets(secure_sockets=[], insecure_sockets=own, quic_sockets=[]),
                "shutdown_event": shutdown,
            },
            name=f"cherry-nb-worker-{index + 1}",
        )
        process.start()
        processes.append(process)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        shutdown.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    wait([process.sentinel for process in processes])
    ended = [p for p in processes if p.exitcode is not None]
    shutdown.set()
    for process in processes:
        process.join(config.graceful_timeout + 5)
        if process.is_alive():
            process.terminate()
            process.join()
    for sock in sockets:
        sock.close()
    if stopping:
        return next((p.exitcode for p in processes if p.exitcode), 0)
    code = next((p.exitcode for p in ended if p.exitcode), 0) or 1
    names = ", ".join(f"{p.name} (exit code {p.exitcode})" for p in ended)
    print(f"error: {names} stopped unasked; stopping the others.", file=sys.stderr)
    return code
