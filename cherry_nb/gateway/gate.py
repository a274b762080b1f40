"""The gate: one ASGI middleware in front of every route.

Every request passes here first, and only here are the Host header checked, the key
checked, CORS answered and added, the body size limited, 404/405s and doubled-slash
redirects answered, requests counted and recorded in the usage ledger, the providers'
keys masked in replies and an unexpected error turned into an envelope. Behind it the chat
routes (gateway/chat_routes.py) and Quart only route.

What it leaves for the route in the ASGI scope: `cherry_nb.route` (the Route matched and
the provider id in its path), `cherry_nb.key` (the name of the gateway key presented,
"default" for `server.api_key`; absent on open routes) and, for a request it records,
`cherry_nb.usage` (gateway/usage.py's RequestUsage: what the route learns, the provider,
model and tokens, goes there; the gate records it when the reply ends).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .._exceptions import CherryError
from .._secrets import redact
from ..diagnosis import Category
from .auth import authenticate
from .errors import (
    Envelope,
    envelope_for_path,
    error_body,
    error_reply,
    log_unexpected,
    method_not_allowed,
    shown,
    slash_redirect,
    too_large,
    unexpected,
)
from .reply import Reply, json_reply
from .routes import TABLE, Route, RouteTable
from .scrub import Secrets, StreamScrubber, scrub
from .state import GatewayState
from .usage import CLIENT_CLOSED, NO_ROUTE, USAGE, RequestUsage

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

log = logging.getLogger("cherry_nb.gateway")

ROUTE = "cherry_nb.route"
KEY_NAME = "cherry_nb.key"
_SLASHES = re.compile(rb"/{2,}")
_PREFLIGHT_HEADERS = {
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": (
        "authorization, content-type, x-api-key, anthropic-version, anthropic-beta"
    ),
    "access-control-max-age": "600",
    "vary": "Origin",
}
_DISCONNECT: Message = {"type": "http.disconnect"}


class Gate:
    """ASGI middleware: checks and answers everything route-independent, then `app`."""

    def __init__(self, state: GatewayState, app: ASGIApp, table: RouteTable = TABLE) -> None:
        self.state = state
        self.app = app
        self.table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state = self.state
        arrived = time.time()
        path: str = scope["path"]
        host = origin = forwarded = None
        authorization: list[str] = []
        api_keys: list[str] = []
        declared: int | None = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value.decode("latin-1")
            elif name == b"authorization":
                authorization.append(value.decode("latin-1"))
            elif name == b"x-api-key":
                api_keys.append(value.decode("latin-1"))
            elif name == b"content-length" and value.isdigit():
                declared = int(value)
            elif name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"x-forwarded-context":
                forwarded = value.decode("latin-1")
        matched = self.table.match(path)
        envelope = matched[0].envelope if matched else envelope_for_path(path)
        cors = state.cors_headers(origin) if origin and state.cors_origins else {}
        usage: RequestUsage | None = None
        try:
            derived = state.derived()
            server = scope.get("server")
            if not derived.hosts.allows(host, forwarded, server[1] if server else None):
                return await send_reply(send, _host_refused(envelope, host), {})
            if scope["method"] == "OPTIONS":
                return await send_reply(send, _preflight(state.cors_origins, origin), {})
            if matched is None and "//" in path:
                redirect = self._slash_redirect(scope)
                if redirect is not None:
                    return await send_reply(send, redirect, cors)
            if matched is None or matched[0].recorded:  # from here on, usage is recorded
                template = matched[0].template if matched else NO_ROUTE
                usage = scope[USAGE] = RequestUsage(
                    send, state.recorder, template, envelope, arrived
                )
                send = usage.send
            if matched is None or not matched[0].open:
                key_name = scope[KEY_NAME] = authenticate(authorization, api_keys, derived.keys)
                if usage is not None:
                    usage.key_name = key_name
            if matched is None:
                if usage is not None:
                    usage.category = Category.BAD_REQUEST  # a path that is no route
                return await send_reply(send, _no_route(envelope, scope["method"], path), cors)
            route = matched[0]
            if scope["method"] not in route.methods:
                allowed = sorted(route.methods)
                return await send_reply(
                    send, method_not_allowed(scope["method"], path, allowed), cors
                )
            if declared is not None and declared > state.max_body_bytes:
                return await send_reply(send, too_large(path, state.max_body_bytes), cors)
            if not route.open:
                state.requests += 1  # API requests served: not refused keys, health or docs
            scope[ROUTE] = matched
            # `_pass` answers every exception of the app itself.
            await self._pass(scope, receive, send, route, cors, derived.secrets)
        except CherryError as error:
            if usage is not None:
                usage.failed(error)
            return await send_reply(send, error_reply(envelope, error), cors)
        except asyncio.CancelledError:  # the server cut the request short
            if usage is not None:
                usage.ended_early(CLIENT_CLOSED, Category.INTERRUPTED)
            raise
        finally:
            if usage is not None:
                usage.finish()  # a no-op when the reply's last byte recorded it

    async def _pass(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        route: Route,
        cors: dict[str, str],
        secrets: Secrets,
    ) -> None:
        """Call the app with the body limited and every reply byte through `_Replies`."""
        limit = self.state.max_body_bytes
        received = 0
        over = False

        async def limited() -> Message:
            nonlocal received, over
            if over:
                return _DISCONNECT
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True  # the route sees a client gone; the gate answers 413
                    return _DISCONNECT
            return message

        replies = _Replies(send, cors, secrets if scope["method"] != "HEAD" else ())
        try:
            await self.app(scope, limited, replies.send)
        except Exception as error:
            if replies.started:
                log_unexpected(scope["path"], error)
                usage = scope.get(USAGE)
                if usage is not None:
                    usage.ended_early(500, Category.INTERNAL)
                return
            return await send_reply(send, unexpected(scope["path"], error, route.envelope), cors)
        if over and not replies.started:
            await send_reply(send, too_large(scope["path"], limit), cors)

    def _slash_redirect(self, scope: Scope) -> Reply | None:
        """A 308 to the path without doubled slashes, if that path is a route."""
        collapsed = _SLASHES.sub(b"/", scope["path"].encode("utf-8", "surrogateescape"))
        if self.table.match(collapsed.decode("utf-8", "surrogateescape")) is None:
            return None
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        target = _SLASHES.sub(b"/", raw_path).decode("latin-1")
        return slash_redirect(target, scope.get("query_string", b"").decode("latin-1"))


class _Replies:
    """The `send` a route gets: CORS headers added, providers' keys masked.

    A reply with a Content-Length is held whole (it is one buffer anyway) so that its
    length can be corrected after masking; a stream is masked read by read.
    """

    __slots__ = ("_send", "_cors", "_secrets", "_scrubber", "_held", "_parts", "started")

    def __init__(self, send: Send, cors: dict[str, str], secrets: Secrets) -> None:
        self._send = send
        self._cors = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in cors.items()]
        self._secrets = secrets
        self._scrubber: StreamScrubber | None = None
        self._held: Message | None = None
        self._parts: list[bytes] = []
        self.started = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.started = True
            if self._cors:
                message["headers"] = [*message["headers"], *self._cors]
            if not self._secrets:
                return await self._send(message)
            if any(name.lower() == b"content-length" for name, _ in message["headers"]):
                self._held = message
                return None
            self._scrubber = StreamScrubber(self._secrets)
            return await self._send(message)
        if kind != "http.response.body" or not self._secrets:
            return await self._send(message)
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if self._held is not None:
            self._parts.append(body)
            if more:
                return None
            data = scrub(b"".join(self._parts), self._secrets)
            start, self._held, self._parts = self._held, None, []
            start["headers"] = [
                (name, str(len(data)).encode() if name.lower() == b"content-length" else value)
                for name, value in start["headers"]
            ]
            await self._send(start)
            return await self._send({"type": "http.response.body", "body": data})
        if self._scrubber is not None:
            data = self._scrubber.feed(body) if body else b""
            if not more:
                data += self._scrubber.flush()
            message = {"type": "http.response.body", "body": data, "more_body": more}
        return await self._send(message)


async def send_reply(send: Send, reply: Reply, cors: dict[str, str]) -> None:
    """A whole reply in two ASGI messages."""
    headers = {**reply.headers, **cors}
    if reply.status != 204:  # RFC 9110: a 204 has no Content-Length
        headers["content-length"] = str(len(reply.body))
    await send(start_message(reply.status, reply.content_type, headers))
    await send({"type": "http.response.body", "body": reply.body, "more_body": False})


def start_message(status: int, content_type: str, headers: dict[str, str]) -> Message:
    raw = [(b"content-type", content_type.encode("latin-1"))]
    raw.extend((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items())
    return {"type": "http.response.start", "status": status, "headers": raw}


def _host_refused(envelope: Envelope, host: str | None) -> Reply:
    message = redact(
        f"This gateway does not answer to the host name {shown(host or '', 100)!r} "
        "(a defence against DNS rebinding). Use its IP address or localhost, or add the "
        "name to server.allowed_hosts in the config."
    )
    return json_reply(error_body(envelope, message, 403, "permission_error"), 403)


def _no_route(envelope: Envelope, method: str, path: str) -> Reply:
    message = redact(f"No route {method} {shown(path)}. See /api-docs for the API.")
    return json_reply(error_body(envelope, message, 404), 404)


def _preflight(origins: tuple[str, ...], origin: str | None) -> Reply:
    """A CORS preflight: 204 for a configured origin, 403 for any other (CORS is off
    unless `server.cors_origins` lists origins)."""
    if not origins or origin not in origins:
        return Reply(403, b"", "text/plain")
    return Reply(
        204, b"", "text/plain", {"access-control-allow-origin": origin, **_PREFLIGHT_HEADERS}
    )
