"""Upstream and client faults on the streaming paths, load, and stopping under load.

tests/gateway/test_errors_and_auth.py covers upstream 500/429/timeout/refused for
non-streamed requests, drops mid-stream from three upstream types and a client leaving
a passthrough stream. Here: the same faults when the client asked for a stream (an error
before the first byte must keep its status and envelope, not become a 200 stream), the
Azure upstream, replies cut before they are whole, malformed upstream replies, translated
streams a client leaves, 200 concurrent streams, and stopping the gateway with streams in
flight.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from cherry_nb.gateway import server as gateway_server
from cherry_nb.gateway.server import GatewayServer

from .conftest import (
    AUTH,
    TIMEOUT,
    TYPES,
    Stack,
    envelope_ok,
    route_request,
    stream_outcome,
    stream_text,
)

PAIRS = [  # (client format, upstream type): passthrough and translated paths
    ("openai", "openai"),
    ("openai", "anthropic"),
    ("anthropic", "gemini"),
    ("anthropic", "azure-openai"),
]
PAIR_IDS = [f"{route}-to-{upstream}" for route, upstream in PAIRS]


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=TIMEOUT) as client:
        yield client


def assert_error_before_stream(response: httpx.Response, path: str, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert envelope_ok(path, response.json())


# ---- errors before the first byte keep their status when a stream was asked for ------


@pytest.mark.parametrize(("route", "upstream"), PAIRS[::3], ids=PAIR_IDS[::3])
def test_upstream_500_before_a_stream_is_500(stack: Stack, http, route, upstream):
    stack.upstream.script(fail=500, count=3)  # every retry fails too
    path, body = route_request(route, upstream, stream=True)
    assert_error_before_stream(http.post(path, json=body, headers=AUTH), path, 500)


@pytest.mark.parametrize(("route", "upstream"), PAIRS, ids=PAIR_IDS)
def test_upstream_429_before_a_stream_is_429_with_retry_after(stack: Stack, http, route, upstream):
    stack.upstream.script(fail=429, retry_after=120, count=1)  # too long to wait: no retry
    path, body = route_request(route, upstream, stream=True)
    response = http.post(path, json=body, headers=AUTH)
    assert_error_before_stream(response, path, 429)
    assert response.headers["retry-after"] == "120"


@pytest.mark.parametrize(("route", "upstream"), PAIRS[::3], ids=PAIR_IDS[::3])
def test_upstream_timeout_before_a_stream_is_504(stack: Stack, http, route, upstream):
    stack.upstream.script(delay=3.0, count=1)  # the stack's read timeout is 1.5 s
    path, body = route_request(route, upstream, stream=True)
    started = time.monotonic()
    response = http.post(path, json=body, headers=AUTH)
    assert_error_before_stream(response, path, 504)
    assert time.monotonic() - started < 3.0, "the gateway waited past its read timeout"


@pytest.mark.parametrize(("route", "upstream"), PAIRS[::3], ids=PAIR_IDS[::3])
def test_refused_upstream_before_a_stream_is_502(stack: Stack, http, route, upstream):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    base = f"http://127.0.0.1:{port}" + ("/v1" if upstream == "openai" else "")
    stack.registry.add(id="gone", name="Gone", type=upstream, base_url=base, models=["m"])
    try:
        path, body = route_request(route, upstream, stream=True)
        body["model"] = "gone:m"
        response = http.post(path, json=body, headers=AUTH)
        assert_error_before_stream(response, path, 502)
        assert "refused" in response.text
    finally:
        stack.registry.delete("gone")


# ---- faults after the first byte ------------------------------------------------------


@pytest.mark.parametrize("route", ["openai", "anthropic"])
def test_azure_upstream_dropped_mid_stream_ends_with_an_error_event(http, route):
    path, body = route_request(
        route, "azure-openai", "go [[sim:words=40]] [[sim:drop_after=5]]", stream=True
    )
    with http.stream("POST", path, json=body, headers=AUTH) as response:
        assert response.status_code == 200
        raw = response.read().decode()
    assert stream_outcome(route, raw) == "error"
    assert "dropped" in raw


@pytest.mark.parametrize(("route", "upstream"), PAIRS, ids=PAIR_IDS)
def test_upstream_dropped_before_a_whole_reply_is_502(stack: Stack, http, route, upstream):
    path, body = route_request(route, upstream, "go [[sim:drop_after=1]]")
    response = http.post(path, json=body, headers=AUTH)
    assert response.status_code == 502 and envelope_ok(path, response.json())


@pytest.mark.parametrize(("route", "upstream"), PAIRS, ids=PAIR_IDS)
def test_client_leaving_a_slow_reply_closes_the_upstream_within_a_second(
    stack: Stack, route, upstream
):
    simulator = stack.upstream
    path, body = route_request(route, upstream, "[[sim:delay=20]]")
    closed_before = simulator.connections_closed
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(stack.url + path, json=body, headers=AUTH, timeout=httpx.Timeout(5, read=0.5))
    left = time.monotonic()
    # Only a cancelled upstream request closes its connection before the 20 s reply.
    closed = wait_until(lambda: simulator.connections_closed > closed_before, 1.0)
    assert closed, "upstream request still open"
    assert time.monotonic() - left <= 1.0


@pytest.mark.parametrize(("route", "upstream"), PAIRS, ids=PAIR_IDS)
def test_client_leaving_a_stream_closes_the_upstream_within_a_second(stack: Stack, route, upstream):
    simulator = stack.upstream
    path, body = route_request(route, upstream, "[[sim:words=500]] [[sim:delay=0.05]]", stream=True)
    closed_before = simulator.connections_closed
    with httpx.Client(base_url=stack.url, timeout=TIMEOUT) as client:
        with client.stream("POST", path, json=body, headers=AUTH) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            for _ in range(6):
                next(lines)
            assert simulator.active_streams == 1
    left = time.monotonic()
    assert wait_until(lambda: simulator.active_streams == 0, 1.0), "upstream stream still open"
    assert simulator.connections_closed > closed_before
    assert time.monotonic() - left <= 1.0


class _Fixed(BaseHTTPRequestHandler):
    """Answers every POST with 200 and the server's `reply` (bytes, content type)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body, content_type = self.server.reply  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def malformed(stack: Stack) -> Iterator[ThreadingHTTPServer]:
    """An upstream of each type (`bad-<type>`) whose 200 replies are whatever a test sets."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Fixed)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    for kind in ("openai", "anthropic", "gemini"):
        stack.registry.add(
            id=f"bad-{kind}",
            name=f"bad {kind}",
            type=kind,
            base_url=base + ("/v1" if kind == "openai" else ""),
            models=["m"],
        )
    try:
        yield server
    finally:
        for kind in ("openai", "anthropic", "gemini"):
            stack.registry.delete(f"bad-{kind}")
        server.shutdown()
        server.server_close()


MALFORMED_REPLIES = [  # (upstream type, client format, stream, reply body)
    ("openai", "anthropic", False, b'{"choices": 5}'),
    ("anthropic", "openai", False, b'{"type": "message", "content": 5}'),
    ("openai", "anthropic", True, b"data: [1, 2]\n\n"),
    ("gemini", "openai", True, b"data: [5]\n\n"),
]


@pytest.mark.parametrize(("upstream", "route", "stream", "reply"), MALFORMED_REPLIES)
def test_malformed_upstream_reply_is_502_not_a_client_error(
    malformed: ThreadingHTTPServer, http, upstream, route, stream, reply
):
    malformed.reply = (reply, "text/event-stream" if stream else "application/json")  # type: ignore[attr-defined]
    path, body = route_request(route, upstream, stream=stream)
    body["model"] = f"bad-{upstream}:m"
    response = http.post(path, json=body, headers=AUTH)
    assert response.status_code == 502, response.text
    assert envelope_ok(path, response.json())


# ---- 200 concurrent streams ------------------------------------------------------------


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def gateway_tasks(server: GatewayServer) -> int:
    """Tasks alive on the gateway's event loop (peeks at the server's private loop)."""
    return len(_on_gateway_loop(server, lambda: asyncio.all_tasks()))


def idle_tasks(server: GatewayServer) -> int:
    """The task count of a gateway that serves and has nothing to do.

    `start()` returns before Hypercorn has created all its serving tasks: a request must
    have been answered, and the count must have settled.
    """
    with httpx.Client(timeout=TIMEOUT) as client:
        assert client.get(f"{server.url}/health", headers={"connection": "close"}).is_success
    counts = [gateway_tasks(server)]
    while len(counts) < 5 or len(set(counts[-5:])) > 1:
        time.sleep(0.02)
        counts.append(gateway_tasks(server))
        assert len(counts) < 200, f"the gateway's task count does not settle: {counts[-10:]}"
    return counts[-1]


def describe_tasks(server: GatewayServer) -> str:
    """What each task on the gateway's loop is awaiting, innermost coroutine last."""

    def chain(task: asyncio.Task) -> str:
        names, coro = [], task.get_coro()
        while coro is not None and hasattr(coro, "cr_code"):
            where = Path(coro.cr_code.co_filename).name
            line = coro.cr_frame.f_lineno if coro.cr_frame else "-"
            names.append(f"{where}:{coro.cr_code.co_name}:{line}")
            coro = coro.cr_await
        return " > ".join(names)

    return "\n".join(
        sorted(_on_gateway_loop(server, lambda: [chain(t) for t in asyncio.all_tasks()]))
    )


