"""Moving one chat request from a gateway client to an upstream and back.

Same format on both sides: the body is passed through with only the model
replaced, and the reply's bytes relayed untouched (fidelity for everything we
do not model, and speed). Different formats: the neutral converters translate
the request, then the reply chunk by chunk — nothing is buffered whole.

Errors before the first byte become a status and an envelope; errors after it
become the client protocol's own error event, and the stream ends.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from .._exceptions import CherryError
from .._json import compact_json
from ..providers.base import Adapter
from ..wire.formats import CheckedRequest, StreamWriterProtocol, WireFormat
from ..wire.neutral import StreamEvent, StreamStart
from .errors import Envelope
from .reply import JSON, Reply, StreamReply
from .scrub import StreamScrubber, scrub

# Client headers worth forwarding when the upstream speaks the client's protocol.
_FORWARDED = frozenset(
    {b"anthropic-beta", b"anthropic-version", b"openai-organization", b"openai-project"}
)


@dataclass(slots=True)
class ChatCall:
    """One chat request, resolved: who asked in which format, for which upstream."""

    envelope: Envelope
    body: dict[str, Any]
    checked: CheckedRequest  # the body, validated by its format (`WireFormat.check_request`)
    adapter: Adapter
    model: str  # the upstream's bare model id
    requested_model: str  # what the client wrote, echoed in translated replies
    forward: dict[str, str]  # client headers for a same-format upstream

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def wire(self) -> WireFormat:
        """The client's wire format."""
        return self.checked.wire

    @property
    def passthrough(self) -> bool:
        return self.adapter.wire is self.wire


async def relay_chat(call: ChatCall) -> Reply | StreamReply:
    if call.passthrough:
        return await _passthrough(call)
    return await _translate(call)


# ---- same format: bytes through --------------------------------------------------


async def _passthrough(call: ChatCall) -> Reply | StreamReply:
    upstream = await call.adapter.open_chat(
        call.body, model=call.model, stream=call.stream, headers=call.forward
    )
    content_type = upstream.headers.get("content-type", JSON)
    if not call.stream:
        data = await call.adapter.read_body(upstream, call.model)
        return Reply(upstream.status_code, scrub(data, call.adapter.secret_bytes), content_type)
    scrubber = StreamScrubber(call.adapter.secret_bytes)

    async def chunks() -> AsyncGenerator[bytes, None]:
        try:
            async for chunk in upstream.aiter_raw():
                yield scrubber.feed(chunk)
            yield scrubber.flush()
        except httpx.HTTPError as exc:
            raise call.adapter.map_error(exc, upstream, call.model) from exc
        finally:
            await upstream.aclose()

    writer = call.wire.StreamWriter()
    return StreamReply(chunks(), writer.error, content_type)


def forwarded_headers(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The `_FORWARDED` headers among ASGI's raw ones (the first of each, if not empty).

    One pass over the headers: a lookup per name would scan them all each time.
    """
    forward: dict[str, str] = {}
    seen: set[bytes] = set()
    for raw_name, value in headers:
        name = raw_name.lower()
        if name in _FORWARDED and name not in seen:
            seen.add(name)
            if value:
                forward[name.decode()] = value.decode("latin-1")
    return forward


# ---- different formats: translate ------------------------------------------------


async def _translate(call: ChatCall) -> Reply | StreamReply:
    wire = call.wire
    request = call.checked.to_translate()
    request.model = call.model
    if not call.stream:
        response = await call.adapter.chat(request)
        response.model = call.requested_model
        data = compact_json(wire.build_response(response)).encode()
        return Reply(200, data)
    batches = call.adapter.stream_batches(request)
    try:
        first = await anext(batches)  # errors before the first byte keep their status
    except BaseException:
        await batches.aclose()
        raise
    writer = wire.stream_writer(call.body)
    return StreamReply(_translated(call, batches, first, writer), writer.error)


async def _translated(
    call: ChatCall,
    batches: AsyncGenerator[list[StreamEvent], None],
    first: list[StreamEvent],
    writer: StreamWriterProtocol,
) -> AsyncGenerator[bytes, None]:
    """The client's stream: one write per upstream read, however many events it held.

    A failure raises after what was translated before it is written.
    """
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
    except CherryError:
        if out:
            yield b"".join(out)
        raise
    finally:
        await batches.aclose()
