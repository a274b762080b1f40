"""No error path shows a key: not in a response body or header, a log record or a traceback.

A real-looking gateway key and upstream key are set up, then every error path is driven
with them in play: wrong, doubled or misplaced credentials (the upstream key sent as the
gateway key), keys inside bodies, paths, query strings and model ids, upstream statuses,
timeouts, refusals, HTML pages and dropped streams, and a hostile upstream that echoes
the key it received in every error body, header and stream it sends. Logging is captured
at DEBUG for `cherry_nb`, `hypercorn`, `quart`, `asyncio`, `httpx`, `httpcore` and the
root logger, with tracebacks rendered; exceptions escaping threads are captured too.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway import chat_routes
from cherry_nb.gateway.server import GatewayServer
from cherry_nb.simulator import SimulatorThread

from .conftest import TIMEOUT, raw_exchange, sse_events

GATEWAY_KEY = "cs-sk-" + "5d3f2a1b-7c4e-4f6a-9b8d-0e1f2a3b4c5d"  # split: no key-shaped literal
UPSTREAM_KEY = "sk-test-HARDENINGSECRET0123456789"
# Any of these in any output is a leak (a key, or enough of one to use or recognise it).
MARKERS = (GATEWAY_KEY, "5d3f2a1b-7c4e-4f6a", UPSTREAM_KEY, "HARDENINGSECRET")
LOGGERS = ("", "cherry_nb", "hypercorn", "hypercorn.error", "quart", "asyncio", "httpx", "httpcore")


# ---- a hostile upstream that echoes the key it gets ------------------------------------


class _Echo(BaseHTTPRequestHandler):
    """Answers as the model name (in the body, or the Gemini URL) says, echoing all headers."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer("echo-404")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        size = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(size)
        try:
            model = json.loads(raw).get("model") or ""
        except ValueError:
            model = ""
        if "/v1beta/models/" in self.path:
            model = self.path.split("/v1beta/models/", 1)[1].split(":", 1)[0]
        self._answer(model)

    def _answer(self, mode: str) -> None:
        echo = f"you sent {dict(self.headers)!r} to {self.path}"
        error = {
            "type": "error",
            "error": {"message": echo, "type": "invalid_request_error", "status": "X"},
        }
        if mode.startswith("echo-stream"):
            self._stream(mode, echo)
            return
        status = int(mode.rsplit("-", 1)[-1]) if mode[-3:].isdigit() else 200
        kind, body = "application/json", json.dumps(error).encode()
        if "html" in mode:
            kind, body = (
                "text/html",
                f"<html><body><h1>Login</h1><p>{echo}</p></body></html>".encode(),
            )
        elif "notjson" in mode:
            body = f"not json: {echo}".encode()
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.send_header("x-echo", echo.replace("\n", " ")[:4000])
        self.send_header("retry-after", "1000")  # a 429 then fails at once
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, mode: str, echo: str) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("x-echo", echo[:4000])
        self.send_header("connection", "close")
        self.end_headers()
        if "/v1/messages" in self.path:
            start = {
                "type": "message_start",
                "message": {
                    "id": "m",
                    "type": "message",
                    "role": "assistant",
                    "model": "x",
                    "content": [],
                    "stop_reason": None,
                    "usage": {"input_tokens": 1, "output_tokens": 0},
                },
            }
            events = [("message_start", start)]
            failure = ("error", {"type": "error", "error": {"type": "api_error", "message": echo}})
        elif "/v1beta/" in self.path:
            events = [
                (None, {"candidates": [{"content": {"role": "model", "parts": [{"text": "a"}]}}]})
            ]
            failure = (None, {"error": {"code": 500, "message": echo, "status": "INTERNAL"}})
        else:
            delta = {"role": "assistant", "content": "a"}
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "x"}
            events = [(None, {**chunk, "choices": [{"index": 0, "delta": delta}]})]
            failure = (None, {"error": {"message": echo, "type": "server_error"}})
        if "garbage" in mode:
            failure = (None, f"{{not json {echo}")  # type: ignore[assignment]
        for name, data in [*events, failure]:
            text = data if isinstance(data, str) else json.dumps(data)
            self.wfile.write(
                (f"event: {name}\n" if name else "").encode() + f"data: {text}\n\n".encode()
            )
        self.wfile.flush()


# ---- the stack ---------------------------------------------------------------------------


@dataclass
class SecretStack:
    url: str
    port: int
    upstream: SimulatorThread
    registry: ProviderRegistry


