"""The chat routes as a plain ASGI app in front of Quart.

Chat requests are nearly all of a gateway's traffic, and Quart's per-request machinery
(request and response objects, two tasks and a body timer per request) cost more CPU
than the relay itself (bench/README.md). So the routes the route table marks `fast`
(POST /v1/chat/completions, /v1/messages, /v1/responses, and each under /{provider-id})
are answered here,
and every other request goes on to Quart. The gate in front (gateway/gate.py) has
already checked the Host, the key, the method and the body's size.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .._exceptions import CherryError, ModelNotFoundError, RequestError
from ..config.models import Provider
from ..config.resolve import Target
from ..diagnosis import Category
from ..providers.transport import RetryPolicy
from ..wire.formats import CheckedRequest, wire_format
from .checks import check_request, json_object, resolve_targets
from .errors import INTERNAL_ERROR, Envelope, error_reply, log_unexpected, status_of
from .gate import ROUTE, send_reply, start_message
from .group_relay import relay_group
from .relay import ChatCall, forwarded_headers, relay_chat
from .reply import Reply, StreamReply
from .routes import Route
from .state import GatewayState
from .usage import CLIENT_CLOSED, RequestUsage, error_category, request_usage

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # Quart's own, with its precise ASGI types
log = logging.getLogger("cherry_nb.gateway")

# Quart's default: a client that starts a body must finish it within this time.
BODY_TIMEOUT = 60.0
SHUTDOWN_MESSAGE = "The gateway is shutting down; this reply was cut short. Send it again."


class _ClientGoneError(Exception):
    """The client closed its connection before its request was read."""


class ChatRoutes:
    """ASGI app: the fast routes answered here, the rest passed to `app` (Quart's)."""

    def __init__(self, state: GatewayState, app: ASGIApp) -> None:
        self.state = state
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched: tuple[Route, str | None] | None = scope.get(ROUTE)
        if matched is None or not matched[0].fast:
            return await self.app(scope, receive, send)
        route, provider_id = matched
        usage = request_usage(scope) or RequestUsage()  # the gate records every fast route
        await self._answer(scope, receive, send, route, provider_id, usage)

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        route: Route,
        provider_id: str | None,
        usage: RequestUsage,
    ) -> None:
        state = self.state
        envelope = route.envelope
        task = asyncio.current_task()
        assert task is not None
        watcher: asyncio.Future[bool] | None = None
        try:
            raw = await _read_body(receive)
            body = json_object(raw)
            usage.stream = body.get("stream") is True
            # The one validator: the client's wire format, named like the route's envelope.
            checked = check_request(wire_format(route.envelope), body)
            # From here on, a client that leaves cancels the work (and the upstream call).
            watcher = asyncio.ensure_future(_cancel_on_disconnect(receive, task))
            reply = await _chat(
                state, envelope, body, checked, provider_id, scope["headers"], usage
            )
            if isinstance(reply, StreamReply):
                return await self._stream(send, reply, task, watcher, scope["path"], usage)
            return await send_reply(send, reply, {})
        except _ClientGoneError:
            usage.ended_early(CLIENT_CLOSED, Category.INTERRUPTED)
            return None
        except asyncio.CancelledError:
            if watcher is not None and watcher.done() and not watcher.cancelled():
                task.uncancel()  # the client left: there is no one to answer
                usage.client_left()
                return None
            raise
        except CherryError as error:
            usage.failed(error)
            return await send_reply(send, error_reply(envelope, error), {})
        finally:
            if watcher is not None:
                watcher.cancel()

    async def _stream(
        self,
        send: Send,
        reply: StreamReply,
        task: asyncio.Task[Any],
        watcher: asyncio.Future[bool],
        path: str,
        usage: RequestUsage,
    ) -> None:
        """Send a stream; a failure or shutdown ends it with the protocol's error event
        (recorded with the status and category the failure would have had at the start)."""
        state = self.state
        await send(start_message(reply.status, reply.content_type, reply.headers))
        state.streams.add(task)
        last = b"\n\n"
        message: str | None = None
        try:
            try:
                async for chunk in reply.chunks:
                    if chunk:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                        last = chunk
            except CherryError as error:
                message = error.message
                usage.ended_early(status_of(error), error_category(error))
            except asyncio.CancelledError:
                if task not in state.ended or watcher.done():
                    raise
                state.ended.discard(task)
                task.uncancel()
                message = SHUTDOWN_MESSAGE
                usage.ended_early(503, Category.INTERRUPTED)
            except Exception as error:  # a bug: the head is sent, so end the stream cleanly
                log_unexpected(path, error)
                message = INTERNAL_ERROR
                usage.ended_early(500, Category.INTERNAL)
            finally:
                await reply.chunks.aclose()  # ends the upstream read, however we got here
            if message is not None:
                # Close any half-sent event first, so the error event parses.
                boundary = b"" if last.endswith(b"\n\n") else b"\n\n"
                event = boundary + reply.error_event(message)
                await send({"type": "http.response.body", "body": event, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            state.streams.discard(task)


async def _chat(
    state: GatewayState,
    envelope: Envelope,
    body: dict[str, Any],
    checked: CheckedRequest,
    provider_id: str | None,
    headers: list[tuple[bytes, bytes]],
    usage: RequestUsage,
) -> Reply | StreamReply:
    requested = body.get("model")
    resolution = resolve_targets(state.config(), requested, provider_id)
    forward = forwarded_headers(headers)

    def call_for(target: Target, policy: RetryPolicy | None = None) -> ChatCall:
        return ChatCall(
            envelope=envelope,
            # A passthrough writes the member's model into the body: each member its own.
            body=body if resolution.group is None else dict(body),
            checked=checked,
            adapter=state.pool.adapter(target.provider),
            model=target.model,
            requested_model=str(requested),
            forward=forward,
            policy=policy,
            usage=usage,  # each member notes itself: the last to be tried is the one named
        )

    if resolution.group is not None:
        _member, reply = await relay_group(state.pool, resolution, call_for)
        return reply
    target = resolution.first
    try:
        return await relay_chat(call_for(target))
    except ModelNotFoundError as error:
        _list_configured(error, target.provider)
        raise


def _list_configured(error: ModelNotFoundError, provider: Provider) -> None:
    if provider.models:
        error.message += f" Configured for {provider.id}: {', '.join(provider.model_ids())}."


async def _read_body(receive: Receive) -> bytes:
    """The whole request body (the gate limits its size)."""
    message = await receive()
    if message["type"] == "http.disconnect":
        raise _ClientGoneError
    data: bytes = message.get("body", b"")
    if not message.get("more_body"):
        return data
    parts = [data]
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            while message.get("more_body"):
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _ClientGoneError
                parts.append(message.get("body", b""))
    except TimeoutError:
        raise RequestError(
            f"The request body did not arrive within {BODY_TIMEOUT:.0f} s.",
            status=408,
            headers={"connection": "close"},
        ) from None
    return b"".join(parts)


async def _cancel_on_disconnect(receive: Receive, task: asyncio.Task[Any]) -> bool:
    while (await receive())["type"] != "http.disconnect":
        pass
    task.cancel()
    return True
