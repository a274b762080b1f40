"""The simulator: one HTTP server answering the OpenAI (Chat Completions and Responses),
Anthropic, Gemini and Azure routes.

This module routes, authenticates, applies scripted faults and records what it
saw; the protocol modules decide the bytes and `_http` moves them. Everything
runs synchronously inside the protocol callback unless a reply is streamed,
delayed or dropped, which keeps a plain request at one JSON parse and one write.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from json import loads as _loads
from typing import Any
from urllib.parse import parse_qsl, unquote

from . import embeddings as emb
from . import proto_anthropic as anth
from . import proto_gemini as gem
from . import proto_openai as oai
from . import proto_responses as resp
from ._http import HttpConnection, Reply, Request, ServerState
from .plan import (
    DEFAULT_MODELS,
    Conversation,
    InvalidRequestError,
    Options,
    make_plan,
    parse_directives,
)

__all__ = ["RecordedRequest", "Simulator", "PROVIDER_TYPES"]

PROVIDER_TYPES = ("openai", "anthropic", "gemini", "azure-openai", "openai-response")
MAX_RECORDED = 1000

JSON = "application/json"
GEMINI_JSON = "application/json; charset=UTF-8"
SSE = "text/event-stream; charset=utf-8"
HTML = "text/html; charset=utf-8"

NOT_FOUND_HTML = (
    b"<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1>"
    b"</center><hr><center>nginx</center></body></html>"
)
NOT_ALLOWED_HTML = (
    b"<html><head><title>405 Not Allowed</title></head><body><center><h1>405 Not Allowed</h1>"
    b"</center><hr><center>nginx</center></body></html>"
)
PORTAL_HTML = (
    b"<!DOCTYPE html><html><head><title>Sign in to the network</title></head><body>"
    b"<h1>Welcome to Guest Wi-Fi</h1><p>Please accept the terms of use to continue.</p>"
    b'<form method="post" action="/login"><button>Accept</button></form></body></html>'
)
_HEALTH = b'{"status":"ok"}'
_BAD_JSON = object()  # stands for a body that is not JSON, so each protocol can say so

Query = dict[str, str]
_GEMINI_ACTIONS = frozenset(
    {"generateContent", "streamGenerateContent", "countTokens", "batchEmbedContents"}
)
Handler = Callable[[Request, Query, Any], Reply]


@dataclass(slots=True, frozen=True)
class RecordedRequest:
    """One request as the simulator received it (header names lower-cased)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    body: bytes


def _bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization")
    if value is not None and value[:7].lower() == "bearer ":
        return value[7:].strip()
    return None


def _retry_after(opts: Options) -> float:
    """The wait a scripted fault asks the client for: one second unless set."""
    return opts.retry_after if opts.retry_after is not None else 1.0


def _retry_after_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _not_an_object(data: Any) -> bool:
    """A body that is not JSON, or JSON but not an object (an absent body is fine)."""
    return data is _BAD_JSON or (data is not None and not isinstance(data, dict))


def _anthropic_style(headers: dict[str, str]) -> bool:
    """Whether a request to a route both protocols share is Anthropic's."""
    return "x-api-key" in headers or "anthropic-version" in headers


