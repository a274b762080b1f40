"""The chat routes as a plain ASGI app in front of Quart.

Chat requests are nearly all of a gateway's traffic, and Quart's per-request machinery
(request and response objects, two tasks and a body timer per request) cost more CPU
than the relay itself (bench/README.md). So POST /v1/chat/completions, /v1/messages and
/{provider-id}/v1/messages are answered here with the same checks and envelopes, and
every other request goes on to Quart.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .._exceptions import CherryError, ModelNotFoundError, RequestError
from ..config.models import Provider
from . import schemas
from .auth import authenticate
from .checks import json_object, resolve_model, validate
from .errors import (
    INTERNAL_ERROR,
    Envelope,
    error_reply,
    log_unexpected,
    method_not_allowed,
    slash_redirect,
    too_large,
    unexpected,
)
from .relay import ChatCall, forwarded_headers, relay_chat
from .reply import Reply, StreamReply
from .state import GatewayState

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # Quart's own, with its precise ASGI types
Validator = Callable[[dict[str, Any]], object]

log = logging.getLogger("cherry_nb.gateway")

_FIXED: dict[str, tuple[Envelope, Validator]] = {
    "/v1/chat/completions": ("openai", schemas.validate_chat),
    "/v1/messages": ("anthropic", schemas.validate_messages),
}
_PROVIDER_SUFFIX = "/v1/messages"
_SLASHES = re.compile(rb"/{2,}")
# Quart's default: a client that starts a body must finish it within this time.
BODY_TIMEOUT = 60.0
SHUTDOWN_MESSAGE = "The gateway is shutting down; this reply was cut short. Send it again."


def chat_route(path: str) -> tuple[Envelope, Validator, str | None] | None:
    """The envelope, validator and path provider id of a chat route, or None."""
    fixed = _FIXED.get(path)
    if fixed is not None:
        return (*fixed, None)
    if path.endswith(_PROVIDER_SUFFIX) and path.startswith("/"):
        provider_id = path[1 : -len(_PROVIDER_SUFFIX)]
        if provider_id and "/" not in provider_id:
            return "anthropic", schemas.validate_messages, provider_id
    return None


class _ClientGoneError(Exception):
    """The client closed its connection before its request was read."""


class ChatRoutes:
    """ASGI middleware: chat routes answered here, the rest passed to `app` (Quart's)."""

    def __init__(self, state: GatewayState, app: ASGIApp) -> None:
        self.state = state
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":  # preflights: Quart's
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        route = chat_route(path)
        if route is not None:
            return await self._answer(scope, receive, send, *route)
        if "//" in path and chat_route(_SLASHES.sub(b"/", path.encode()).decode()):
            raw_path = scope.get("raw_path") or path.encode()
            target = _SLASHES.sub(b"/", raw_path).decode("latin-1")
            reply = slash_redirect(target, scope.get("query_string", b"").decode("latin-1"))
            return await _send_reply(send, reply, self._cors(scope))
        return await self.app(scope, receive, send)

    def _cors(self, scope: Scope) -> dict[str, str]:
        if not self.state.cors_origins:
            return {}
        for name, value in scope["headers"]:
            if name == b"origin":
                return self.state.cors_headers(value.decode("latin-1"))
        return {}

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        envelope: Envelope,
        validator: Validator,
        provider_id: str | None,
    ) -> None:
        state = self.state
        authorization: list[str] = []
        api_keys: list[str] = []
        declared: int | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization.append(value.decode("latin-1"))
            elif name == b"x-api-key":
                api_keys.append(value.decode("latin-1"))
            elif name == b"content-length" and value.isdigit():
                declared = int(value)
        cors = self._cors(scope)
        task = asyncio.current_task()
        assert task is not None
        watcher: asyncio.Future[bool] | None = None
        try:
            authenticate(authorization, api_keys, state.api_key)
            state.requests += 1  # API requests served: not refused keys, health or docs
            if scope["method"] != "POST":
                return await _send_reply(
                    send, method_not_allowed(scope["method"], scope["path"], ["POST"]), cors
                )
            if declared is not None and declared > state.max_body_bytes:
                return await _send_reply(send, too_large(scope["path"], state.max_body_bytes), cors)
            raw = await _read_body(receive, state.max_body_bytes)
            if raw is None:
                return await _send_reply(send, too_large(scope["path"], state.max_body_bytes), cors)
            body = json_object(raw)
            validate(validator, body)
            # From here on, a client that leaves cancels the work (and the upstream call).
            watcher = asyncio.ensure_future(_cancel_on_disconnect(receive, task))
            reply = await _chat(state, envelope, body, provider_id, scope["headers"])
            if isinstance(reply, StreamReply):
                return await self._stream(send, reply, cors, task, watcher, scope["path"])
            return await _send_reply(send, reply, cors)
        except _ClientGoneError:
            return None
        except asyncio.CancelledError:
            if watcher is not None and watcher.done() and not watcher.cancelled():
                task.uncancel()  # the client left: there is no one to answer
                return None
            raise
        except CherryError as error:
            return await _send_reply(send, error_reply(envelope, error), cors)
        except Exception as error:
            return await _send_reply(send, unexpected(scope["path"], error), cors)
        finally:
            if watcher is not None:
                watcher.cancel()

    async def _stream(
        self,
        send: Send,
        reply: StreamReply,
        cors: dict[str, str],
        task: asyncio.Task[Any],
        watcher: asyncio.Future[bool],
        path: str,
    ) -> None:
        """Send a stream; a failure or shutdown ends it with the protocol's error event."""
        state = self.state
        await send(_start(reply.status, reply.content_type, {**reply.headers, **cors}))
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
            except asyncio.CancelledError:
                if task not in state.ended or watcher.done():
                    raise
                state.ended.discard(task)
                task.uncancel()
                message = SHUTDOWN_MESSAGE
            except Exception as error:  # a bug: the head is sent, so end the stream cleanly
                log_unexpected(path, error)
                message = INTERNAL_ERROR
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
    provider_id: str | None,
    headers: list[tuple[bytes, bytes]],
) -> Reply | StreamReply:
    requested = body.get("model")
    provider, model = resolve_model(state.config(), requested, provider_id)
    call = ChatCall(
        envelope=envelope,
        body=body,
        adapter=state.pool.adapter(provider),
        model=model,
        requested_model=str(requested),
        forward=forwarded_headers(headers),
    )
    try:
        return await relay_chat(call)
    except ModelNotFoundError as error:
        _list_configured(error, provider)
        raise


def _list_configured(error: ModelNotFoundError, provider: Provider) -> None:
    if provider.models:
        error.message += f" Configured for {provider.id}: {', '.join(provider.model_ids())}."


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it passes `limit` bytes."""
    message = await receive()
    if message["type"] == "http.disconnect":
        raise _ClientGoneError
    data: bytes = message.get("body", b"")
    if not message.get("more_body"):
        return data if len(data) <= limit else None
    parts, size = [data], len(data)
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            while message.get("more_body"):
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _ClientGoneError
                data = message.get("body", b"")
                size += len(data)
                if size > limit:
                    return None
                parts.append(data)
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


def _start(status: int, content_type: str, headers: dict[str, str]) -> dict[str, Any]:
    raw = [(b"content-type", content_type.encode("latin-1"))]
    raw.extend((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items())
    return {"type": "http.response.start", "status": status, "headers": raw}


async def _send_reply(send: Send, reply: Reply, cors: dict[str, str]) -> None:
    headers = {**reply.headers, **cors, "content-length": str(len(reply.body))}
    await send(_start(reply.status, reply.content_type, headers))
    await send({"type": "http.response.body", "body": reply.body, "more_body": False})
