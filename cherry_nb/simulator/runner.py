"""Ways to run a `Simulator`: on its own thread for sync callers, or as a CLI coroutine.

Notebooks, the CLI and sync tests have no event loop of their own to lend the
simulator, so `SimulatorThread` gives it a private loop on a daemon thread and
forwards the few calls a caller needs, thread-safely.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .plan import DEFAULT_MODELS
from .server import RecordedRequest, Simulator

__all__ = ["SimulatorThread", "serve"]

T = TypeVar("T")
_START_TIMEOUT = 10.0


class SimulatorThread:
    """A `Simulator` running on its own event loop in a daemon thread."""

    def __init__(self, **simulator_kwargs: Any) -> None:
        self._kwargs = simulator_kwargs
        self.simulator: Simulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> SimulatorThread:
        """Start listening; returns once the port is known. Idempotent."""
        with self._lock:
            if self._thread is not None:
                return self
            started: concurrent.futures.Future[None] = concurrent.futures.Future()
            thread = threading.Thread(
                target=self._run, args=(started,), name="cherry-nb-simulator", daemon=True
            )
            thread.start()
            try:
                started.result(timeout=_START_TIMEOUT)
            except BaseException:
                thread.join(_START_TIMEOUT)
                raise
            self._thread = thread
            return self

    def _run(self, started: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        simulator = Simulator(**self._kwargs)
        try:
            loop.run_until_complete(simulator.start())
        except BaseException as exc:
            loop.close()
            started.set_exception(exc)
            return
        self._loop, self.simulator = loop, simulator
        started.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(simulator.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self) -> None:
        """Close every connection and the thread's loop. Idempotent."""
        with self._lock:
            thread, loop = self._thread, self._loop
            self._thread = None
            if thread is None or loop is None:
                return
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_START_TIMEOUT)
            self._loop = None

    def __enter__(self) -> SimulatorThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- forwarded API -----------------------------------------------------------

    def _sim(self) -> Simulator:
        if self.simulator is None:
            raise RuntimeError("the simulator thread is not started; call start() first")
        return self.simulator

    def _call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the simulator's loop and wait for its result."""
        loop = self._loop
        if loop is None or self._thread is None:
            raise RuntimeError("the simulator thread is not running")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:  # pragma: no cover - forwarded to the caller
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(timeout=_START_TIMEOUT)

    @property
    def port(self) -> int:
        return self._sim().port

    @property
    def url(self) -> str:
        return self._sim().url

    @property
    def models(self) -> tuple[str, ...]:
        return self._sim().models

    def base_url(self, provider_type: str) -> str:
        return self._sim().base_url(provider_type)

    def script(self, **options: Any) -> None:
        """`Simulator.script`, applied on the simulator's loop before this returns."""
        sim = self._sim()
        self._call(lambda: sim.script(**options))

    def clear_script(self) -> None:
        sim = self._sim()
        self._call(sim.clear_script)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the recorded requests (oldest first)."""
        sim = self._sim()
        return self._call(lambda: list(sim.requests))

    @property
    def active_streams(self) -> int:
        return self._sim().active_streams

    @property
    def connections_closed(self) -> int:
        return self._sim().connections_closed

    @property
    def connections_opened(self) -> int:
        return self._sim().connections_opened


async def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str | None = None,
    *,
    ready: Callable[[str], None] | None = None,
    models: Sequence[str] = DEFAULT_MODELS,
) -> None:
    """Run a simulator until cancelled; `ready(url)` is called once it listens."""
    async with Simulator(host=host, port=port, api_key=api_key, models=models) as sim:
        if ready is not None:
            ready(sim.url)
        await asyncio.Event().wait()