def _on_gateway_loop(server: GatewayServer, fn):
    loop = server._loop
    assert loop is not None

    async def run():
        return fn()

    return asyncio.run_coroutine_threadsafe(run(), loop).result(TIMEOUT)


async def run_streams(url: str, count: int, *, close: bool) -> list[tuple[str, str, str]]:
    """`count` concurrent streams over every (format, upstream) pair: (route, text, outcome)."""
    headers = {**AUTH, "connection": "close"} if close else AUTH
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)

    async def one(client: httpx.AsyncClient, i: int) -> tuple[str, str, str]:
        route = ("openai", "anthropic")[i % 2]
        upstream = TYPES[i // 2 % len(TYPES)]
        path, body = route_request(
            route, upstream, f"n{i} [[sim:words=30]] [[sim:delay=0.01]]", stream=True
        )
        async with client.stream("POST", path, json=body, headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            raw = (await response.aread()).decode()
        return route, stream_text(route, raw), stream_outcome(route, raw)

    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT, limits=limits) as client:
        return await asyncio.wait_for(
            asyncio.gather(*(one(client, i) for i in range(count))), timeout=60
        )


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts fds in /proc")
async def test_200_concurrent_streams_complete_and_leak_nothing(stack: Stack):
    simulator = stack.upstream.simulator
    assert simulator is not None
    fds_before, upstream_before = open_fds(), simulator.open_connections
    server = GatewayServer(stack.registry)
    server.start(port=0)
    try:
        tasks_idle = idle_tasks(server)
        for _ in range(2):  # a second round must not find anything left by the first
            results = await run_streams(server.url, 200, close=True)
            for route, text, outcome in results:
                assert outcome == "complete", route
                assert len(text.split()) == 30, text  # [[sim:words=30]]
            assert await asyncio.to_thread(wait_until, lambda: simulator.active_streams == 0, 2)
            # No request task left on the gateway's loop, no socket to a client left open;
            # only the pooled keep-alive connections upstream (2 fds each, both in-process).
            assert await asyncio.to_thread(
                wait_until, lambda: gateway_tasks(server) == tasks_idle, 2
            ), f"tasks left on the gateway's loop:\n{describe_tasks(server)}"
            pooled = simulator.open_connections - upstream_before
            assert 0 <= pooled <= 200
            assert open_fds() <= fds_before + 2 * pooled + 10
    finally:
        server.stop()
    assert await asyncio.to_thread(
        wait_until, lambda: simulator.open_connections == upstream_before, 2
    )
    assert await asyncio.to_thread(wait_until, lambda: open_fds() <= fds_before + 2, 2)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts fds in /proc")
async def test_connections_a_client_closes_are_released_promptly(stack: Stack):
    server = GatewayServer(stack.registry)
    server.start(port=0)
    try:
        tasks_idle = idle_tasks(server)
        fds_idle = open_fds()
        await run_streams(server.url, 20, close=False)  # keep-alive, closed by the client
        simulator = stack.upstream.simulator
        assert simulator is not None
        pooled = simulator.open_connections
        # The usage ledger's writer opens its SQLite file (database, -wal, -shm) with the
        # first batch, whenever that lands: files held on purpose, not connections.
        ledger_files = 3
        released = await asyncio.to_thread(
            wait_until,
            lambda: (
                gateway_tasks(server) == tasks_idle
                and open_fds() <= fds_idle + 2 * pooled + ledger_files
            ),
            7.0,  # the 5 s keep-alive timeout, and some margin
        )
        assert released, f"{gateway_tasks(server) - tasks_idle} tasks still on the gateway loop"
    finally:
        server.stop()


# ---- stopping with streams in flight ---------------------------------------------------


def gateway_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "cherry-nb-gateway" and t.is_alive()}


