"""Running the gateway: in a kernel's daemon thread, or as `cherry-nb serve`.

The socket is bound here, before Hypercorn starts, so a port in use is a clear
error at `start()` (not a log line in a thread), and `port=0` yields the real
port at once. Hypercorn gets the bound socket as `fd://`.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from quart import Quart

from .._exceptions import ConfigError
from .._secrets import HOW_TO_MAKE_KEY, gateway_key_problem, mask_key, register_secret
from ..config.registry import ProviderRegistry
from ..ledger.recorder import Recorder
from .app import create_app, gateway_state
from .state import GatewayState

log = logging.getLogger("cherry_nb.gateway")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: Connections the kernel queues before they are accepted: a burst of hundreds (held
#: streams opened together) must wait in it, not be dropped and retried a second later.
BACKLOG = 1024


def ensure_api_key(registry: ProviderRegistry, api_key: str | None = None) -> str:
    """The gateway key: given, configured, or generated (`cs-sk-<uuid4>`) and saved."""
    key = api_key or registry.config.server.api_key
    if not key:
        key = new_gateway_key()
        registry.set_server(api_key=key)
    problem = gateway_key_problem(key)
    if problem is not None:
        raise ConfigError(f"The gateway key was refused: {problem}; {HOW_TO_MAKE_KEY}")
    register_secret(key)
    return key


def new_gateway_key() -> str:
    """`cs-sk-<uuid4>`: 122 random bits, strong enough to listen beyond loopback."""
    return f"cs-sk-{uuid.uuid4()}"


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, registry: ProviderRegistry, key: str) -> None:
    """Refuse to listen beyond loopback unless every gateway key is strong: there, the
    key is all that keeps anyone who can reach the machine from spending your keys."""
    if is_loopback(host):
        return
    named = [(f"the key named {k.name!r}", k.key) for k in registry.config.server.keys]
    for which, candidate in [("the gateway key", key), *named]:
        problem = gateway_key_problem(candidate, public=True)
        if problem is not None:
            raise ConfigError(
                f"Refusing to listen on {host}, where other machines can reach the gateway: "
                f"{problem} ({which}). {HOW_TO_MAKE_KEY[0].upper()}{HOW_TO_MAKE_KEY[1:]}, "
                "then pass it with --api-key or set it as server.api_key; or listen on "
                "127.0.0.1."
            )


def reachable_urls(host: str, port: int) -> list[str]:
    """Every http://ADDRESS:PORT the gateway bound to `host` can be reached at: each
    interface's address for a wildcard host (as the host name resolves), loopback too."""
    if host not in ("0.0.0.0", "::", ""):
        return [_url(host, port)]
    families = [socket.AF_INET] if host == "0.0.0.0" else [socket.AF_INET, socket.AF_INET6]
    addresses: list[str] = []
    for family in families:
        addresses.append("127.0.0.1" if family == socket.AF_INET else "::1")
        try:
            infos = socket.getaddrinfo(socket.gethostname(), None, family, socket.SOCK_STREAM)
        except OSError:
            infos = []
        addresses += [str(info[4][0]) for info in infos]
        addresses += _outbound_address(family)
    return [_url(address, port) for address in dict.fromkeys(addresses)]


def _outbound_address(family: socket.AddressFamily) -> list[str]:
    """The address this machine's default route leaves from (a host name often resolves
    to loopback only). Connecting a UDP socket sends nothing."""
    target = ("10.254.254.254", 9) if family == socket.AF_INET else ("fd00::1", 9)
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(target)
            return [str(probe.getsockname()[0])]
    except OSError:
        return []


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening-ready TCP socket, or a ConfigError naming the busy port. With
    `reuse_port`, other such sockets may listen on the same port (one per worker)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"Port {port} on {host} is already in use (another gateway, or another "
                "program). Stop it, or choose another port (port=0 picks a free one)."
            ) from None
        raise ConfigError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
    # Listening now means a client that connects before Hypercorn accepts is
    # queued in the backlog, not refused.
    sock.listen(BACKLOG)
    return sock


def hypercorn_config(sock: socket.socket | None, *, workers: int = 1) -> HypercornConfig:
    """Hypercorn settings serving on `sock`, whose fd Hypercorn takes over (detached);
    None when the caller hands each worker its socket (`workers.run_workers`)."""
    config = HypercornConfig()
    if sock is not None:
        config.bind = [f"fd://{sock.detach()}"]
    config.workers = workers
    # Hypercorn listens again on the socket it is given, with its own backlog (100).
    config.backlog = BACKLOG
    config.accesslog = None
    config.errorlog = logging.getLogger("cherry_nb.gateway.server")
    config.graceful_timeout = 10.0
    # Uvicorn's default. Hypercorn 0.18 holds a connection its client closed until this
    # runs out, so a long one (75 s) piles up sockets under clients that do not pool.
    config.keep_alive_timeout = 5.0
    config.include_server_header = False
    return config


