"""Per-kernel state and the background event loop the notebook layer runs on.

Upstream calls run on one asyncio loop in a daemon thread: the kernel's main
thread keeps its own loop free, stays responsive, and does the rendering
(display updates sent from other threads land in the wrong cell). Widgets and
magics call the sync methods here; nothing else in the notebook layer touches
asyncio.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..config.models import ModelEntry, Provider
from ..config.registry import ProviderRegistry
from ..key_check import CheckResult, check
from ..providers.pool import AdapterPool
from .detect import LocalServer, detect_local_servers

if TYPE_CHECKING:  # Quart and Hypercorn load when the gateway is first used
    from ..gateway.server import GatewayServer
    from ..ledger.recorder import Recorder

T = TypeVar("T")
SIMULATOR_ID = "simulator"
SIMULATOR_DESCRIPTION = (
    "cherry_nb's built-in upstream simulator, running in this kernel only (no key, no network)."
)


class BackgroundLoop:
    """An asyncio loop in a daemon thread; coroutines are submitted from any thread."""

    def __init__(self, name: str = "cherry-nb-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the loop and wait; Ctrl-C cancels it and propagates."""
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise

    def close(self) -> None:
        """Stop the loop and its thread (pending work is abandoned)."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


class Runtime:
    """Everything one kernel shares: providers, the loop, pooled clients, the gateway."""

    def __init__(self, registry: ProviderRegistry | None = None) -> None:
        self.registry = registry or ProviderRegistry()
        self.background = BackgroundLoop()
        self._pool: AdapterPool | None = None
        self._gateway: GatewayServer | None = None
        self._simulator: Any = None
        self._recorder: Recorder | None = None

    # -- async plumbing --------------------------------------------------------

    @property
    def pool(self) -> AdapterPool:
        """The adapters of the background loop; use only from coroutines run there."""
        if self._pool is None:
            self._pool = AdapterPool()
        return self._pool

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return self.background.run(coro, timeout)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return self.background.submit(coro)

    def close(self) -> None:
        """Stop the gateway and the simulator, close pooled clients, stop the loop,
        flush the usage ledger."""
        if self._gateway is not None:
            self._gateway.stop()
        if self._recorder is not None:
            self._recorder.close()
            self._recorder = None
        if self._simulator is not None:
            self.stop_simulator()
        if self._pool is not None:
            self.run(self._pool.aclose(), timeout=5)
            self._pool = None
        self.background.close()

    @property
    def recorder(self) -> Recorder:
        """Where this kernel's usage goes: the ledger beside the config file, and metrics."""
        if self._recorder is None:
            from ..ledger.recorder import Recorder

            self._recorder = Recorder.open(self.registry.path)
        return self._recorder

    # -- provider operations for magics and widgets --------------------------------

    def provider(self, provider_id: str) -> Provider:
        self.registry.reload_if_changed()
        return self.registry.config.provider(provider_id)

    def check(self, provider: str | Provider, model: str | None = None) -> CheckResult:
        """Check a saved provider (by id) or an unsaved one (a form's values)."""
        target = self.provider(provider) if isinstance(provider, str) else provider
        return self.run(check(target, model))

    def fetch_models(self, provider_id: str) -> list[ModelEntry]:
        provider = self.provider(provider_id)

        async def fetch() -> list[ModelEntry]:
            return await self.pool.adapter(provider).list_models()

        return self.run(fetch())

    def detect_local_servers(self, ports: Mapping[str, int] | None = None) -> list[LocalServer]:
        """Local model servers answering on 127.0.0.1's `ports` (default: the usual
        ports of Ollama, vLLM, LM Studio and TGI), with their models."""
        return self.run(detect_local_servers(ports))

    # -- the gateway and the offline simulator ----------------------------------------

    @property
    def gateway(self) -> GatewayServer:
        if self._gateway is None:
            from ..gateway.server import GatewayServer

            self._gateway = GatewayServer(self.registry)
        return self._gateway

    def start_simulator(self) -> Provider:
        """Start this kernel's offline simulator as the ephemeral provider `simulator`.

        Ephemeral: its address dies with the kernel, so it is never written to the
        config file other kernels and `cherry-nb serve` read. An entry an older
        version saved there is removed (it points at a simulator long gone).
        """
        from ..simulator import DEFAULT_MODELS, SimulatorThread

        if self._simulator is None:
            self._simulator = SimulatorThread()
            self._simulator.start()
        self.registry.reload_if_changed()
        stale = next((p for p in self.registry.saved().providers if p.id == SIMULATOR_ID), None)
        if stale is not None and is_saved_simulator(stale):
            self.registry.delete(SIMULATOR_ID)
        self.registry.add_ephemeral(
            Provider.model_validate(
                {
                    "id": SIMULATOR_ID,
                    "name": "Offline simulator",
                    "type": "openai",
                    "base_url": self._simulator.base_url("openai"),
                    "models": list(DEFAULT_MODELS),
                    "description": SIMULATOR_DESCRIPTION,
                    "tags": ["offline", "this kernel"],
                }
            )
        )
        if not self.registry.config.default_model:
            self.registry.set_default_model(f"{SIMULATOR_ID}:{DEFAULT_MODELS[0]}")
        return self.registry.get(SIMULATOR_ID)

    def stop_simulator(self) -> None:
        """Stop this kernel's simulator and forget its provider."""
        if self._simulator is not None:
            self._simulator.stop()
            self._simulator = None
        self.registry.remove_ephemeral(SIMULATOR_ID)

    @property
    def simulator_running(self) -> bool:
        return self._simulator is not None


def is_saved_simulator(provider: Provider) -> bool:
    """A `simulator` entry in the config file: written by an older cherry_nb (or
    by hand) for a simulator that ran in some kernel, on a port now likely dead."""
    return provider.id == SIMULATOR_ID and provider.base_url.startswith(
        ("http://127.0.0.1:", "http://localhost:")
    )


_runtime: Runtime | None = None
_lock = threading.Lock()


def get_runtime() -> Runtime:
    """The kernel's one Runtime, created on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime()
        return _runtime
