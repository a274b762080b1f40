"""From a failure to a category and a hint a person can act on. Pure: no I/O.

Used by the key check, the notebook's error panels and the CLI, so the same
failure reads the same everywhere.
"""

from __future__ import annotations

import difflib
import re
from enum import StrEnum

from ._exceptions import (
    AuthenticationError,
    BadResponseError,
    CherryError,
    ConfigError,
    ModelNotFoundError,
    NetworkError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    UpstreamTimeoutError,
)
from ._secrets import display_url
from .config.models import Provider


class Category(StrEnum):
    OK = "ok"
    BAD_KEY = "bad_key"
    MODEL_NOT_FOUND = "model_not_found"
    WRONG_ADDRESS = "wrong_address"
    NETWORK = "network"
    RATE_LIMITED = "rate_limited"
    UPSTREAM_ERROR = "upstream_error"
    CONFIG = "config"
    # What ends a gateway request on the gateway's side, for the usage ledger:
    BAD_REQUEST = "bad_request"  # the client's request was refused (400, 404 route, 405, 413)
    GATEWAY_KEY = "gateway_key"  # the client's gateway key was missing or wrong
    INTERRUPTED = "interrupted"  # the client left (or the cell was stopped) before the end
    INTERNAL = "internal"  # a gateway bug (500)


_SHORT_LABELS: dict[Category, str] = {
    Category.OK: "works",
    Category.BAD_KEY: "invalid key",
    Category.MODEL_NOT_FOUND: "model not found",
    Category.WRONG_ADDRESS: "wrong address",
    Category.NETWORK: "unreachable",
    Category.RATE_LIMITED: "rate limited or out of quota",
    Category.UPSTREAM_ERROR: "upstream error",
    Category.CONFIG: "configuration error",
    Category.BAD_REQUEST: "bad request",
    Category.GATEWAY_KEY: "gateway key refused",
    Category.INTERRUPTED: "interrupted",
    Category.INTERNAL: "gateway error",
}


def short_label(category: Category) -> str:
    """A few words for a category, where a line per key has no room for the hint."""
    return _SHORT_LABELS[category]


# Path segments that mean a full endpoint was pasted, or a segment was doubled.
_DOUBLED = re.compile(r"(/v\d+[a-z0-9]*)\1(/|$)|/chat/completions/|/messages/v1/|/models/models")


_DATE_SUFFIX = re.compile(r"[-@:]?(\d{4}-?\d{2}-?\d{2}|latest|preview|\d{3,4})$")


def closest_models(model: str, available: list[str], n: int = 3) -> list[str]:
    """The listed models nearest to `model`, best first.

    Each candidate is also scored without a date or version suffix, since a
    typed "claude-sonet-4" means "claude-sonnet-4-20250514", not a shorter
    unrelated id.
    """
    wanted = model.lower()

    def score(candidate: str) -> float:
        lowered = candidate.lower()
        if wanted in lowered or lowered in wanted:
            return 2.0  # a prefix or a substring beats any fuzzy match
        stem = _DATE_SUFFIX.sub("", lowered)
        return max(
            difflib.SequenceMatcher(None, wanted, lowered).ratio(),
            difflib.SequenceMatcher(None, wanted, stem).ratio(),
        )

    ranked = sorted(((score(m), m) for m in available), key=lambda pair: -pair[0])
    if not ranked:
        return []
    floor = max(0.5, ranked[0][0] - 0.1)  # only names about as close as the best one
    return [m for value, m in ranked[:n] if value >= floor]


# An upstream failure's category by its exception class, most specific first; any other
# failure is UPSTREAM_ERROR. Read by `diagnose` and by the usage ledger (`category_of`).
_CATEGORIES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], Category], ...] = (
    (AuthenticationError, Category.BAD_KEY),
    (ModelNotFoundError, Category.MODEL_NOT_FOUND),
    ((NotFoundError, BadResponseError), Category.WRONG_ADDRESS),
    (NetworkError, Category.NETWORK),  # timeouts included
    (RateLimitError, Category.RATE_LIMITED),
    (ConfigError, Category.CONFIG),
)


def category_of(error: BaseException) -> Category:
    """The category of `error` alone, without a hint (what a usage record keeps)."""
    for kinds, category in _CATEGORIES:
        if isinstance(error, kinds):
            return category
    return Category.UPSTREAM_ERROR


