"""The gateway's server object and `cherry-nb serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cherry_nb._exceptions import ConfigError
from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.server import GatewayServer

from .conftest import GATEWAY_KEY, Stack


def test_port_in_use_names_the_port(stack: Stack):
    other = GatewayServer(stack.registry)
    port = int(stack.url.rsplit(":", 1)[1])
    with pytest.raises(ConfigError, match=f"Port {port}"):
        other.start(port=port)
    assert not other.running


def test_stop_then_start_again(tmp_path):
    registry = ProviderRegistry(tmp_path / "c.json")
    server = GatewayServer(registry)
    url = server.start(port=0)
    assert httpx.get(f"{url}/health").status_code == 200
    server.stop()
    assert not server.running and server.status().running is False
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health")
    url2 = server.start(port=0)
    assert httpx.get(f"{url2}/health").status_code == 200
    server.stop()


def test_generated_key_is_saved(tmp_path):
    registry = ProviderRegistry(tmp_path / "c.json")
    server = GatewayServer(registry)
    server.start(port=0)
    try:
        key = server.api_key
        assert key.startswith("cs-sk-") and len(key) == len("cs-sk-") + 36
        assert ProviderRegistry(tmp_path / "c.json").config.server.api_key == key
        assert key not in repr(server) and key not in repr(registry.config.server)
    finally:
        server.stop()


def test_provider_changes_apply_without_restart(stack: Stack):
    headers = {"authorization": f"Bearer {GATEWAY_KEY}"}
    before = httpx.get(f"{stack.url}/v1/models", headers=headers).json()["data"]
    stack.registry.add_models("up-openai", ["sim-vision"])
    try:
        after = httpx.get(f"{stack.url}/v1/models", headers=headers).json()["data"]
        assert len(after) == len(before) + 1
        assert stack.server.status().requests >= 2
    finally:
        stack.registry.remove_models("up-openai", ["sim-vision"])


def test_cli_serve_prints_listening_and_stops_on_sigterm(tmp_path):
    env = {**os.environ, "CHERRY_NB_CONFIG": str(tmp_path / "c.json")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cherry_nb",
            "serve",
            "--port",
            "0",
            "--api-key",
            "cs-sk-cli-test-0123456789",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("Listening on http://127.0.0.1:")
        url = line.removeprefix("Listening on ")
        assert httpx.get(f"{url}/health", timeout=10).json()["status"] == "ok"
        models = httpx.get(f"{url}/v1/models", headers={"x-api-key": "cs-sk-cli-test-0123456789"})
        assert models.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "Traceback" not in stderr


def test_cli_serve_with_workers(tmp_path):
    env = {**os.environ, "CHERRY_NB_CONFIG": str(tmp_path / "c.json")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cherry_nb",
            "serve",
            "--port",
            "0",
            "--workers",
            "2",
            "--api-key",
            "cs-sk-workers-test-0123456789",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = proc.stdout.readline().strip().removeprefix("Listening on ")
        for _ in range(4):
            health = httpx.get(f"{url}/health", timeout=20)
            assert health.json()["status"] == "ok"
        models = httpx.get(
            f"{url}/v1/models", headers={"x-api-key": "cs-sk-workers-test-0123456789"}
        )
        assert models.status_code == 200
        # Metrics in prometheus_client's multi-process mode: whichever worker answers.
        metrics = httpx.get(
            f"{url}/metrics", headers={"x-api-key": "cs-sk-workers-test-0123456789"}
        )
        assert metrics.status_code == 200 and metrics.headers["content-type"].startswith(
            "text/plain"
        )
        list(text_string_to_metric_families(metrics.text))  # parses
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert "Traceback" not in stderr


def test_listening_on_all_interfaces_is_warned_about(tmp_path, caplog):
    server = GatewayServer(ProviderRegistry(tmp_path / "c.json"))
    with caplog.at_level("WARNING", logger="cherry_nb.gateway"):
        server.start(port=0, host="0.0.0.0")
    try:
        assert "0.0.0.0" in caplog.text and "Prefer 127.0.0.1" in caplog.text
    finally:
        server.stop()
