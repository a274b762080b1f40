"""`cherry-nb serve --workers 2`: the connections one client opens at once are served by
both workers (each has a socket of its own, SO_REUSEPORT, on Linux), and a port another
server holds is refused as with one worker, never shared with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.workers import BALANCED
from cherry_nb.simulator import SimulatorThread

from .conftest import SIM_KEY

KEY = "cs-sk-serve-workers-0123456789"
CONNECTIONS = 16  # as wrk -c16 opens them: all at once, then kept alive


def _serve(config: Path, metrics: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CHERRY_NB_CONFIG": str(config), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    command = [sys.executable, "-m", "cherry_nb", "serve", "--workers", "2", "--api-key", KEY]
    return subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def _request(port: int, index: int) -> bytes:
    body = b'{"model":"wk:sim-chat","messages":[{"role":"user","content":"hi %d"}]}' % index
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _reply(sock: socket.socket) -> bytes:
    """One whole reply (Content-Length framed) read from a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


@pytest.mark.skipif(not BALANCED, reason="the kernel spreads SO_REUSEPORT connections on Linux")
def test_connections_opened_at_once_reach_both_workers(tmp_path: Path) -> None:
    upstream = SimulatorThread(api_key=SIM_KEY).start()
    config, metrics = tmp_path / "config.json", tmp_path / "metrics"
    ProviderRegistry(config).add(
        id="wk",
        name="Workers",
        type="openai",
        base_url=upstream.base_url("openai"),
        api_key=SIM_KEY,
        models=["sim-chat"],
    )
    proc = _serve(config, metrics, "--port", "0")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().removeprefix("Listening on ")
        port = int(url.rsplit(":", 1)[1])
        # Up: /health answers (a worker still starting leaves its share in its backlog).
        for _ in range(8):
            assert httpx.get(f"{url}/health", timeout=30).status_code == 200
        conns = [
            socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(CONNECTIONS)
        ]
        try:
            for index, sock in enumerate(conns):
                sock.sendall(_request(port, index))
            for sock in conns:
                assert _reply(sock).startswith(b"HTTP/1.1 200")
            for index, sock in enumerate(conns):  # again, on the same connections
                sock.sendall(_request(port, index))
            for sock in conns:
                assert _reply(sock).startswith(b"HTTP/1.1 200")
        finally:
            for sock in conns:
                sock.close()
        # A worker that counted a request has its own counter file (prometheus_client's
        # multi-process mode); only chat requests are counted, /health is not.
        counting = {p.name for p in metrics.glob("counter_*.db")}
        assert len(counting) == 2, f"one batch of {CONNECTIONS} connections reached {counting}"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        upstream.stop()
    assert proc.returncode == 0 and "Traceback" not in stderr, stderr


def test_a_port_another_server_holds_is_refused(tmp_path: Path) -> None:
    holder = socket.socket()
    if hasattr(socket, "SO_REUSEPORT"):  # even a holder that would share its port
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        port = holder.getsockname()[1]
        proc = _serve(tmp_path / "config.json", tmp_path / "metrics", "--port", str(port))
        _, stderr = proc.communicate(timeout=60)
    finally:
        holder.close()
    assert proc.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in stderr
    assert "Traceback" not in stderr
