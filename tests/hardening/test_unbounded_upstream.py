"""Defect 4: an upstream's reply cannot make the gateway buffer without bound.

One server-sent event may hold at most `MAX_EVENT_BYTES` (a 64 MB line with no newline
fails that one request with a 502, and costs linear time, so the gateway keeps answering
others meanwhile); of an error body only the first `MAX_ERROR_BODY` bytes are read.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from cherry_nb.providers.transport import MAX_ERROR_BODY
from cherry_nb.wire.sse import MAX_EVENT_BYTES, SSEParser

from .conftest import AUTH, TIMEOUT, Stack, envelope_ok, messages_body

MB = 1024 * 1024
HUGE = 64 * MB
PIECE = b"x" * (64 * 1024)


@dataclass
class Script:
    """What the hostile upstream does, and what it saw."""

    mode: str = "huge-line"
    pause_at: int = 12 * MB  # in huge-line mode: wait for `resume` after this many bytes
    # (below MAX_EVENT_BYTES, so the gateway is still reading when the upstream pauses)
    paused: threading.Event = field(default_factory=threading.Event)
    resume: threading.Event = field(default_factory=threading.Event)
    written: int = 0
    cut_off: bool = False  # the gateway closed the connection before the end
    done: threading.Event = field(default_factory=threading.Event)  # the handler returned


class _Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("content-length") or 0))
        script: Script = self.server.script  # type: ignore[attr-defined]
        error = script.mode == "huge-error"
        self.send_response(400 if error else 200)
        self.send_header("content-type", "application/json" if error else "text/event-stream")
        self.send_header("connection", "close")  # the body ends when the connection does
        self.end_headers()
        try:
            if error:
                self.wfile.write(b'{"error": {"message": "too long: ')
            else:  # one chunk event whose text never ends: no newline anywhere
                head = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
                self.wfile.write(b"data: " + json.dumps(head).encode()[:-1])
                self.wfile.write(b', "choices": [{"index": 0, "delta": {"content": "')
            while script.written < HUGE:
                if not error and script.written >= script.pause_at and not script.paused.is_set():
                    script.paused.set()
                    script.resume.wait(TIMEOUT)
                self.wfile.write(PIECE)
                script.written += len(PIECE)
            self.wfile.write(b'"}}' if error else b'"}}]}\n\ndata: [DONE]\n\n')
        except OSError:
            script.cut_off = True
        finally:
            script.done.set()


@pytest.fixture
def hostile(stack: Stack) -> Iterator[ThreadingHTTPServer]:
    """An OpenAI-type upstream `hostile` (reached from /v1/messages: translated)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    server.script = Script()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stack.registry.add(
        id="hostile",
        name="hostile",
        type="openai",
        base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
        models=["m"],
    )
    try:
        yield server
    finally:
        stack.registry.delete("hostile")
        server.shutdown()
        server.server_close()


def test_a_64mb_line_without_newline_fails_that_request_and_nothing_else(
    stack: Stack, hostile: ThreadingHTTPServer
) -> None:
    script: Script = hostile.script  # type: ignore[attr-defined]
    outcome: dict[str, httpx.Response] = {}

    def big_request() -> None:
        body = messages_body("hostile:m", stream=True)
        with httpx.Client(base_url=stack.url, timeout=60) as client:
            outcome["big"] = client.post("/v1/messages", json=body, headers=AUTH)

    requester = threading.Thread(target=big_request)
    requester.start()
    try:
        assert script.paused.wait(TIMEOUT), "the upstream never got its first 12 MB out"
        # 12 MB of one line are in flight: the gateway still answers everyone else.
        health = httpx.get(f"{stack.url}/health", timeout=TIMEOUT)
        assert health.status_code == 200
    finally:
        script.resume.set()
        requester.join(60)
    response = outcome["big"]
    assert response.status_code == 502, response.text[:300]
    assert envelope_ok("/v1/messages", response.json())
    message = response.json()["error"]["message"]
    assert "16 MB" in message and "hostile" in message
    assert script.done.wait(TIMEOUT)
    assert script.cut_off and script.written < HUGE  # the gateway stopped reading


def test_a_64mb_error_body_is_read_only_as_far_as_a_message_needs(
    stack: Stack, hostile: ThreadingHTTPServer
) -> None:
    script: Script = hostile.script  # type: ignore[attr-defined]
    script.mode = "huge-error"
    body = messages_body("hostile:m")
    response = httpx.post(f"{stack.url}/v1/messages", json=body, headers=AUTH, timeout=60)
    assert 400 <= response.status_code < 600
    assert envelope_ok("/v1/messages", response.json())
    assert len(response.content) < 2 * MAX_ERROR_BODY
    assert script.done.wait(TIMEOUT)
    assert script.cut_off and script.written < HUGE


def test_the_parser_refuses_an_event_past_the_cap() -> None:
    parser = SSEParser(limit=4 * MB)
    assert parser.feed(b"data: ") == []
    for _ in range(4 * MB // len(PIECE) - 1):
        assert parser.feed(PIECE) == []
    with pytest.raises(Exception, match="exceeded 4 MB"):
        parser.feed(PIECE)
    # Many data lines that never end their event count too.
    parser = SSEParser(limit=1 * MB)
    with pytest.raises(Exception, match="exceeded 1 MB"):
        for _ in range(32):
            parser.feed(b"data: " + PIECE + b"\n")
    assert MAX_EVENT_BYTES == 16 * MB
