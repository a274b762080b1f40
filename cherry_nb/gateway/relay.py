"""Moving one chat request from a gateway client to an upstream and back.

Same format on both sides: the body is passed through with only the model
replaced, and the reply's bytes relayed untouched (fidelity for everything we
do not model, and speed). Different formats: the neutral converters translate
the request, then the reply chunk by chunk — nothing is buffered whole.

Errors before the first byte become a status and an envelope; errors after it
become the client protocol's own error event, and the stream ends.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
from quart import Response

from .._exceptions import CherryError
from ..providers.base import Adapter
from ..providers.transport import map_httpx_error
from ..wire import anthropic as wire_anthropic
from ..wire import openai as wire_openai
from ..wire.neutral import StreamEvent, StreamStart
from .errors import Envelope

WIRES: dict[str, ModuleType] = {"openai": wire_openai, "anthropic": wire_anthropic}
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
# Client headers worth forwarding when the upstream speaks the client's protocol.
_FORWARDED = frozenset(
    {"anthropic-beta", "anthropic-version", "openai-organization", "openai-project"}
)


@dataclass(slots=True)
class ChatCall:
    """One chat request, resolved: who asked in which format, for which upstream."""

    envelope: Envelope
    body: dict[str, Any]
    adapter: Adapter
    model: str  # the upstream's bare model id
    requested_model: str  # what the client wrote, echoed in translated replies
    headers: Mapping[str, str]

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def passthrough(self) -> bool:
        return self.adapter.wire_format == self.envelope


async def relay_chat(call: ChatCall) -> Response:
    if call.passthrough:
        return await _passthrough(call)
    return await _translate(call)


# ---- same format: bytes through --------------------------------------------------


async def _passthrough(call: ChatCall) -> Response:
    forward = _forwarded(call.headers)
    upstream = await call.adapter.open_chat(
        call.body, model=call.model, stream=call.stream, headers=forward
    )
    content_type = upstream.headers.get("content-type", "application/json")
    if not call.stream:
        try:
            data = await upstream.aread()
        except httpx.HTTPError as exc:
            raise _mapped(call, exc, upstream) from exc
        finally:
            await upstream.aclose()
        data = _scrub(data, call.adapter.secret_bytes)
        return Response(data, status=upstream.status_code, content_type=content_type)
    writer = WIRES[call.envelope].StreamWriter()
    secrets = call.adapter.secret_bytes

    async def body() -> AsyncIterator[bytes]:
        at_boundary = True
        try:
            async for chunk in upstream.aiter_raw():
                at_boundary = chunk.endswith(b"\n\n")
                yield _scrub(chunk, secrets)
        except httpx.HTTPError as exc:
            error = _mapped(call, exc, upstream)
            # Close any half-sent event before the error event, so it parses.
            yield (b"" if at_boundary else b"\n\n") + writer.error(error.message)
        finally:
            await upstream.aclose()

    return _sse_response(body(), content_type)


def _scrub(data: bytes, secrets: tuple[tuple[bytes, bytes], ...]) -> bytes:
    """Mask the provider's own keys in bytes relayed unparsed (a C-speed search per key).

    A key split across two reads of a stream is not caught; upstreams that echo keys
    do so inside one error message, which arrives whole in practice.
    """
    for secret, mask in secrets:
        if secret in data:
            data = data.replace(secret, mask)
    return data


def _forwarded(headers: Mapping[str, str]) -> dict[str, str]:
    """The `_FORWARDED` headers the client sent (the first of each, if not empty).

    One pass over the headers: a lookup per name would scan them all each time.
    """
    forward: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in headers.items():
        key = name.lower()
        if key in _FORWARDED and key not in seen:
            seen.add(key)
            if value:
                forward[key] = value
    return forward


def _mapped(call: ChatCall, exc: httpx.HTTPError, upstream: httpx.Response) -> CherryError:
    return map_httpx_error(exc, call.adapter.context(call.model), upstream.request.url)


# ---- different formats: translate ------------------------------------------------


async def _translate(call: ChatCall) -> Response:
    wire = WIRES[call.envelope]
    request = wire.parse_request(call.body)
    request.model = call.model
    if not call.stream:
        response = await call.adapter.chat(request)
        response.model = call.requested_model
        return Response(
            json.dumps(wire.build_response(response), ensure_ascii=False),
            content_type="application/json",
        )
    batches = call.adapter.stream_batches(request)
    try:
        first = await anext(batches)  # errors before the first byte keep their status
    except BaseException:
        await batches.aclose()
        raise
    writer = _writer(call)
    return _sse_response(_translated(call, batches, first, writer), "text/event-stream")


def _writer(call: ChatCall) -> Any:
    if call.envelope == "anthropic":
        return wire_anthropic.StreamWriter()
    options = call.body.get("stream_options")
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    return wire_openai.StreamWriter(include_usage=include_usage)


async def _translated(
    call: ChatCall,
    batches: AsyncGenerator[list[StreamEvent], None],
    first: list[StreamEvent],
    writer: Any,
) -> AsyncIterator[bytes]:
    """The client's stream: one write per upstream read, however many events it held."""
    out: list[bytes] = []
    try:
        batch: list[StreamEvent] | None = first
        while batch is not None:
            for event in batch:
                if isinstance(event, StreamStart):
                    event.model = call.requested_model
                data = writer.write(event)
                if data:
                    out.append(data)
            if out:
                data, out = b"".join(out), []
                yield data
            batch = await anext(batches, None)
    except CherryError as error:
        out.append(writer.error(error.message))
        yield b"".join(out)
    finally:
        await batches.aclose()


def _sse_response(body: AsyncIterator[bytes], content_type: str) -> Response:
    response = Response(body, content_type=content_type, headers=SSE_HEADERS)
    response.timeout = None  # a long reply is not a hung one
    return response