def stream_in_thread(
    url: str, route: str, upstream: str, words: int
) -> tuple[threading.Thread, dict]:
    """Start a stream in a thread; the dict gets "raw" (bytes read), "error" and "ended"."""
    result: dict = {"raw": b"", "error": None, "ended": None, "started": threading.Event()}
    path, body = route_request(
        route, upstream, f"[[sim:words={words}]] [[sim:delay=0.05]]", stream=True
    )

    def run() -> None:
        try:
            with httpx.stream(
                "POST", url + path, json=body, headers=AUTH, timeout=TIMEOUT
            ) as response:
                for chunk in response.iter_raw():
                    result["raw"] += chunk
                    result["started"].set()
        except httpx.HTTPError as exc:
            result["error"] = exc
        finally:
            result["ended"] = time.monotonic()
            result["started"].set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def start_streams(url: str, words: int) -> list[tuple[str, threading.Thread, dict]]:
    streams = []
    for route, upstream in PAIRS:
        thread, result = stream_in_thread(url, route, upstream, words)
        streams.append((route, thread, result))
    for _, _, result in streams:
        assert result["started"].wait(TIMEOUT), "a stream did not start"
    return streams


def test_stop_lets_short_streams_finish(stack: Stack):
    before = gateway_threads()
    server = GatewayServer(stack.registry)
    server.start(port=0)
    streams = start_streams(server.url, words=30)  # ~1.5 s each, well inside the grace period
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 10.0
    for route, thread, result in streams:
        thread.join(TIMEOUT)
        assert not thread.is_alive()
        assert result["error"] is None, result["error"]
        assert stream_outcome(route, result["raw"].decode()) == "complete"
    assert gateway_threads() <= before
    assert wait_until(lambda: stack.upstream.active_streams == 0, 1.0)


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> float:
    """Hypercorn's grace period for servers started in this test, cut to 1.5 s."""
    grace = 1.5
    original = gateway_server.hypercorn_config

    def config(sock: socket.socket, **kwargs):
        settings = original(sock, **kwargs)
        settings.graceful_timeout = grace
        return settings

    monkeypatch.setattr(gateway_server, "hypercorn_config", config)
    return grace


