"""One adapter (and one pooled HTTP client) per provider, reused across requests.

A pool belongs to one event loop: httpx clients must not cross loops. The
gateway's server thread owns one pool; the notebook's background loop another.
"""

from __future__ import annotations

import asyncio

import httpx

from ..config.models import UPSTREAM_CONNECTIONS, Provider
from .anthropic import AnthropicAdapter
from .azure import AzureOpenAIAdapter
from .base import Adapter, concurrency_limit, new_client
from .client import UpstreamClient
from .gemini import GeminiAdapter
from .openai import OpenAIAdapter
from .openai_response import OpenAIResponseAdapter
from .transport import DEFAULT_TIMEOUT, RetryPolicy

# The adapter class of each provider kind (config/kinds.py), by kind id; a test checks
# that every kind has one.
ADAPTERS: dict[str, type[Adapter]] = {
    "openai": OpenAIAdapter,
    "openai-response": OpenAIResponseAdapter,
    "anthropic": AnthropicAdapter,
    "gemini": GeminiAdapter,
    "azure-openai": AzureOpenAIAdapter,
}


class AdapterPool:
    """Adapters keyed by provider id, rebuilt when the provider's definition changes."""

    def __init__(
        self,
        *,
        policy: RetryPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_connections: int = UPSTREAM_CONNECTIONS,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._timeout = timeout
        self._max_connections = max_connections  # per provider's client
        self._clients: dict[str, UpstreamClient] = {}
        self._adapters: dict[str, Adapter] = {}
        # Kept across a provider's edits while its limit stays the same, so requests
        # already in flight still count against it.
        self._limits: dict[str, tuple[int | None, asyncio.Semaphore | None]] = {}

    def adapter(self, provider: Provider) -> Adapter:
        """The adapter for `provider`; cheap when nothing changed (an identity check).

        Config snapshots are copy-on-write, so an edited provider is a new object;
        the cached adapter holds the old one alive, so identity cannot be reused.
        """
        cached = self._adapters.get(provider.id)
        if cached is not None and cached.provider is provider:
            return cached
        client = self._clients.get(provider.id)
        if client is None:
            client = self._clients[provider.id] = new_client(
                timeout=self._timeout, max_connections=self._max_connections
            )
        limit = self._limits.get(provider.id)
        if limit is None or limit[0] != provider.max_concurrency:
            limit = self._limits[provider.id] = (
                provider.max_concurrency,
                concurrency_limit(provider),
            )
        adapter = ADAPTERS[provider.type](provider, client, self.policy, limit[1])
        self._adapters[provider.id] = adapter
        return adapter

    async def aclose(self) -> None:
        clients, self._clients, self._adapters = list(self._clients.values()), {}, {}
        for client in clients:
            await client.aclose()
