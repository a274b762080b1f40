"""An importable ASGI app for Hypercorn's worker processes (`cherry-nb serve --workers N`)."""

from __future__ import annotations

import gc
import os

from .. import _process  # noqa: F401  (first: it must run before anything imports httpx)
from ..config.registry import ProviderRegistry
from .app import create_app
from .cli import KEY_ENV
from .server import ensure_api_key

_registry = ProviderRegistry()
app = create_app(
    _registry,
    api_key=ensure_api_key(_registry, os.environ.get(KEY_ENV)),
    reload_config=True,
)
# As `cherry-nb serve` does with one worker: what lives as long as the process stays out
# of the collector's way, so full collections stay short under load (no collection
# first: start-up leaves next to no cyclic garbage, and finding that out costs 30-40 ms).
gc.freeze()