@pytest.fixture(scope="module")
def secret_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretStack]:
    upstream = SimulatorThread(api_key=UPSTREAM_KEY)
    upstream.start()
    other = SimulatorThread(api_key="sim-expects-another-key-0123456789")
    other.start()
    echo = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    echo.daemon_threads = True
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    echo_url = f"http://127.0.0.1:{echo.server_address[1]}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    registry = ProviderRegistry(tmp_path_factory.mktemp("secrets") / "config.json")
    modes = [
        f"echo-{mode}"
        for mode in ("400", "401", "403", "404", "429", "500", "html", "html-502", "notjson")
    ]
    modes += ["echo-stream", "echo-stream-garbage"]
    for kind in ("openai", "anthropic", "gemini", "azure-openai"):
        registry.add(
            id=f"up-{kind}",
            name=kind,
            type=kind,
            base_url=upstream.base_url(kind),
            api_key=UPSTREAM_KEY,
            models=["sim-chat"],
        )
        registry.add(
            id=f"echo-{kind}",
            name=f"echo {kind}",
            type=kind,
            base_url=echo_url + ("/v1" if kind == "openai" else ""),
            api_key=UPSTREAM_KEY,
            headers={"x-extra-secret": UPSTREAM_KEY},
            models=modes,
        )
    registry.add(
        id="badkey",
        name="bad key",
        type="openai",
        base_url=other.base_url("openai"),
        api_key=UPSTREAM_KEY,
        models=["sim-chat"],
    )
    registry.add(
        id="gone",
        name="gone",
        type="gemini",
        base_url=f"http://127.0.0.1:{closed_port}",
        api_key=UPSTREAM_KEY,
        models=["sim-chat"],
    )
    registry.set_server(api_key=GATEWAY_KEY, upstream_read_timeout=1.0)
    server = GatewayServer(registry)
    server.start(port=0)
    assert server.url is not None and server.port is not None
    try:
        yield SecretStack(server.url, server.port, upstream, registry)
    finally:
        server.stop()
        echo.shutdown()
        echo.server_close()
        other.stop()
        upstream.stop()


# ---- capture -----------------------------------------------------------------------------


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.test_thread = threading.get_ident()
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        # The test client's own httpx logs name URLs this test puts keys into on purpose.
        if record.thread == self.test_thread and record.name.startswith(("httpx", "httpcore")):
            return
        text = self.format(record)  # message, args, traceback and stack, rendered
        self.texts.append(f"{text} {record.args!r} {record.__dict__.get('exc_text')!r}")


@dataclass
class Outputs:
    """Everything a user, a log reader or a client could see."""

    texts: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    escaped: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        time.sleep(0.2)  # records the server writes after its last response
        assert self.texts, "nothing was captured"
        for text in self.texts + self.logs + self.escaped:
            for marker in MARKERS:
                assert marker not in text, f"{marker!r} leaked in: {text[:600]}"

    def response(self, response: httpx.Response) -> httpx.Response:
        self.texts.append(f"{response.status_code} {list(response.headers.multi_items())!r}")
        self.texts.append(response.content.decode("utf-8", "replace"))
        return response

    def raw(self, data: bytes) -> bytes:
        self.texts.append(data.decode("latin-1"))
        return data


@pytest.fixture
def outputs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Outputs]:
    handler = _Records()
    levels = {}
    for name in LOGGERS:
        logger = logging.getLogger(name)
        levels[name] = logger.level
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    seen = Outputs(logs=handler.texts)
    monkeypatch.setattr(
        threading,
        "excepthook",
        lambda args: seen.escaped.append(f"{args.exc_type} {args.exc_value!r}"),
    )
    try:
        yield seen
    finally:
        logging.getLogger().removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


# ---- the error paths -----------------------------------------------------------------------

GOOD = {"authorization": f"Bearer {GATEWAY_KEY}"}


def chat(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}


def messages(model: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "hi"}],
        **extra,
    }


Scenario = Callable[[httpx.Client, SecretStack, Outputs], None]


def credentials(client: httpx.Client, stack: SecretStack, seen: Outputs) -> None:
    for headers in (
        {},
        {"authorization": f"Bearer {UPSTREAM_KEY}"},  # the upstream key sent as the gateway key
        {"x-api-key": UPSTREAM_KEY},
        {"authorization": f"Basic {GATEWAY_KEY}"},
        {"authorization": GATEWAY_KEY},
        {"authorization": f"Bearer {GATEWAY_KEY}", "x-api-key": UPSTREAM_KEY},
        {"authorization": f"Bearer {GATEWAY_KEY}x"},
    ):
        seen.response(
            client.post("/v1/chat/completions", json=chat("up-openai:sim-chat"), headers=headers)
        )
        seen.response(
            client.post("/v1/messages", json=messages("up-openai:sim-chat"), headers=headers)
        )
        seen.response(client.get("/v1/models", headers=headers))
    for doubled in (
        f"Authorization: Bearer {GATEWAY_KEY}\r\nAuthorization: Bearer {UPSTREAM_KEY}\r\n",
        f"X-API-Key: {GATEWAY_KEY}\r\nX-API-Key: {GATEWAY_KEY}\r\n",
    ):
        request = f"GET /v1/models HTTP/1.1\r\nHost: x\r\n{doubled}Connection: close\r\n\r\n"
        seen.raw(raw_exchange(stack.port, request.encode()))