class Simulator:
    """A fake LLM provider on 127.0.0.1 speaking four real wire protocols.

    `api_key=None` accepts any key (or none). `models` chat; `embedding_models` embed
    (deterministic vectors, see `embeddings.py`); the model lists name both, except
    Anthropic's, which has no embeddings. `script()` queues misbehaviour for the next
    chat or embeddings requests; `requests`, `active_streams` and the connection
    counters let tests see what happened on the wire.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        models: Sequence[str] = DEFAULT_MODELS,
        embedding_models: Sequence[str] = emb.EMBEDDING_MODELS,
    ) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key
        self.models: tuple[str, ...] = tuple(models)
        self._model_set = frozenset(self.models)
        self.embedding_models: tuple[str, ...] = tuple(embedding_models)
        self._embedding_set = frozenset(self.embedding_models)
        self._listed = self.models + tuple(
            m for m in self.embedding_models if m not in self._model_set
        )
        self.requests: deque[RecordedRequest] = deque(maxlen=MAX_RECORDED)
        self._scripts: deque[tuple[Options, list[int]]] = deque()  # (options, [uses left])
        self._state = ServerState()
        self._server: asyncio.Server | None = None
        self._seq = itertools.count(1)
        self._created = int(time.time())
        self._static: dict[str, dict[str, Handler]] = {
            "/health": {"GET": self._health},
            "/v1/models": {"GET": self._v1_models},
            "/v1/chat/completions": {"POST": self._openai_chat},
            "/v1/responses": {"POST": self._responses},
            "/v1/messages": {"POST": self._anthropic_messages},
            "/v1/messages/count_tokens": {"POST": self._anthropic_count},
            "/v1beta/models": {"GET": self._gemini_models},
            "/openai/models": {"GET": self._azure_models},
            "/openai/v1/models": {"GET": self._azure_v1_models},
            "/openai/v1/chat/completions": {"POST": self._azure_v1_chat},
            "/v1/embeddings": {"POST": self._openai_embeddings},
            "/openai/v1/embeddings": {"POST": self._azure_v1_embeddings},
        }

    # -- lifecycle ---------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def base_url(self, provider_type: str) -> str:
        """The base URL a user would configure for `provider_type` to reach this simulator."""
        if provider_type in ("openai", "openai-response"):
            return f"{self.url}/v1"
        if provider_type in ("anthropic", "gemini", "azure-openai"):
            return self.url
        raise ValueError(f"unknown provider type {provider_type!r}; use one of {PROVIDER_TYPES}")

    async def start(self) -> None:
        """Listen; with `port=0` the chosen port is in `self.port` afterwards."""
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        state, handler = self._state, self._handle
        self._server = await loop.create_server(
            lambda: HttpConnection(handler, state),
            self.host,
            self.port,
            reuse_address=True,
            # A gateway relaying hundreds of streams opens as many connections at once:
            # asyncio's default backlog (100) would drop the rest's SYNs (retried 1 s later).
            backlog=1024,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every connection (streams are cut). Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        connections = list(self._state.connections)
        tasks = [c.task for c in connections if c.task is not None]
        for connection in connections:
            connection.shutdown()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
        for _ in range(3):  # let connection_lost callbacks run
            if not self._state.connections:
                break
            await asyncio.sleep(0)

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- test controls -----------------------------------------------------------

    def script(
        self,
        *,
        count: int = 1,
        fail: int | None = None,
        retry_after: float | None = None,
        delay: float | None = None,
        words: int | None = None,
        drop_after: int | None = None,
        html: bool = False,
        cached: int | None = None,
    ) -> None:
        """Apply these options to the next `count` chat or embeddings requests (any
        protocol), FIFO; `cached` prompt tokens are reported as read from a cache.
        Embeddings heed `fail`, `retry_after`, `delay` and `html`."""
        if count <= 0:
            return
        options = Options(fail, retry_after, delay, words, drop_after, html, cached)
        self._scripts.append((options, [count]))

    def clear_script(self) -> None:
        """Forget every scripted option not yet used."""
        self._scripts.clear()

    @property
    def active_streams(self) -> int:
        """Streams currently being written (a stream ends when the client leaves)."""
        return self._state.active_streams

    @property
    def connections_opened(self) -> int:
        return self._state.connections_opened

    @property
    def connections_closed(self) -> int:
        """Connections that have closed, for whatever reason."""
        return self._state.connections_closed

    @property
    def open_connections(self) -> int:
        return len(self._state.connections)

    def _next_script(self) -> Options | None:
        if not self._scripts:
            return None
        options, left = self._scripts[0]
        left[0] -= 1
        if left[0] <= 0:
            self._scripts.popleft()
        return options

    # -- routing -----------------------------------------------------------------

    def _handle(self, req: Request) -> Reply:
        path = unquote(req.path) if "%" in req.path else req.path
        query = dict(parse_qsl(req.query, keep_blank_values=True)) if req.query else {}
        data: Any = None
        if req.body:
            try:
                data = _loads(req.body)
            except ValueError:
                data = _BAD_JSON
        self.requests.append(
            RecordedRequest(
                req.method,
                path,
                query,
                req.headers,
                None if data is _BAD_JSON else data,
                req.body,
            )
        )
        method = "GET" if req.method == "HEAD" else req.method
        routes = self._static.get(path)
        if routes is not None:
            handler = routes.get(method)
            if handler is None:
                return Reply(405, NOT_ALLOWED_HTML, HTML, headers=(("allow", ", ".join(routes)),))
            return handler(req, query, data)
        if path.startswith("/v1/models/") and method == "GET":
            return self._v1_model(req, path[11:])
        if path.startswith("/v1beta/models/"):
            return self._gemini_route(req, method, path[15:], query, data)
        if path.startswith("/openai/deployments/"):
            deployment, _, rest = path[20:].partition("/")
            if rest in ("chat/completions", "embeddings") and deployment:
                if method != "POST":
                    return Reply(405, NOT_ALLOWED_HTML, HTML, headers=(("allow", "POST"),))
                if rest == "embeddings":
                    return self._azure_embeddings(req, deployment, query, data)
                return self._azure_chat(req, deployment, query, data)
        return Reply(404, NOT_FOUND_HTML, HTML)

    def _options(self, conv: Conversation) -> Options:
        """Directives in the user text, overridden by the next scripted options."""
        conv.user_text, options = parse_directives(conv.user_text)
        scripted = self._next_script()
        return options if scripted is None else options.merged(scripted)

    def _key_ok(self, key: str | None) -> bool:
        return self.api_key is None or key == self.api_key

    def _health(self, req: Request, query: Query, data: Any) -> Reply:
        return Reply(200, _HEALTH)

    # -- OpenAI ------------------------------------------------------------------

    def _openai_auth(self, headers: dict[str, str]) -> Reply | None:
        key = _bearer(headers)
        if self._key_ok(key):
            return None
        return Reply(401, oai.auth_error(key))

    def _v1_models(self, req: Request, query: Query, data: Any) -> Reply:
        if _anthropic_style(req.headers):
            denied = self._anthropic_auth(req.headers)
            return denied or Reply(200, anth.models_list(self.models))
        denied = self._openai_auth(req.headers)
        return denied or Reply(200, oai.models_list(self._listed, self._created))

    def _v1_model(self, req: Request, name: str) -> Reply:
        if _anthropic_style(req.headers):
            denied = self._anthropic_auth(req.headers)
            if denied is not None:
                return denied
            if name not in self._model_set:
                return Reply(404, anth.model_not_found(name))
            return Reply(200, anth.model(name))
        denied = self._openai_auth(req.headers)
        if denied is not None:
            return denied
        if name not in self._model_set and name not in self._embedding_set:
            return Reply(404, oai.model_not_found(name))
        return Reply(200, oai.model(name, self._created))

    def _openai_chat(self, req: Request, query: Query, data: Any) -> Reply:
        denied = self._openai_auth(req.headers)
        return denied or self._openai_like(data, None, azure=None)

    def _openai_like(self, data: Any, deployment: str | None, azure: str | None) -> Reply:
        """Chat completions for OpenAI (`azure=None`) or Azure (`azure=` the api-version)."""
        if _not_an_object(data):
            return Reply(400, oai.invalid_json())
        try:
            conv = oai.parse_chat(data or {}, deployment=deployment)
        except InvalidRequestError as exc:
            return Reply(400, oai.invalid(exc))
        if conv.model not in self._model_set:
            if azure is not None:
                return Reply(404, oai.azure_deployment_not_found())
            return Reply(404, oai.model_not_found(conv.model))
        opts = self._options(conv)
        seq = next(self._seq)
        headers = (("x-request-id", f"req_sim{seq:08d}"),)
        faulted = self._openai_fault(opts, conv.model, azure, headers)
        if faulted is not None:
            return faulted
        plan = make_plan(conv, opts)
        rid, call_id, created = f"chatcmpl-sim{seq:08d}", f"call_sim{seq:08d}", int(time.time())
        if conv.stream:
            events, preamble = oai.completion_events(
                plan,
                rid=rid,
                call_id=call_id,
                created=created,
                model=conv.model,
                include_usage=conv.include_usage,
                azure=azure is not None,
            )
            return Reply(
                200,
                content_type=SSE,
                headers=headers,
                events=events,
                preamble=preamble,
                delay=opts.delay or 0.0,
                drop_after=opts.drop_after,
            )
        body = oai.completion(
            plan,
            rid=rid,
            call_id=call_id,
            created=created,
            model=conv.model,
            azure=azure is not None,
            choices=conv.choices,
        )
        return Reply(200, body, JSON, headers, delay=opts.delay or 0.0, drop_after=opts.drop_after)

    def _responses(self, req: Request, query: Query, data: Any) -> Reply:
        """`POST /v1/responses`: OpenAI's auth, errors and faults; Responses' own replies."""
        denied = self._openai_auth(req.headers)
        if denied is not None:
            return denied
        if _not_an_object(data):
            return Reply(400, oai.invalid_json())
        body = data or {}
        try:
            conv, ask = resp.parse_responses(body)
        except InvalidRequestError as exc:
            return Reply(400, oai.invalid(exc))
        if conv.model not in self._model_set:
            return Reply(404, oai.model_not_found(conv.model))
        previous = body.get("previous_response_id")
        if isinstance(previous, str) and previous:
            return Reply(404, resp.previous_not_found(previous))
        opts = self._options(conv)
        seq = next(self._seq)
        headers = (("x-request-id", f"req_sim{seq:08d}"),)
        if opts.fail is not None and 400 <= opts.fail <= 599:
            body_bytes = oai.fault(opts.fail, conv.model, _retry_after(opts))
            return self._fault_reply(opts, body_bytes, JSON, headers)
        if opts.html:
            return Reply(200, PORTAL_HTML, HTML, delay=opts.delay or 0.0)
        plan = make_plan(conv, opts)
        ids = {"rid": f"resp_sim{seq:08d}", "call_id": f"call_sim{seq:08d}"}
        created = int(time.time())
        if conv.stream:
            events, preamble = resp.response_events(plan, conv, ask, created=created, **ids)
            return Reply(
                200,
                content_type=SSE,
                headers=headers,
                events=events,
                preamble=preamble,
                delay=opts.delay or 0.0,
                drop_after=opts.drop_after,
            )
        reply = resp.response(plan, conv, ask, created=created, **ids)
        return Reply(200, reply, JSON, headers, delay=opts.delay or 0.0, drop_after=opts.drop_after)

    def _fault_reply(
        self, opts: Options, body: bytes, content_type: str, headers: tuple[tuple[str, str], ...]
    ) -> Reply:
        status = opts.fail
        assert status is not None
        if status == 429:
            headers = (*headers, ("retry-after", _retry_after_text(_retry_after(opts))))
        return Reply(status, body, content_type, headers, delay=opts.delay or 0.0)

    # -- Azure -------------------------------------------------------------------

    def _azure_auth(self, headers: dict[str, str]) -> Reply | None:
        if self._key_ok(headers.get("api-key") or _bearer(headers)):
            return None
        return Reply(401, oai.azure_auth_error())

    def _azure_deployment(
        self, req: Request, deployment: str, query: dict[str, str], known: Collection[str]
    ) -> Reply | str:
        """A deployment-path request's api-version, or the Reply Azure refuses it with
        (no api-version, a bad key, a deployment not among `known`)."""
        version = query.get("api-version")
        if not version:
            return Reply(404, oai.azure_resource_not_found())
        denied = self._azure_auth(req.headers)
        if denied is not None:
            return denied
        if deployment not in known:
            return Reply(404, oai.azure_deployment_not_found())
        return version

    def _azure_chat(self, req: Request, deployment: str, query: dict[str, str], data: Any) -> Reply:
        version = self._azure_deployment(req, deployment, query, self._model_set)
        if isinstance(version, Reply):
            return version
        return self._openai_like(data, deployment, azure=version)

    def _azure_v1_chat(self, req: Request, query: Query, data: Any) -> Reply:
        denied = self._azure_auth(req.headers)
        return denied or self._openai_like(data, None, azure=query.get("api-version", ""))

    def _azure_models(self, req: Request, query: Query, data: Any) -> Reply:
        if not query.get("api-version"):
            return Reply(404, oai.azure_resource_not_found())
        return self._azure_v1_models(req, query, data)

    def _azure_v1_models(self, req: Request, query: Query, data: Any) -> Reply:
        denied = self._azure_auth(req.headers)
        return denied or Reply(200, oai.models_list(self._listed, self._created))

    # -- Anthropic ---------------------------------------------------------------

    def _anthropic_auth(self, headers: dict[str, str]) -> Reply | None:
        key = headers.get("x-api-key") or _bearer(headers)
        if self._key_ok(key):
            return None
        return Reply(401, anth.auth_error(not key))

    def _anthropic_parse(self, req: Request, data: Any, count_only: bool) -> Reply | Conversation:
        denied = self._anthropic_auth(req.headers)
        if denied is not None:
            return denied
        if _not_an_object(data):
            return Reply(400, anth.invalid_json())
        try:
            conv = anth.parse_messages(data or {}, count_only=count_only)
        except InvalidRequestError as exc:
            return Reply(400, anth.error("invalid_request_error", exc.message))
        if conv.model not in self._model_set:
            return Reply(404, anth.model_not_found(conv.model))
        return conv

    def _anthropic_count(self, req: Request, query: Query, data: Any) -> Reply:
        conv = self._anthropic_parse(req, data, True)
        if isinstance(conv, Reply):
            return conv
        return Reply(200, anth.count_tokens(make_plan(conv, Options()).input_tokens))

    def _anthropic_messages(self, req: Request, query: Query, data: Any) -> Reply:
        conv = self._anthropic_parse(req, data, False)
        if isinstance(conv, Reply):
            return conv
        opts = self._options(conv)
        seq = next(self._seq)
        headers = (("request-id", f"req_sim{seq:08d}"),)
        if opts.fail is not None and 400 <= opts.fail <= 599:
            return self._fault_reply(opts, anth.fault(opts.fail, conv.model), JSON, headers)
        if opts.html:
            return Reply(200, PORTAL_HTML, HTML, delay=opts.delay or 0.0)
        plan = make_plan(conv, opts)
        mid, tool_id = f"msg_sim{seq:08d}", f"toolu_sim{seq:08d}"
        if conv.stream:
            events, preamble = anth.message_events(
                plan, mid=mid, tool_id=tool_id, model_name=conv.model
            )
            return Reply(
                200,
                content_type=SSE,
                headers=headers,
                events=events,
                preamble=preamble,
                delay=opts.delay or 0.0,
                drop_after=opts.drop_after,
            )
        body = anth.message(plan, mid=mid, tool_id=tool_id, model_name=conv.model)
        return Reply(200, body, JSON, headers, delay=opts.delay or 0.0, drop_after=opts.drop_after)

    # -- Gemini ------------------------------------------------------------------

    def _gemini_key_ok(self, req: Request, query: dict[str, str]) -> bool:
        return self._key_ok(req.headers.get("x-goog-api-key") or query.get("key"))

    def _gemini_models(self, req: Request, query: Query, data: Any) -> Reply:
        if not self._gemini_key_ok(req, query):
            return Reply(400, gem.auth_error(), GEMINI_JSON)
        return Reply(200, gem.models_list(self.models, self.embedding_models), GEMINI_JSON)

    def _gemini_route(
        self, req: Request, method: str, rest: str, query: dict[str, str], data: Any
    ) -> Reply:
        name, sep, action = rest.partition(":")
        if not name or "/" in name:
            return Reply(404, NOT_FOUND_HTML, HTML)
        if not sep:
            if method != "GET":
                return Reply(405, NOT_ALLOWED_HTML, HTML, headers=(("allow", "GET"),))
            if not self._gemini_key_ok(req, query):
                return Reply(400, gem.auth_error(), GEMINI_JSON)
            if name in self._embedding_set and name not in self._model_set:
                return Reply(200, gem.model(name, embedding=True), GEMINI_JSON)
            if name not in self._model_set:
                return Reply(404, gem.model_not_found(name, "get"), GEMINI_JSON)
            return Reply(200, gem.model(name), GEMINI_JSON)
        if action not in _GEMINI_ACTIONS:
            return Reply(404, NOT_FOUND_HTML, HTML)
        if method != "POST":
            return Reply(405, NOT_ALLOWED_HTML, HTML, headers=(("allow", "POST"),))
        if not self._gemini_key_ok(req, query):
            return Reply(400, gem.auth_error(), GEMINI_JSON)
        if _not_an_object(data):
            return Reply(400, gem.invalid_json(), GEMINI_JSON)
        if action == "batchEmbedContents":
            return self._gemini_embeddings(name, data or {})
        body = data or {}
        if action == "countTokens" and isinstance(body.get("generateContentRequest"), dict):
            body = body["generateContentRequest"]
        if name not in self._model_set:
            return Reply(404, gem.model_not_found(name, action), GEMINI_JSON)
        try:
            conv = gem.parse_generate(body, name)
        except InvalidRequestError as exc:
            return Reply(400, gem.invalid(exc), GEMINI_JSON)
        if action == "countTokens":
            return Reply(
                200, gem.count_tokens(make_plan(conv, Options()).input_tokens), GEMINI_JSON
            )
        opts = self._options(conv)
        seq = next(self._seq)
        if opts.fail is not None and 400 <= opts.fail <= 599:
            body = gem.fault(opts.fail, name, _retry_after(opts))
            return self._fault_reply(opts, body, GEMINI_JSON, ())
        if opts.html:
            return Reply(200, PORTAL_HTML, HTML, delay=opts.delay or 0.0)
        plan = make_plan(conv, opts)
        rid = f"sim{seq:08d}"
        if action == "streamGenerateContent":
            sse = query.get("alt") == "sse"
            events, preamble = gem.generate_events(plan, rid=rid, model_name=name, sse=sse)
            return Reply(
                200,
                content_type="text/event-stream" if sse else GEMINI_JSON,
                events=events,
                preamble=preamble,
                delay=opts.delay or 0.0,
                drop_after=opts.drop_after,
            )
        body_bytes = gem.generate_response(plan, rid=rid, model_name=name, candidates=conv.choices)
        return Reply(
            200, body_bytes, GEMINI_JSON, delay=opts.delay or 0.0, drop_after=opts.drop_after
        )

    # -- embeddings ----------------------------------------------------------------

    def _openai_fault(
        self, opts: Options, model: str, azure: str | None, headers: tuple[tuple[str, str], ...]
    ) -> Reply | None:
        """The scripted failure (`fail`, in OpenAI's or Azure's error shape) or login page
        (`html`) an OpenAI-style request asked for, if any."""
        if opts.fail is not None and 400 <= opts.fail <= 599:
            retry = _retry_after(opts)
            if azure is not None:
                body = oai.azure_fault(opts.fail, model, retry, azure or "v1")
            else:
                body = oai.fault(opts.fail, model, retry)
            return self._fault_reply(opts, body, JSON, headers)
        if opts.html:
            return Reply(200, PORTAL_HTML, HTML, delay=opts.delay or 0.0)
        return None

    def _openai_embeddings(self, req: Request, query: Query, data: Any) -> Reply:
        denied = self._openai_auth(req.headers)
        return denied or self._openai_like_embeddings(data, None, azure=None)

    def _azure_embeddings(
        self, req: Request, deployment: str, query: dict[str, str], data: Any
    ) -> Reply:
        version = self._azure_deployment(req, deployment, query, self._embedding_set)
        if isinstance(version, Reply):
            return version
        return self._openai_like_embeddings(data, deployment, azure=version)

    def _azure_v1_embeddings(self, req: Request, query: Query, data: Any) -> Reply:
        denied = self._azure_auth(req.headers)
        return denied or self._openai_like_embeddings(
            data, None, azure=query.get("api-version", "")
        )

    def _openai_like_embeddings(
        self, data: Any, deployment: str | None, azure: str | None
    ) -> Reply:
        """Embeddings for OpenAI (`azure=None`) or Azure (`azure=` the api-version)."""
        if _not_an_object(data):
            return Reply(400, oai.invalid_json())
        model = deployment if deployment is not None else (data or {}).get("model")
        if isinstance(model, str) and model and model not in self._embedding_set:
            if azure is not None:
                return Reply(404, oai.azure_deployment_not_found())
            return Reply(404, oai.model_not_found(model))
        try:
            ask = emb.parse_openai(data or {}, deployment=deployment)
        except InvalidRequestError as exc:
            return Reply(400, oai.invalid(exc))
        opts = self._next_script() or Options()
        seq = next(self._seq)
        headers = (("x-request-id", f"req_sim{seq:08d}"),)
        faulted = self._openai_fault(opts, ask.model, azure, headers)
        if faulted is not None:
            return faulted
        return Reply(200, emb.openai_reply(ask), JSON, headers, delay=opts.delay or 0.0)

    def _gemini_embeddings(self, name: str, data: dict[str, Any]) -> Reply:
        if name not in self._embedding_set:
            return Reply(404, gem.model_not_found(name, "batchEmbedContents"), GEMINI_JSON)
        try:
            ask = emb.parse_gemini(data, name)
        except InvalidRequestError as exc:
            return Reply(400, gem.invalid(exc), GEMINI_JSON)
        opts = self._next_script() or Options()
        if opts.fail is not None and 400 <= opts.fail <= 599:
            body = gem.fault(opts.fail, name, _retry_after(opts))
            return self._fault_reply(opts, body, GEMINI_JSON, ())
        if opts.html:
            return Reply(200, PORTAL_HTML, HTML, delay=opts.delay or 0.0)
        return Reply(200, emb.gemini_reply(ask), GEMINI_JSON, delay=opts.delay or 0.0)
