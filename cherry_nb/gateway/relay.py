"""Moving one chat request from a gateway client to an upstream and back.

Same format on both sides: the body is passed through with only the model
replaced, and the reply's bytes relayed untouched (fidelity for everything we
do not model, and speed). Different formats: the neutral converters translate
the request, then the reply chunk by chunk — nothing is buffered whole.

Errors before the first byte become a status and an envelope; errors after it
become the client protocol's own error event, and the stream ends. A stream the
upstream cut off (the connection closed before its terminal event) ends the same way,
never as if complete; a stream request answered with one whole JSON reply is turned
into the client's stream events. The adapter hands over the upstream's reply as an
UpstreamStream (providers/upstream.py): raw chunks, errors already mapped.

Masking the providers' keys in replies is the gate's job (gateway/gate.py), on every
reply path at once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import BadResponseError, CherryError
from .._json import compact_json
from ..providers.base import Adapter
from ..providers.transport import RetryPolicy
from ..providers.upstream import UpstreamStream
from ..wire.accumulate import response_events
from ..wire.formats import CheckedRequest, StreamWriterProtocol, WireFormat
from ..wire.neutral import ChatRequest, StreamEnd, StreamEvent, StreamStart
from ..wire.usage_scan import StreamUsage, reply_usage
from .errors import Envelope
from .reply import JSON, SSE_HEADERS, Reply, StreamReply
from .usage import RequestUsage

log = logging.getLogger("cherry_nb.gateway")

# What ends a complete stream in each client format, as it appears unescaped in the
# bytes (inside a JSON string a quote would be escaped, so text cannot fake it); a
# passthrough stream that never shows one, nor an error event of the upstream's own, was
# cut off. A Responses stream's last event carries the whole response, so these are looked
# for in every read, not only at the end.
_TERMINAL: dict[str, tuple[bytes, ...]] = {
    "openai": (b"data: [DONE]",),
    "anthropic": (b'"message_stop"',),
    "responses": (b'"response.completed"', b'"response.incomplete"', b'"response.failed"'),
}
_UPSTREAM_ERROR = b'"error"'  # a JSON key or type; inside a string it would be escaped
_CARRY = 32  # bytes of the previous read kept, for a marker split between two reads
DROPPED_HEADER = "x-cherry-nb-dropped"
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
    # None: the adapter's own; a model group's members but the last get one attempt.
    policy: RetryPolicy | None = None
    # Where the upstream that served it and its tokens are noted, for the usage ledger.
    usage: RequestUsage = field(default_factory=RequestUsage)

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
    call.usage.served_by(call.adapter.provider.id, call.model)
    if call.passthrough:
        return await _passthrough(call)
    return await _translate(call)


# ---- same format: bytes through --------------------------------------------------


async def _passthrough(call: ChatCall) -> Reply | StreamReply:
    upstream = await call.adapter.open_upstream(
        call.body, model=call.model, stream=call.stream, headers=call.forward, policy=call.policy
    )
    if not call.stream:
        data = await upstream.read()
        call.usage.tokens = reply_usage(call.wire.name, data)
        return Reply(upstream.status, data, upstream.content_type or JSON)
    if not upstream.is_event_stream:
        # One whole reply where a stream was asked for: the client still gets a stream.
        return await _whole_as_stream(call, upstream)
    markers = (*_TERMINAL[call.envelope], _UPSTREAM_ERROR)
    tokens = StreamUsage(call.wire.name)

    async def chunks() -> AsyncGenerator[bytes, None]:
        ended = False
        carry = b""
        try:
            async for chunk in upstream.chunks():
                if not ended:
                    ended, carry = holds_marker(carry, chunk, markers)
                tokens.feed(chunk)
                yield chunk
                call.usage.delivered = ended
        finally:
            call.usage.tokens = tokens.usage()  # what was stated, if the client left early
            await upstream.aclose()
        if not ended:
            raise _cut_off(call)

    writer = call.wire.StreamWriter()
    return StreamReply(chunks(), writer.error, upstream.content_type)


def holds_marker(carry: bytes, chunk: bytes, markers: tuple[bytes, ...]) -> tuple[bool, bytes]:
    """Whether `chunk`, or its seam with the bytes read before it (`carry`), holds one of
    `markers`; and the carry for the next read. The read itself is never copied: this
    runs on every relayed read."""
    seam = carry + chunk[:_CARRY]
    found = any(m in chunk or m in seam for m in markers)
    return found, seam[-_CARRY:] if len(chunk) <= _CARRY else chunk[-_CARRY:]


async def _whole_as_stream(call: ChatCall, upstream: UpstreamStream) -> StreamReply:
    """The client's stream events for a whole JSON reply (or a 502 for anything else)."""
    data = await upstream.read()
    if not upstream.is_json:
        raise call.adapter.not_a_stream(upstream, data)
    response = call.adapter.parse_reply(data)
    call.usage.tokens = response.usage
    writer = call.wire.stream_writer(call.body)

    async def chunks() -> AsyncGenerator[bytes, None]:
        yield b"".join(writer.write(event) for event in response_events(response))
        call.usage.delivered = True

    return StreamReply(chunks(), writer.error)


def _cut_off(call: ChatCall) -> BadResponseError:
    provider = call.adapter.provider.id
    return BadResponseError(
        f"{provider} closed the stream before its end: the reply is incomplete.",
        provider_id=provider,
    )


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
        response = await call.adapter.chat(request, policy=call.policy)
        call.usage.tokens = response.usage
        response.model = call.requested_model
        data = compact_json(wire.build_response(response)).encode()
        # After the upstream request was built: its builder adds what it could not carry.
        return Reply(200, data, headers=_dropped(call, request))
    batches = call.adapter.stream_batches(request, policy=call.policy)
    try:
        first = await anext(batches)  # errors before the first byte keep their status
    except BaseException:
        await batches.aclose()
        raise
    writer = wire.stream_writer(call.body)
    chunks = _translated(call, batches, first, writer)
    return StreamReply(chunks, writer.error, headers={**SSE_HEADERS, **_dropped(call, request)})


def _dropped(call: ChatCall, request: ChatRequest) -> dict[str, str]:
    """The header naming the client's fields the translation could not carry."""
    if not request.dropped:
        return {}
    names = ",".join(request.dropped)
    log.info("%s to %s: dropped %s", call.envelope, call.adapter.provider.id, names)
    return {DROPPED_HEADER: names}


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
                elif isinstance(event, StreamEnd):
                    call.usage.tokens = event.usage
                    if event.stop_reason is None:
                        raise _cut_off(call)  # the upstream never said why it ended
                data = writer.write(event)
                if data:
                    out.append(data)
            if out:
                data, out = b"".join(out), []
                yield data
            if batch and isinstance(batch[-1], StreamEnd):
                call.usage.delivered = True  # its last event, written above
            batch = await anext(batches, None)
    except CherryError:
        if out:
            yield b"".join(out)
        raise
    finally:
        await batches.aclose()