def keys_in_requests(client: httpx.Client, stack: SecretStack, seen: Outputs) -> None:
    json_headers = {**GOOD, "content-type": "application/json"}
    for path in ("/v1/chat/completions", "/v1/messages", "/v1/messages/count_tokens"):
        seen.response(
            client.post(path, content=f'{{"model": "{UPSTREAM_KEY}'.encode(), headers=json_headers)
        )
        seen.response(
            client.post(
                path, content=f'{{"model": "{GATEWAY_KEY}", NaN}}'.encode(), headers=json_headers
            )
        )
        for body in (
            messages(UPSTREAM_KEY),
            messages(f"up-openai:{UPSTREAM_KEY}"),
            messages(f"up-gemini:{UPSTREAM_KEY}/../x"),
            messages(f"nope:{GATEWAY_KEY}"),
            messages(f"up-openai:{UPSTREAM_KEY}\r\n"),
            messages("up-openai:sim-chat", temperature=UPSTREAM_KEY),
            messages("up-openai:sim-chat", max_tokens=GATEWAY_KEY),
            messages("up-openai:sim-chat", messages=[{"role": UPSTREAM_KEY, "content": "x"}]),
            messages(
                "up-openai:sim-chat",
                messages=[{"role": "user", "content": [{"type": UPSTREAM_KEY}]}],
            ),
            messages("up-openai:sim-chat", tools=[{"type": {"k": UPSTREAM_KEY}}]),
            messages("up-openai:sim-chat", stop=[1, UPSTREAM_KEY], stream=GATEWAY_KEY),
            chat(f"up-anthropic:{UPSTREAM_KEY}", stream=True),
        ):
            seen.response(client.post(path, json=body, headers=GOOD))
        nested = f'{{"model": "{UPSTREAM_KEY}", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
        seen.response(client.post(path, content=nested.encode(), headers=json_headers))
        seen.response(
            client.post(
                path,
                content=b'{"model": "\\ud800' + UPSTREAM_KEY.encode() + b'"}',
                headers=json_headers,
            )
        )
    for target in (
        f"/{UPSTREAM_KEY}/v1/messages",
        f"/{GATEWAY_KEY}/v1/messages/count_tokens",
        f"/v1/{UPSTREAM_KEY}",
        f"/v1/chat/completions/{GATEWAY_KEY}",
        f"/{UPSTREAM_KEY}//v1/messages",
        f"/{UPSTREAM_KEY}%00/v1/messages",
    ):
        seen.response(client.post(target, json=messages("sim-chat"), headers=GOOD))
        seen.response(client.get(target, headers=GOOD))
    for params in (
        {"limit": UPSTREAM_KEY},
        {"offset": GATEWAY_KEY},
        {"providerType": UPSTREAM_KEY},
    ):
        seen.response(client.get("/v1/models", params=params, headers=GOOD))


def upstream_faults(client: httpx.Client, stack: SecretStack, seen: Outputs) -> None:
    every = [
        (route, body, upstream, stream)
        for route, body in (("/v1/chat/completions", chat), ("/v1/messages", messages))
        for upstream in ("openai", "anthropic", "gemini")
        for stream in (False, True)
    ]
    for options, cases in (
        ({"fail": 400}, every),
        ({"fail": 401}, every),
        ({"fail": 429, "retry_after": 1000}, every),
        ({"html": True}, every),
        ({"fail": 503, "count": 3}, every[::7]),  # retried with backoff: a few suffice
        ({"delay": 2.0}, every[::7]),  # the read timeout is 1 s
    ):
        for route, body, upstream, stream in cases:
            stack.upstream.script(**{"count": 1, **options})
            request = body(f"up-{upstream}:sim-chat", stream=stream)
            seen.response(client.post(route, json=request, headers=GOOD))
            stack.upstream.clear_script()
    seen.response(client.post("/v1/chat/completions", json=chat("badkey:sim-chat"), headers=GOOD))
    seen.response(client.post("/v1/messages", json=messages("badkey:sim-chat"), headers=GOOD))
    seen.response(client.post("/v1/messages", json=messages("gone:sim-chat"), headers=GOOD))


