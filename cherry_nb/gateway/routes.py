"""Every route the gateway serves, in one table the gate reads.

The gate answers what it can from this table alone — a method not allowed, a path that
does not exist, a doubled slash, a route open without the key — before any route code
runs. Adding a route is one line here (and its handler in the chat routes or in Quart).

Open routes are an exact list: a path is open only if it is written here, so no
prefix (`/api-docs/...`) can make a provider route unauthenticated.
"""

from __future__ import annotations

from dataclasses import dataclass

from .docs import DOCS_PATHS
from .errors import Envelope

#: The path segment a route template uses for a provider (or model group) id.
PROVIDER = "{provider}"
_GET = frozenset({"GET", "HEAD"})
_POST = frozenset({"POST"})


@dataclass(frozen=True, slots=True)
class Route:
    """One path template: its methods, the envelope of its errors, who answers it.

    `fast` routes are answered by the chat routes (a plain ASGI app, bench/README.md);
    the rest by Quart. `open` routes need no gateway key. `recorded` routes' requests go
    in the usage ledger (gateway/usage.py): API traffic, not what browsers and monitors
    poll.
    """

    template: str
    methods: frozenset[str]
    envelope: Envelope = "openai"
    fast: bool = False
    open: bool = False
    recorded: bool = True


ROUTES: tuple[Route, ...] = (
    Route("/", _GET, open=True, recorded=False),
    Route("/health", _GET, open=True, recorded=False),
    *(Route(path, _GET, open=True, recorded=False) for path in sorted(DOCS_PATHS)),
    Route("/v1/models", _GET),
    Route("/metrics", _GET, recorded=False),
    Route("/v1/chat/completions", _POST, fast=True),
    Route(f"/{PROVIDER}/v1/chat/completions", _POST, fast=True),
    Route("/v1/messages", _POST, "anthropic", fast=True),
    Route(f"/{PROVIDER}/v1/messages", _POST, "anthropic", fast=True),
    Route("/v1/messages/count_tokens", _POST, "anthropic"),
    Route(f"/{PROVIDER}/v1/messages/count_tokens", _POST, "anthropic"),
    Route("/v1/responses", _POST, "responses", fast=True),
    Route(f"/{PROVIDER}/v1/responses", _POST, "responses", fast=True),
    Route("/v1/embeddings", _POST),
    Route(f"/{PROVIDER}/v1/embeddings", _POST),
    Route("/v1/responses/input_tokens", _POST, "responses"),
    Route(f"/{PROVIDER}/v1/responses/input_tokens", _POST, "responses"),
)


class RouteTable:
    """Path -> (route, provider id); an exact dict lookup first (the hot path)."""

    __slots__ = ("_exact", "_suffixed")

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self._exact = {r.template: r for r in routes if PROVIDER not in r.template}
        prefix = f"/{PROVIDER}"
        self._suffixed = [
            (r.template.removeprefix(prefix), r) for r in routes if r.template.startswith(prefix)
        ]

    def match(self, path: str) -> tuple[Route, str | None] | None:
        route = self._exact.get(path)
        if route is not None:
            return route, None
        for suffix, route in self._suffixed:
            if path.endswith(suffix) and path.startswith("/"):
                provider_id = path[1 : -len(suffix)]
                if provider_id and "/" not in provider_id:
                    return route, provider_id
        return None


TABLE = RouteTable(ROUTES)
