"""Safe exposure on a network: beyond loopback, the gateway key is all that stands between
anyone who can reach the machine and the providers' keys, so it must be strong.

`cherry-nb serve --host 0.0.0.0`, `server.host` in the config and `GatewayServer` (the
notebook's gateway panel) refuse weak or default-looking keys with a message that says
how to make one, and with a strong key print every address they can be reached at.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cherry_nb._exceptions import ConfigError
from cherry_nb._secrets import gateway_key_problem
from cherry_nb.cli import main
from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.server import (
    GatewayServer,
    is_loopback,
    new_gateway_key,
    reachable_urls,
)

from .conftest import TIMEOUT

WEAK_KEYS = [
    "cs-sk-" + "test-gateway-key-0123456789-abcdefgh",  # long, but a default-looking word
    "password" * 5,  # a dictionary word, repeated
    "x" * 48,  # repeated
    "cs-sk-" + "ab" * 16,  # no randomness to speak of
    "cs-sk-" + "Q7w2E9r4T6y1U3",  # random but short: 20 characters
]


def strong_key() -> str:
    return "cs-sk-" + secrets.token_urlsafe(32)


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_serve_on_all_interfaces_refuses_a_weak_key(
    key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--api-key", key]) == 2
    out, err = capsys.readouterr()
    assert "Listening on" not in out
    assert "Refusing to listen on 0.0.0.0" in err
    assert "secrets.token_urlsafe(32)" in err  # how to make a good one
    assert key not in err


def test_a_configured_public_host_with_a_weak_key_is_refused(
    _isolated_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = ProviderRegistry(_isolated_config)
    registry.set_server(host="0.0.0.0", port=0, api_key=WEAK_KEYS[0])
    assert main(["serve"]) == 2
    assert "Refusing to listen on 0.0.0.0" in capsys.readouterr().err


def test_a_weak_named_key_is_refused_too(
    _isolated_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = ProviderRegistry(_isolated_config)
    registry.set_server(keys=[{"name": "laptop", "key": "password-laptop-0123456789"}])
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--api-key", strong_key()]) == 2
    err = capsys.readouterr().err
    assert "'laptop'" in err and "password-laptop" not in err


@pytest.mark.parametrize("key", WEAK_KEYS[:2])
def test_gateway_server_from_code_refuses_a_weak_key_beyond_loopback(
    _isolated_config: Path, key: str
) -> None:
    registry = ProviderRegistry(_isolated_config)
    registry.set_server(api_key=key)
    server = GatewayServer(registry)
    with pytest.raises(ConfigError, match="Refusing to listen on 0.0.0.0"):
        server.start(port=0, host="0.0.0.0")
    assert not server.running
    # The same key on loopback is fine: only this machine can reach it.
    server.start(port=0)
    try:
        assert server.running and server.addresses == [server.url]
    finally:
        server.stop()


def test_a_strong_key_serves_and_prints_every_address(tmp_path: Path) -> None:
    key = strong_key()
    config = tmp_path / "config.json"
    env = {**os.environ, "CHERRY_NB_CONFIG": str(config)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cherry_nb", "serve", "--host", "0.0.0.0", "--port", "0"]
        + ["--api-key", key],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("Listening on http://0.0.0.0:")
        port = int(line.rsplit(":", 1)[1])
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=TIMEOUT)
        assert health.status_code == 200
        models = httpx.get(
            f"http://127.0.0.1:{port}/v1/models", headers={"x-api-key": key}, timeout=TIMEOUT
        )
        assert models.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    for url in reachable_urls("0.0.0.0", port):
        assert f"  {url}\n" in err
    assert f"  http://127.0.0.1:{port}\n" in err
    assert key not in err and "Traceback" not in err


def test_a_generated_key_is_strong_enough_for_a_network() -> None:
    for _ in range(2000):
        assert gateway_key_problem(new_gateway_key(), public=True) is None


def test_loopback_hosts() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.2", "example.com"))
