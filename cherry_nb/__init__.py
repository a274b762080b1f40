"""cherry_nb: custom AI providers, a key check, and an OpenAI/Anthropic gateway for Jupyter.

In a notebook: ``%load_ext cherry_nb``, then ``%%chat`` cells, ``%chat setup`` for
the provider manager and ``%chat server start`` for the gateway; ``cherry_nb.usage()``
reads what was spent where. From code, the
names below. Functions are named apart from the subpackages (`cherry_nb.gateway`
is the gateway's package, `cherry_nb.gateway_server()` this kernel's server).
Heavy modules (Quart, Hypercorn, the widgets) load only when first used, so
importing cherry_nb stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._exceptions import (
    AuthenticationError,
    BadResponseError,
    CherryError,
    ConfigError,
    ConfigFileError,
    ModelNotFoundError,
    NetworkError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    RequestError,
    UnknownProviderError,
    UpstreamError,
    UpstreamTimeoutError,
    WireFormatError,
)
from ._version import __version__

if TYPE_CHECKING:
    from .config.registry import ProviderRegistry
    from .gateway.server import GatewayServer
    from .key_check import CheckResult
    from .notebook.widgets import GatewayPanel, ProviderManager

__all__ = [
    "AuthenticationError",
    "BadResponseError",
    "CheckResult",
    "CherryError",
    "ConfigError",
    "ConfigFileError",
    "GatewayServer",
    "ModelNotFoundError",
    "NetworkError",
    "NotFoundError",
    "ProviderError",
    "ProviderRegistry",
    "RateLimitError",
    "RequestError",
    "UnknownProviderError",
    "UpstreamError",
    "UpstreamTimeoutError",
    "WireFormatError",
    "__version__",
    "check",
    "gateway_key",
    "gateway_panel",
    "gateway_server",
    "load_ipython_extension",
    "registry",
    "setup",
    "usage",
]

_LAZY = {
    "CheckResult": ("cherry_nb.key_check", "CheckResult"),
    "GatewayServer": ("cherry_nb.gateway.server", "GatewayServer"),
    "ProviderRegistry": ("cherry_nb.config.registry", "ProviderRegistry"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'cherry_nb' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext cherry_nb`: register the %%chat and %chat magics."""
    from .notebook import load_ipython_extension as load

    load(ipython)


def registry() -> ProviderRegistry:
    """This kernel's provider registry (the config file, kept in sync)."""
    from .notebook.runtime import get_runtime

    return get_runtime().registry


def setup() -> ProviderManager:
    """The provider manager widget (the same as `%chat setup`)."""
    from .notebook.runtime import get_runtime
    from .notebook.widgets import setup as make

    return make(get_runtime())


def gateway_server() -> GatewayServer:
    """This kernel's gateway server: `.start(port)`, `.stop()`, `.status()`, `.url`."""
    from .notebook.runtime import get_runtime

    return get_runtime().gateway


def gateway_panel() -> GatewayPanel:
    """The gateway panel widget (the same as `%chat server panel`)."""
    from .notebook.runtime import get_runtime
    from .notebook.widgets import gateway_panel as make

    return make(get_runtime())


def gateway_key() -> str:
    """The gateway's full key, for code that calls the gateway. Never printed by cherry_nb."""
    from .notebook.runtime import get_runtime

    return get_runtime().gateway.api_key


def check(provider_id: str, model: str | None = None) -> CheckResult:
    """Check a provider's keys (every one), address and model; the result says what to fix
    and, per key (masked), which failed."""
    from .notebook.runtime import get_runtime

    return get_runtime().check(provider_id, model)


def usage(
    since: str | float | None = None,
    until: str | float | None = None,
    *,
    by: str | None = None,
    dataframe: bool | None = None,
    **filters: Any,
) -> Any:
    """What the gateway and `%%chat` spent: the usage ledger's records, oldest first.

    `since`/`until`: a duration ago ("30m", "1d", "2w"), an ISO date or Unix seconds
    (default: everything kept, 90 days). `by="provider"|"model"|"key"`: totals per
    group instead (requests, errors, tokens, median latency). Filters such as
    `provider="my-openai"`, `model=...`, `key_name=...`, `status=200` narrow it down.
    Returns a pandas DataFrame when pandas is installed (`dataframe=False`: a list).
    """
    from .ledger import UsageRecord, UsageSummary
    from .ledger.report import time_range, to_frame, wants_frame
    from .notebook.runtime import get_runtime

    start, end = time_range(since, until)
    ledger = get_runtime().recorder.ledger
    if ledger is None:
        raise ConfigError("This kernel's recorder keeps no usage ledger.")
    if by is None:
        rows: Any = ledger.query(start, end, filters)
        kind: type = UsageRecord
    else:
        rows, kind = ledger.summarize(by, start, end, filters), UsageSummary
    return to_frame(rows, kind) if wants_frame(dataframe) else rows