def test_stop_ends_long_streams_within_the_grace_period(stack: Stack, short_grace: float):
    before = gateway_threads()
    server = GatewayServer(stack.registry)
    url = server.start(port=0)
    streams = start_streams(url, words=2000)  # 100 s each: only the grace period ends them
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < short_grace + 2.0, "stop() overran its grace period"
    assert gateway_threads() <= before, "the gateway thread is still running"
    for route, thread, result in streams:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "a client is still reading a stream"
        assert result["ended"] - started < short_grace + 2.0
        outcome = stream_outcome(route, result["raw"].decode())
        # Never a silent truncation: a cut stream is an error the client can see.
        assert outcome != "truncated" or isinstance(result["error"], httpx.RemoteProtocolError)
    assert wait_until(lambda: stack.upstream.active_streams == 0, 1.0), "upstream streams open"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health", timeout=2)


def test_stop_ends_long_streams_with_a_protocol_error_event(stack: Stack, short_grace: float):
    server = GatewayServer(stack.registry)
    url = server.start(port=0)
    streams = start_streams(url, words=2000)
    server.stop()
    for route, thread, result in streams:
        thread.join(TIMEOUT)
        assert result["error"] is None, result["error"]
        assert stream_outcome(route, result["raw"].decode()) == "error"
        assert "shutting down" in result["raw"].decode()
    assert wait_until(lambda: stack.upstream.active_streams == 0, 1.0), "upstream streams open"