def ending_streams(
    trigger: Callable[[], Awaitable[object]], state: GatewayState, grace: float
) -> Callable[[], Awaitable[None]]:
    """A Hypercorn shutdown trigger: `trigger`, then streams still running shortly before
    the grace period ends are ended with their protocol's error event, not cut."""

    async def wait() -> None:
        await trigger()
        margin = min(1.0, grace / 2)
        asyncio.get_running_loop().call_later(grace - margin, state.end_streams)

    return wait


@dataclass(frozen=True, slots=True)
class GatewayStatus:
    running: bool
    url: str | None
    requests: int
    uptime_seconds: float | None


class GatewayServer:
    """The gateway in a background thread of this process (the kernel's).

    `start()` returns once the server accepts connections; `stop()` lets
    in-flight requests finish (up to a grace period) and frees the port.
    """

    def __init__(self, registry: ProviderRegistry | None = None) -> None:
        self.registry = registry or ProviderRegistry()
        self.host = "127.0.0.1"
        self.port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._app: Quart | None = None
        self._api_key: str | None = None
        self._error: BaseException | None = None
        #: Every URL the running gateway can be reached at (one unless on a wildcard host).
        self.addresses: list[str] = []

    def __repr__(self) -> str:
        state = f"running at {self.url}" if self.running else "stopped"
        return f"<GatewayServer {state}>"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def url(self) -> str | None:
        if not self.running or self.port is None:
            return None
        return _url(self.host, self.port)

    @property
    def api_key(self) -> str:
        return self._api_key or ensure_api_key(self.registry)

    @property
    def masked_key(self) -> str:
        return mask_key(self.api_key)

    def start(self, port: int | None = None, host: str | None = None) -> str:
        """Start serving; returns the base URL. Starting twice is a no-op."""
        if self.running:
            assert self.url is not None
            return self.url
        settings = self.registry.config.server
        self.host = host or settings.host
        wanted = settings.port if port is None else port
        self._api_key = ensure_api_key(self.registry)
        check_exposure(self.host, self.registry, self._api_key)
        sock = bind_socket(self.host, wanted)
        self.port = sock.getsockname()[1]
        self.addresses = reachable_urls(self.host, self.port)
        if not is_loopback(self.host):
            log.warning(
                "The gateway listens on %s: every machine that can reach it can use your "
                "providers with the gateway key. Prefer 127.0.0.1 unless you mean it. "
                "It can be reached at %s.",
                self.host,
                ", ".join(self.addresses),
            )
        self._app = create_app(
            self.registry,
            api_key=self._api_key,
        )
        ready = threading.Event()
        self._error = None
        self._thread = threading.Thread(
            target=self._run, args=(sock, ready), name="cherry-nb-gateway", daemon=True
        )
        self._thread.start()
        ready.wait(timeout=15)
        if self._error is not None:
            raise ConfigError(f"The gateway failed to start: {self._error}")
        assert self.url is not None
        return self.url

    def _run(self, sock: socket.socket, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._stop = asyncio.Event()
        config = hypercorn_config(sock)

        async def main() -> None:
            loop.call_soon(ready.set)
            assert self._stop is not None and self._app is not None
            trigger = ending_streams(
                self._stop.wait, gateway_state(self._app), config.graceful_timeout
            )
            await serve(self._app, config, shutdown_trigger=trigger)

        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # reported to start() or logged; never lost silently
            self._error = exc
            log.error("Gateway stopped with an error: %s", exc)
        finally:
            ready.set()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop serving and wait for the thread; in-flight requests get to finish."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None or loop is None or stop is None:
            return
        if thread.is_alive():
            loop.call_soon_threadsafe(stop.set)
            thread.join(timeout)
        self._thread = None

    @property
    def recorder(self) -> Recorder | None:
        """Where the running (or last run) app records usage; None before the first start."""
        return gateway_state(self._app).recorder if self._app is not None else None

    def status(self) -> GatewayStatus:
        if not self.running or self._app is None:
            return GatewayStatus(False, None, 0, None)
        state = gateway_state(self._app)
        return GatewayStatus(
            True, self.url, state.requests, round(time.monotonic() - state.started, 1)
        )
