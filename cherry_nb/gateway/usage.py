"""The usage of one gateway request: gathered while it is answered, recorded once at its end.

The gate (gateway/gate.py) makes a `RequestUsage` for every request it records, puts it
in the ASGI scope (`USAGE`) and sends the reply through its `send`, which notes the
status and the time of the first body byte and hands one `UsageRecord` to the recorder
just before the reply's last byte goes out: a client that has its whole reply can
already find it in the ledger. A request whose reply never finished (the client left,
or the gateway stopped it) is recorded when its handler returns, with status 499 —
unless the stream's last event had reached the client (`delivered`: streaming clients
close as soon as they read it).

What the handlers add on the way: the provider and model that served it (the relay
does, on each upstream attempt, so a request moved to another upstream is recorded with
the one that answered), the tokens (the neutral usage of a translated reply, or what a
passthrough reply's bytes state: wire/usage_scan.py), whether the client asked for a
stream, and for a failure its category (diagnosis.py's) — for a stream that ended with
its protocol's error event, also the status the error would have had before the first
byte, so that errors after it count as errors.

Recorded: every request to an API route, whatever its status — 401/403 for a missing or
wrong gateway key (`key_name` None), 404 for a path that is no route (route
`NO_ROUTE`), 405, 413, the upstreams' errors. Not recorded: the open routes (index,
health, docs) and /metrics, which browsers and monitors poll; CORS preflights;
doubled-slash redirects; requests refused by the Host check (a DNS-rebinding attempt is
not usage).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from .._exceptions import RequestError, WireFormatError
from ..diagnosis import Category, category_of
from ..ledger.recorder import Recorder
from ..ledger.records import UsageRecord, token_counts
from ..wire.neutral import Usage
from .errors import status_of

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]

#: Where the gate leaves a recorded request's RequestUsage in the ASGI scope.
USAGE = "cherry_nb.usage"
#: The route of a request whose path matched none.
NO_ROUTE = "(no route)"
#: nginx's "client closed request": the client left before its reply was complete.
CLIENT_CLOSED = 499


class RequestUsage:
    """One request's usage so far, and the `send` that records it when the reply ends."""

    __slots__ = (
        "_send",
        "_recorder",
        "route",
        "client_format",
        "arrived",
        "began",
        "key_name",
        "provider",
        "model",
        "stream",
        "tokens",
        "status",
        "category",
        "reply_status",
        "first_byte",
        "delivered",
        "recorded",
    )

    def __init__(
        self,
        send: Send | None = None,
        recorder: Recorder | None = None,
        route: str = "",
        client_format: str = "",
        arrived: float = 0.0,
    ) -> None:
        """With no `recorder` (a request the gate does not record) it records nothing."""
        self._send = send
        self._recorder = recorder
        self.route = route
        self.client_format = client_format
        self.arrived = arrived  # Unix seconds, for the record
        self.began = time.perf_counter()  # for the durations
        self.key_name: str | None = None
        self.provider: str | None = None
        self.model: str | None = None
        self.stream = False
        self.tokens: Usage | None = None
        self.status: int | None = None  # recorded instead of the reply's status, when set
        self.category: str | None = None
        self.reply_status: int | None = None
        self.first_byte: float | None = None
        # A stream's last event was handed over: a client that leaves now (a streaming
        # client closes once it has read the end) left nothing unread.
        self.delivered = False
        self.recorded = False

    # ---- what handlers tell it --------------------------------------------------------

    def served_by(self, provider_id: str, model: str) -> None:
        """The upstream this request went to (the latest attempt's, if it moved)."""
        self.provider, self.model = provider_id, model

    def failed(self, error: BaseException) -> None:
        """The error its error reply was made of: its category is recorded."""
        self.category = error_category(error)

    def client_left(self) -> None:
        """The client went away: 499, unless it had its whole reply already."""
        if not self.delivered:
            self.ended_early(CLIENT_CLOSED, Category.INTERRUPTED)

    def ended_early(self, status: int, category: Category | str) -> None:
        """Its reply began but did not end as it should: record `status` instead."""
        self.status = status
        self.category = category

    # ---- the reply going out ----------------------------------------------------------

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.reply_status = message["status"]
        elif kind == "http.response.body":
            if self.first_byte is None and message.get("body"):
                self.first_byte = time.perf_counter()
            if not message.get("more_body", False):
                self.finish()
        assert self._send is not None, "only the gate's RequestUsage sends"
        await self._send(message)

    def finish(self) -> None:
        """Record the request, once; the gate calls it again when the handler returns."""
        if self.recorded or self._recorder is None:
            return
        self.recorded = True
        now = time.perf_counter()
        status = self.status or self.reply_status or CLIENT_CLOSED
        category = None
        if status >= 400:
            category = str(self.category or status_category(status))
        tokens = self.tokens
        ttft = None
        if self.stream and self.first_byte is not None and (self.reply_status or 500) < 400:
            ttft = (self.first_byte - self.began) * 1000
        self._recorder.record(
            UsageRecord(
                time=self.arrived,
                route=self.route,
                client_format=self.client_format,
                key_name=self.key_name,
                provider=self.provider,
                model=self.model,
                status=status,
                error_category=category,
                **token_counts(tokens),
                ttft_ms=ttft,
                duration_ms=(now - self.began) * 1000,
                stream=self.stream,
            )
        )


def request_usage(scope: Mapping[str, object]) -> RequestUsage | None:
    """The RequestUsage the gate left in `scope`, if it records this request."""
    usage = scope.get(USAGE)
    return usage if isinstance(usage, RequestUsage) else None


def error_category(error: BaseException) -> Category:
    """An upstream failure's category (diagnosis.py), or the gateway's refusal's."""
    if isinstance(error, RequestError | WireFormatError):
        return status_category(status_of(error))
    return category_of(error)


def status_category(status: int) -> Category:
    """The category of a refusal known only by its status."""
    if status in (401, 403):
        return Category.GATEWAY_KEY
    if status == 404:
        return Category.MODEL_NOT_FOUND  # the model or provider named is not served here
    if status == CLIENT_CLOSED:
        return Category.INTERRUPTED
    if status < 500:
        return Category.BAD_REQUEST
    return Category.INTERNAL if status == 500 else Category.UPSTREAM_ERROR