def diagnose(
    error: BaseException,
    provider: Provider,
    *,
    available_models: list[str] | None = None,
) -> tuple[Category, str]:
    """The category of `error` and a hint that says what to do next.

    The hint is "" when the error's own message already says it all (callers show
    the message, then the hint when there is one).
    """
    category = category_of(error)
    return category, _hint(category, error, provider, available_models)


def _hint(
    category: Category, error: BaseException, provider: Provider, available: list[str] | None
) -> str:
    if category is Category.BAD_KEY:
        return _bad_key_hint(provider)
    if isinstance(error, ModelNotFoundError):
        return _model_hint(provider, error.model, available)
    if isinstance(error, NotFoundError | BadResponseError):
        return _address_hint(provider, error.url)
    if isinstance(error, UpstreamTimeoutError):
        return (
            f"{display_url(provider.base_url)} did not answer in time. The server may be "
            "overloaded or still loading the model; check the base URL, a proxy (HTTPS_PROXY) or a "
            "firewall, or try again with a longer timeout."
        )
    if isinstance(error, NetworkError):
        return _network_hint(provider, error.message)
    if isinstance(error, RateLimitError):
        wait = f" The upstream asks to wait {error.retry_after:.0f} s." if error.retry_after else ""
        return (
            "The key works but the upstream is rate limiting it, or its quota or credit is "
            f"used up.{wait} Wait and retry, or check the plan's limits on the provider's site."
        )
    if isinstance(error, ConfigError):
        return ""  # its message already says what to fix
    if isinstance(error, ProviderError):
        return (
            "The upstream reported an error of its own (its message is above). If it persists, "
            "check the provider's status page."
        )
    if isinstance(error, CherryError):
        return ""  # its message is all there is to say
    return f"Unexpected error: {type(error).__name__}."


def _bad_key_hint(provider: Provider) -> str:
    if not provider.api_key:
        return (
            f"{provider.name} needs an API key and none is set. Add one in `%chat setup` or "
            f"with `cherry-nb` (the key field of provider {provider.id!r})."
        )
    source = (
        f" It comes from the environment variable {provider.api_key[4:]}; check its value."
        if provider.api_key.startswith("env:")
        else ""
    )
    return (
        f"The key ({provider.key_hint}) was rejected. Check that it was copied whole with no "
        "spaces or quotes, that it belongs to this provider (a key from one service does not "
        f"work on another or on a relay), and that it has not been deleted or expired.{source}"
    )


def _model_hint(provider: Provider, model: str, available: list[str] | None) -> str:
    if available:
        near = closest_models(model, available)
        if near:
            return (
                f"{provider.id} does not serve {model!r}. Closest it lists: "
                f"{', '.join(near)}. Model ids are case-sensitive and often carry a date."
            )
        return (
            f"{provider.id} does not serve {model!r}. It lists {len(available)} models, e.g. "
            f"{', '.join(available[:5])}."
        )
    return (
        f"{provider.id} does not serve {model!r}. Fetch its list with "
        f"`cherry-nb models {provider.id} --fetch` and pick an id from it."
    )


def _address_hint(provider: Provider, url: str | None) -> str:
    where = url or provider.base_url
    if _DOUBLED.search(where):
        return (
            f"The request went to {where}, where a path segment is doubled: the base URL "
            "probably already contains part of the endpoint. Set it to the API root only "
            "(e.g. https://api.example.com/v1) and let cherry_nb add the rest."
        )
    return (
        f"Nothing at {where} speaks the {provider.type} API (404 or a web page). Check the base "
        "URL: it should be the API root shown in the provider's docs (for OpenAI-compatible "
        "servers usually ending in /v1), not a web console or a full endpoint."
    )


def _network_hint(provider: Provider, message: str) -> str:
    lowered = message.lower()
    if "refused" in lowered:
        cause = "nothing is listening there. Is the server running, on that port?"
    elif "dns" in lowered or "resolved" in lowered:
        cause = "the host name does not resolve. Check its spelling, or your DNS."
    elif "tls" in lowered or "ssl" in lowered:
        cause = "the TLS handshake failed: check http:// vs https://, or a proxy's certificate."
    elif "dropped" in lowered:
        cause = "the connection was cut mid-reply: a proxy or an unstable server."
    else:
        cause = "the connection failed."
    return (
        f"Could not reach {display_url(provider.base_url)}: {cause} Also check a proxy "
        "(HTTPS_PROXY) or a firewall between here and the server."
    )
