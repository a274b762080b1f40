"""What every provider adapter does, written once.

An adapter speaks one upstream's wire protocol. Its URLs, auth header, wire format
name and model-list shape come from the provider's kind (`config/kinds.py`), through
the address normalised at use (`config/urls.py`), so the URL preview shows what is
called. Subclasses say only what is code rather than data — the converter module,
protocol headers, where the model goes in a body — and inherit sending, retry, key
rotation, streaming and error mapping.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Mapping
from typing import Any

import httpx

from .._exceptions import BadResponseError, ConfigError, ProviderError, WireFormatError
from .._json import compact_json
from ..config.kinds import ModelListShape, ProviderKind, kinds_with
from ..config.models import UPSTREAM_CONNECTIONS, ModelEntry, Provider
from ..config.urls import Address, provider_address
from ..wire import anthropic as wire_anthropic
from ..wire import embeddings as wire_embeddings
from ..wire import gemini as wire_gemini
from ..wire._text import readable_text
from ..wire.accumulate import response_events
from ..wire.formats import StreamReader, WireFormat, wire_format
from ..wire.neutral import ChatRequest, ChatResponse, StreamEvent
from ..wire.sse import SSEParser
from .client import UpstreamClient
from .key_health import KeyRing
from .plain_http import PlainHTTPTransport, plain_http_allowed
from .transport import (
    DEFAULT_TIMEOUT,
    MAX_REPLY_BYTES,
    RequestContext,
    RetryPolicy,
    map_httpx_error,
    read_capped,
    send,
    shown_url,
)
from .upstream import UpstreamStream


class Adapter:
    """One provider's upstream. Use from one event loop; see `AdapterPool`."""

    #: This upstream's wire format (from its kind): its converters, and what clients
    #: speak to reach it unchanged (the gateway's passthrough).
    wire: WireFormat

    def __init__(
        self,
        provider: Provider,
        client: UpstreamClient,
        policy: RetryPolicy | None = None,
        limit: asyncio.Semaphore | None = None,
    ) -> None:
        self.provider = provider
        self.client = client
        self.policy = policy or RetryPolicy()
        # Normalised here, at use, whatever wrote the base URL (a hand-edited file too).
        self.address: Address = provider_address(provider)
        self.kind: ProviderKind = self.address.kind
        self.base = self.address.base
        #: The wire format clients speak to reach this upstream unchanged.
        self.wire = wire_format(self.kind.wire_format)
        self._keys = provider.api_keys()
        #: Which key next: rotation that skips keys cooling down or rejected.
        self.keys = KeyRing(provider.id, self.base, self._keys)
        #: At most `max_concurrency` requests in flight, each from sending to closing.
        self.limit = limit if limit is not None else concurrency_limit(provider)
        self._urls: dict[str, httpx.URL] = {}
        # Lower-cased once here, not per request (see _headers).
        self._provider_headers = {k.lower(): v for k, v in provider.headers.items()}
        self._auth_name = self.kind.auth_header.lower()
        self._protocol_headers = {k.lower(): v for k, v in self.protocol_headers().items()}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider.id} {self.provider.type}>"

    # ---- protocol hooks ---------------------------------------------------------

    def chat_url(self, model: str, *, stream: bool) -> str:
        return self.address.chat_url(model, stream=stream)

    def models_url(self) -> str:
        return self.address.models_url()

    def embeddings_url(self, model: str) -> str:
        """The kind's embeddings endpoint for `model`; a 400-class WireFormatError when the
        kind has none, naming the provider types that do."""
        url = self.address.embeddings_url(model)
        if url is None:
            types = ", ".join(kinds_with("embeddings"))
            raise WireFormatError(
                f"Provider {self.provider.id} (type {self.provider.type}) has no embeddings "
                f"endpoint; embeddings go to providers of type {types}.",
                param="model",
            )
        return url

    def protocol_headers(self) -> dict[str, str]:
        """Headers the protocol always needs besides auth (e.g. anthropic-version)."""
        return {}

    def place_model(self, body: dict[str, Any], model: str, stream: bool) -> None:
        """Put the model and stream flag where the protocol expects them."""
        body["model"] = model
        if stream:
            body["stream"] = True
        else:
            body.pop("stream", None)

    def parse_models(self, body: Any) -> list[ModelEntry]:
        """The models list, in the shape the kind declares."""
        return _MODEL_LISTS[self.kind.model_list](body)

    def stream_parser(self, model: str) -> StreamReader:
        return self.wire.StreamParser()

    # ---- generic behaviour ----------------------------------------------------------

    def _headers(self, key: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        """One request's headers: the provider's own, the key, the protocol's, then
        `extra`; names lower-cased, so a later one overrides an earlier however spelt."""
        headers = dict(self._provider_headers)
        if key:
            headers[self._auth_name] = f"Bearer {key}" if self.kind.bearer else key
        headers.update(self._protocol_headers)
        if extra:
            headers.update((name.lower(), value) for name, value in extra.items())
        return headers

    def context(self, model: str | None) -> RequestContext:
        return RequestContext(self.provider.id, self.provider.type, model)

    def _url(self, url: str) -> httpx.URL:
        """`url`, parsed once: httpx would parse a str on every request."""
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= 64:  # URLs may name models: keep the cache small
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        return parsed

    async def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        model: str | None = None,
        stream: bool = False,
        headers: Mapping[str, str] | None = None,
        policy: RetryPolicy | None = None,
    ) -> httpx.Response:
        """An open, successful upstream response; the caller must `aclose()` it."""
        extra = dict(headers or {})
        if content is not None:
            extra.setdefault("content-type", "application/json")
        if stream:
            # Compressed SSE gets buffered by some proxies; ask for it plain.
            extra.setdefault("accept-encoding", "identity")

        def build(key: str) -> httpx.Request:
            return self.client.request_for(
                method, self._url(url), content, self._headers(key, extra)
            )

        sending = send(
            self.client,
            build,
            self.context(model),
            self.wire.parse_error,
            policy or self.policy,
            self.keys,
        )
        if self.limit is None:
            return await sending
        return await _limited(self.limit, sending)

    async def open_chat(
        self,
        body: dict[str, Any],
        *,
        model: str,
        stream: bool,
        headers: Mapping[str, str] | None = None,
        policy: RetryPolicy | None = None,
    ) -> httpx.Response:
        """Send a body already in this upstream's wire format (passthrough)."""
        self.place_model(body, model, stream)
        content = compact_json(body).encode()
        return await self.request(
            "POST",
            self.chat_url(model, stream=stream),
            content=content,
            model=model,
            stream=stream,
            headers=headers,
            policy=policy,
        )

    async def open_upstream(
        self,
        body: dict[str, Any],
        *,
        model: str,
        stream: bool,
        headers: Mapping[str, str] | None = None,
        policy: RetryPolicy | None = None,
    ) -> UpstreamStream:
        """`open_chat` for a relay: the reply as an UpstreamStream (errors mapped)."""
        response = await self.open_chat(
            body, model=model, stream=stream, headers=headers, policy=policy
        )
        return self.upstream_stream(response, model)

    def upstream_stream(self, response: httpx.Response, model: str | None) -> UpstreamStream:
        return UpstreamStream(response, lambda exc: self.map_error(exc, response, model))

    async def count_tokens(self, body: dict[str, Any], model: str) -> bytes:
        """Anthropic's count_tokens reply (JSON bytes) for a Messages-format `body`.

        A kind with a count_tokens endpoint (an Anthropic-format body) counts upstream;
        for the others, the estimate of wire/anthropic/_tokens.py.
        """
        url = self.address.count_tokens_url(model)
        if url is not None:
            content = compact_json(dict(body, model=model)).encode()
            response = await self.request("POST", url, content=content, model=model)
            return await self.upstream_stream(response, model).read()
        parsed = wire_anthropic.parse_request(dict(body, max_tokens=body.get("max_tokens") or 1))
        return compact_json({"input_tokens": wire_anthropic.count_tokens(parsed)}).encode()

    def not_a_stream(self, upstream: UpstreamStream, data: bytes) -> BadResponseError:
        """The 502 for a stream request answered with neither events nor JSON."""
        text = readable_text(data[:2000].decode("utf-8", "replace"))[:200] or "(empty)"
        return BadResponseError(
            f"{self.provider.id} answered a streamed request with {upstream.media_type!r} "
            f"instead of an event stream: {text}",
            provider_id=self.provider.id,
            status=upstream.status,
        )

    def parse_reply(self, data: bytes) -> ChatResponse:
        """A whole JSON reply in this upstream's format, neutral; 502 if it is not one."""
        try:
            return self.wire.parse_response(json.loads(data))
        except ValueError as exc:
            if isinstance(exc, WireFormatError):
                raise self._malformed(exc) from exc
            raise BadResponseError(
                f"{self.provider.id} sent a reply that is not JSON: {data[:120]!r}",
                provider_id=self.provider.id,
            ) from exc

    async def open_embeddings(
        self, body: dict[str, Any], *, model: str, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """Send an embeddings body already in this upstream's format (passthrough)."""
        url = self.embeddings_url(model)
        self.place_model(body, model, False)
        content = compact_json(body).encode()
        return await self.request("POST", url, content=content, model=model, headers=headers)

    async def embed(
        self, request: wire_embeddings.EmbeddingRequest
    ) -> wire_embeddings.EmbeddingResponse:
        """One vector per input, from whichever embeddings endpoint the kind declares."""
        url = self.embeddings_url(request.model)
        codec = wire_embeddings.FORMATS[self.wire.name]
        content = compact_json(codec.build_request(request)).encode()
        response = await self.request("POST", url, content=content, model=request.model)
        data = await self._read_json(response, request.model)
        try:
            if not isinstance(data, dict):
                raise WireFormatError("the embeddings reply is not a JSON object")
            return codec.parse_response(data, request)
        except WireFormatError as exc:
            raise self._malformed(exc) from exc

    async def chat(
        self, request: ChatRequest, *, policy: RetryPolicy | None = None
    ) -> ChatResponse:
        """A whole reply, not streamed."""
        body = self.wire.build_request(request)
        response = await self.open_chat(body, model=request.model, stream=False, policy=policy)
        data = await self._read_json(response, request.model)
        try:
            return self.wire.parse_response(data)
        except WireFormatError as exc:
            raise self._malformed(exc) from exc

    async def stream(
        self, request: ChatRequest, *, policy: RetryPolicy | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        """Neutral stream events as they arrive; closing the iterator closes the upstream."""
        async for batch in self.stream_batches(request, policy=policy):
            for event in batch:
                yield event

    async def stream_batches(
        self, request: ChatRequest, *, policy: RetryPolicy | None = None
    ) -> AsyncGenerator[list[StreamEvent], None]:
        """`stream`'s events, grouped as they arrived (never an empty group).

        A relay writes each group at once: one write per upstream read rather than
        one per event, which under load is most of the cost of a translated stream.
        """
        body = self.wire.build_request(request)
        response = await self.open_chat(body, model=request.model, stream=True, policy=policy)
        upstream = self.upstream_stream(response, request.model)
        if not upstream.is_event_stream:
            # A whole reply where a stream was asked for (some relays do this): its
            # events, as one batch; anything else is not an answer at all.
            data = await upstream.read()
            if not upstream.is_json:
                raise self.not_a_stream(upstream, data)
            yield response_events(self.parse_reply(data))
            return
        async for batch in self.iter_batches(response, request.model):
            yield batch

    async def iter_batches(
        self, response: httpx.Response, model: str
    ) -> AsyncIterator[list[StreamEvent]]:
        """Decode an open streamed response into neutral events, grouped by the upstream
        read they were decoded from, then close it.

        An error in the middle of a read comes after the events decoded before it,
        as it would one event at a time.
        """
        sse = SSEParser()
        parser = self.stream_parser(model)

        def decode(chunk: bytes | None, batch: list[StreamEvent]) -> Exception | None:
            """Frame `chunk` (None: the end) and decode its events into `batch`."""
            try:
                for event in sse.feed(chunk) if chunk is not None else sse.close():
                    batch += parser.feed(event)
            except WireFormatError as exc:  # the upstream's fault, not the client's
                return self._malformed(exc)
            except Exception as exc:  # re-raised by the caller, after `batch`
                return exc
            return None

        try:
            async for chunk in response.aiter_bytes():
                batch: list[StreamEvent] = []
                error = decode(chunk, batch)
                if batch:
                    yield batch
                if error is not None:
                    raise error
            batch = []
            error = decode(None, batch)
            if error is None:
                batch += parser.close()
            if batch:
                yield batch
            if error is not None:
                raise error
        except httpx.HTTPError as exc:
            raise self.map_error(exc, response, model) from exc
        finally:
            await response.aclose()

    async def read_body(self, response: httpx.Response, model: str | None) -> bytes:
        """The whole body of an open response, which is then closed; BadResponseError
        (502) beyond MAX_REPLY_BYTES, which no chat reply comes near."""
        try:
            body, more = await read_capped(response, MAX_REPLY_BYTES)
            if more:
                raise BadResponseError(
                    f"{self.provider.id} ({self.provider.type}) sent a reply larger than "
                    f"{MAX_REPLY_BYTES // (1024 * 1024)} MB; it was not read further.",
                    provider_id=self.provider.id,
                    status=response.status_code,
                )
            return body
        except httpx.HTTPError as exc:
            raise self.map_error(exc, response, model) from exc
        finally:
            await response.aclose()

    def map_error(
        self, exc: httpx.HTTPError, response: httpx.Response, model: str | None
    ) -> ProviderError | ConfigError:
        """The cherry_nb error for `exc`, raised while reading `response`."""
        return map_httpx_error(exc, self.context(model), response.request.url)

    def _malformed(self, exc: WireFormatError) -> BadResponseError:
        """A reply that breaks its own protocol: 502 for a gateway client, never the
        400 a WireFormatError means when it is the client's request."""
        return BadResponseError(
            f"{self.provider.id} ({self.provider.type}) sent a malformed reply: {exc.message}",
            provider_id=self.provider.id,
        )

    async def list_models(self) -> list[ModelEntry]:
        """The models the upstream says it serves."""
        response = await self.request("GET", self.models_url())
        return self.parse_models(await self._read_json(response, None))

    async def _read_json(self, response: httpx.Response, model: str | None) -> Any:
        raw = await self.read_body(response, model)
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise BadResponseError(
                f"{self.provider.id} answered {shown_url(response.request.url)} with "
                f"something that is not JSON: {raw[:120]!r}",
                provider_id=self.provider.id,
                status=response.status_code,
            ) from exc


def concurrency_limit(provider: Provider) -> asyncio.Semaphore | None:
    """The semaphore enforcing the provider's `max_concurrency` (None: unlimited)."""
    limit = provider.max_concurrency
    return asyncio.Semaphore(limit) if limit is not None else None


async def _limited(
    limit: asyncio.Semaphore, sending: Coroutine[Any, Any, httpx.Response]
) -> httpx.Response:
    """`sending`'s response, holding a slot of `limit` until the response is closed
    (a streamed body included): a waiting or failed request gives its slot back."""
    try:
        await limit.acquire()
    except BaseException:
        sending.close()  # never awaited: cancelled while waiting for a slot
        raise
    try:
        response = await sending
    except BaseException:
        limit.release()
        raise
    response.stream = _SlotStream(response.stream, limit.release)
    return response


class _SlotStream(httpx.AsyncByteStream):
    """A response body that gives back its concurrency slot once, when closed."""

    def __init__(self, inner: Any, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


def _openai_models(body: Any) -> list[ModelEntry]:
    return [ModelEntry(id=m["id"]) for m in body.get("data", []) if m.get("id")]


def _anthropic_models(body: Any) -> list[ModelEntry]:
    return [
        ModelEntry(id=m["id"], name=m.get("display_name"))
        for m in body.get("data", [])
        if m.get("id")
    ]


def _gemini_models(body: Any) -> list[ModelEntry]:
    return [
        ModelEntry(id=model_id, name=name)
        for model_id, name in wire_gemini.list_models_from_wire(body)
    ]


_MODEL_LISTS: dict[ModelListShape, Callable[[Any], list[ModelEntry]]] = {
    "openai": _openai_models,
    "anthropic": _anthropic_models,
    "gemini": _gemini_models,
}


def new_client(
    *, timeout: httpx.Timeout = DEFAULT_TIMEOUT, max_connections: int = UPSTREAM_CONNECTIONS
) -> UpstreamClient:
    """The pooled client an adapter uses: keep-alive, no redirects (a redirect of a
    POST to an API is a misconfiguration worth reporting, not following). At most
    `max_connections` open at once; 64 idle ones are kept.

    Plain-http upstreams (local servers) go through `PlainHTTPTransport` unless an
    HTTP proxy is configured in the environment; everything else through httpx's own.
    """
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=64)
    plain = PlainHTTPTransport(limits) if plain_http_allowed() else None
    return UpstreamClient(plain=plain, timeout=timeout, limits=limits, follow_redirects=False)
