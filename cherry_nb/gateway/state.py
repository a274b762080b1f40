"""What every route of one gateway shares: the registry, the key, the adapters, the streams."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .._exceptions import ConfigError, ConfigFileError
from .._secrets import mask_key
from ..config.models import UPSTREAM_CONNECTIONS, Config
from ..config.registry import ProviderRegistry
from ..ledger.recorder import Recorder
from ..providers.pool import AdapterPool
from .auth import DEFAULT_KEY_NAME, GatewayKeys
from .hosts import HostPolicy
from .scrub import Secrets

# Keys shorter than this are not masked in replies: they would mangle ordinary text.
_MASKED_MIN = 8


@dataclass(frozen=True, slots=True)
class Derived:
    """What the gate needs from one version of the config, computed once per version."""

    keys: GatewayKeys
    hosts: HostPolicy
    secrets: Secrets  # every provider's keys, masked in every reply


def derive(config: Config, api_key: str) -> Derived:
    server = config.server
    keys = GatewayKeys([(DEFAULT_KEY_NAME, api_key), *((k.name, k.key) for k in server.keys)])
    provider_keys: set[str] = set()
    for provider in config.providers:
        try:
            provider_keys.update(provider.api_keys())
        except ConfigError:  # an unset env: key; requests to that provider say so
            continue
    secrets = tuple(
        (key.encode(), mask_key(key).encode())
        for key in sorted(provider_keys, key=len, reverse=True)  # longest first
        if len(key) >= _MASKED_MIN
    )
    return Derived(keys, HostPolicy(server.allowed_hosts), secrets)


log = logging.getLogger("cherry_nb.gateway")


@dataclass
class GatewayState:
    registry: ProviderRegistry
    api_key: str
    reload_config: bool = False
    cors_origins: tuple[str, ...] = ()
    read_timeout: float = 300.0
    max_body_bytes: int = 50 * 1024 * 1024
    upstream_connections: int = UPSTREAM_CONNECTIONS
    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    # The tasks sending a stream right now, so that shutting down can end each one
    # with its protocol's error event instead of cutting it; `ended` are those told to.
    streams: set[asyncio.Task[Any]] = field(default_factory=set)
    ended: set[asyncio.Task[Any]] = field(default_factory=set)
    # Where each finished request's UsageRecord goes (ledger, /metrics, the panel).
    recorder: Recorder = field(default_factory=Recorder)
    _pool: AdapterPool | None = None
    _derived: tuple[Config, Derived] | None = None

    @property
    def pool(self) -> AdapterPool:
        # Created lazily on the serving loop: httpx clients must not cross loops.
        if self._pool is None:
            self._pool = AdapterPool(
                timeout=httpx.Timeout(10.0, read=self.read_timeout),
                max_connections=self.upstream_connections,
            )
        return self._pool

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    def config(self) -> Config:
        """The registry's config, picking up edits; while the file is invalid (being
        saved, or badly edited) the last good one keeps serving and the problem is logged."""
        if self.reload_config:
            try:
                self.registry.reload_if_changed(wait=False)  # the loop must not sleep
            except ConfigFileError as exc:
                log.warning("%s Serving the last valid config meanwhile.", exc.message)
        return self.registry.config

    def derived(self) -> Derived:
        """Keys, Host policy and secrets of the config in use (recomputed when it changes)."""
        config = self.config()
        cached = self._derived
        if cached is not None and cached[0] is config:
            return cached[1]
        derived = derive(config, self.api_key)
        self._derived = (config, derived)
        return derived

    def cors_headers(self, origin: str | None) -> dict[str, str]:
        if origin and origin in self.cors_origins:
            return {"access-control-allow-origin": origin, "vary": "Origin"}
        return {}

    def end_streams(self) -> None:
        """End every running stream with an error event; call on the serving loop."""
        self.ended = set(self.streams)
        for task in self.ended:
            task.cancel()