def dropped_streams(client: httpx.Client, stack: SecretStack, seen: Outputs) -> None:
    text = "go [[sim:words=40]] [[sim:drop_after=3]]"
    for upstream in ("openai", "anthropic", "gemini", "azure-openai"):
        for route, body in (("/v1/chat/completions", chat), ("/v1/messages", messages)):
            for stream in (False, True):
                request = body(f"up-{upstream}:sim-chat", stream=stream)
                request["messages"][0]["content"] = text
                seen.response(client.post(route, json=request, headers=GOOD))


def echoing_upstream(client: httpx.Client, stack: SecretStack, seen: Outputs) -> None:
    # 5xx statuses but 501 are retried with backoff: one such case is enough.
    modes = ["400", "401", "403", "404", "429", "501", "html", "html-418", "notjson"]
    same_format = {
        "openai": "/v1/chat/completions",
        "azure-openai": "/v1/chat/completions",
        "anthropic": "/v1/messages",
    }
    for kind in ("openai", "anthropic", "gemini", "azure-openai"):
        for mode in modes:
            for route, body in (("/v1/chat/completions", chat), ("/v1/messages", messages)):
                for stream in (False, True):
                    if mode == "notjson" and same_format.get(kind) == route:
                        continue  # a same-format 200 body is relayed as is: see the xfail
                    model = f"echo-{kind}:echo-{mode}"
                    seen.response(client.post(route, json=body(model, stream=stream), headers=GOOD))
        seen.response(
            client.post(
                "/v1/messages/count_tokens", json=messages(f"echo-{kind}:echo-401"), headers=GOOD
            )
        )
    seen.response(client.post("/v1/messages", json=messages("echo-gemini:echo-500"), headers=GOOD))


def echoing_upstream_translated_streams(
    client: httpx.Client, stack: SecretStack, seen: Outputs
) -> None:
    for kind, routes in (
        ("openai", [("/v1/messages", messages)]),
        ("anthropic", [("/v1/chat/completions", chat)]),
        ("gemini", [("/v1/chat/completions", chat), ("/v1/messages", messages)]),
    ):
        for route, body in routes:
            for mode in ("echo-stream", "echo-stream-garbage"):
                response = seen.response(
                    client.post(route, json=body(f"echo-{kind}:{mode}", stream=True), headers=GOOD)
                )
                assert response.status_code == 200 and sse_events(response.text)


def unexpected_errors(client: httpx.Client, stack: SecretStack, seen: Outputs) -> None:
    async def boom(call: Any) -> Any:
        raise RuntimeError(f"internal failure holding {UPSTREAM_KEY} and {GATEWAY_KEY}")

    original = chat_routes.relay_chat
    chat_routes.relay_chat = boom  # read at call time by the chat routes
    try:
        seen.response(
            client.post("/v1/chat/completions", json=chat("up-openai:sim-chat"), headers=GOOD)
        )
        seen.response(
            client.post("/v1/messages", json=messages("up-gemini:sim-chat"), headers=GOOD)
        )
    finally:
        chat_routes.relay_chat = original
    assert any("Unexpected error" in text for text in seen.logs), "the capture missed the log"


SCENARIOS: dict[str, Scenario] = {
    "credentials": credentials,
    "keys in requests": keys_in_requests,
    "upstream faults": upstream_faults,
    "dropped streams": dropped_streams,
    "echoing upstream": echoing_upstream,
    "echoing upstream, translated streams": echoing_upstream_translated_streams,
    "unexpected errors": unexpected_errors,
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_key_in_any_response_log_or_traceback(secret_stack: SecretStack, outputs: Outputs, name):
    with httpx.Client(base_url=secret_stack.url, timeout=TIMEOUT) as client:
        SCENARIOS[name](client, secret_stack, outputs)
    outputs.assert_clean()


@pytest.mark.parametrize(("mode", "stream"), [("echo-stream", True), ("echo-notjson", False)])
def test_no_key_in_a_same_format_reply_an_upstream_echoes_it_in(
    secret_stack: SecretStack, outputs: Outputs, mode: str, stream: bool
):
    with httpx.Client(base_url=secret_stack.url, timeout=TIMEOUT) as client:
        for kind, route, body in (
            ("openai", "/v1/chat/completions", chat),
            ("anthropic", "/v1/messages", messages),
        ):
            request = body(f"echo-{kind}:{mode}", stream=stream)
            outputs.response(client.post(route, json=request, headers=GOOD))
    outputs.assert_clean()
