"""Defect 2: credentials in a base URL (`http://user:password@host/v1`) are a secret.

They are masked wherever the URL is shown — gateway error bodies, `cherry-nb providers`,
`check`, `%chat providers`, reprs of providers, adapters and errors, httpx's log lines —
and never exported. The password is short and not shaped like a key, so only the care
taken for URLs keeps it out (no key-shape pattern would catch it).
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest
from nbclient import NotebookClient

from cherry_nb.cli import main
from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.providers.pool import AdapterPool
from cherry_nb.simulator import SimulatorThread
from cherry_nb.wire.neutral import ChatRequest, Message, Text

from .conftest import AUTH, TIMEOUT, Stack

USER, PASSWORD = "alice", "Pw-9z!Q"  # a short password no key pattern recognises
MARKERS = (PASSWORD, f"{USER}:", "Pw-9z", "YWxpY2U6")  # YWxpY2U6: base64 of "alice:"


def with_credentials(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{USER}:{PASSWORD}@{rest}"


def assert_clean(text: str) -> None:
    for marker in MARKERS:
        assert marker not in text, f"{marker!r} leaked in: {text[:500]}"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def open_upstream() -> Iterator[SimulatorThread]:
    with SimulatorThread() as sim:  # accepts any credentials
        yield sim


@pytest.fixture
def registry(_isolated_config: Path, open_upstream: SimulatorThread) -> ProviderRegistry:
    registry = ProviderRegistry(_isolated_config)
    registry.add(
        id="creds",
        name="creds",
        base_url=with_credentials(open_upstream.base_url("openai")),
        models=["sim-chat"],
    )
    registry.add(
        id="gone",
        name="gone",
        base_url=with_credentials(f"http://127.0.0.1:{closed_port()}/v1"),
        models=["sim-chat"],
    )
    return registry


def test_gateway_error_bodies_hide_the_credentials(stack: Stack) -> None:
    stack.registry.add(
        id="gone-creds",
        name="gone creds",
        base_url=with_credentials(f"http://127.0.0.1:{closed_port()}/v1"),
        models=["m"],
    )
    try:
        messages = [{"role": "user", "content": "hi"}]
        for path, body in (
            ("/v1/chat/completions", {"model": "gone-creds:m", "messages": messages}),
            ("/v1/messages", {"model": "gone-creds:m", "max_tokens": 5, "messages": messages}),
        ):
            for stream in (False, True):
                response = httpx.post(
                    f"{stack.url}{path}",
                    json={**body, "stream": stream},
                    headers=AUTH,
                    timeout=TIMEOUT,
                )
                assert response.status_code == 502
                assert "127.0.0.1" in response.text  # the address is still named...
                assert_clean(response.text)  # ...without its credentials
    finally:
        stack.registry.delete("gone-creds")


def test_cli_list_check_and_export_hide_or_drop_the_credentials(
    registry: ProviderRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["providers"]) == 0
    listed = capsys.readouterr()
    assert "creds" in listed.out and "…@127.0.0.1" in listed.out
    assert_clean(listed.out + listed.err)

    assert main(["check", "gone"]) == 1
    checked = capsys.readouterr()
    assert "127.0.0.1" in checked.err
    assert_clean(checked.out + checked.err)

    assert main(["providers", "export"]) == 0
    exported = capsys.readouterr()
    document = json.loads(exported.out)
    assert {p["base_url"] for p in document["providers"]} == {
        p.base_url.replace(f"{USER}:{PASSWORD}@", "") for p in registry.config.providers
    }
    assert_clean(exported.out)
    assert "user name and password" in exported.err  # and it says so


def test_reprs_and_errors_hide_the_credentials(registry: ProviderRegistry) -> None:
    import asyncio

    provider = registry.get("gone")
    assert_clean(repr(provider))
    assert_clean(repr(registry.config))

    async def fail() -> None:
        pool = AdapterPool()
        try:
            adapter = pool.adapter(provider)
            assert_clean(repr(adapter))
            request = ChatRequest(model="sim-chat", messages=[Message("user", [Text("hi")])])
            with pytest.raises(Exception) as info:
                await adapter.chat(request)
            assert "127.0.0.1" in str(info.value)
            assert_clean(str(info.value) + repr(info.value) + str(vars(info.value)))
        finally:
            await pool.aclose()

    asyncio.run(fail())


def test_httpx_log_lines_hide_the_credentials(
    registry: ProviderRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio

    provider = registry.get("creds")

    async def talk() -> None:
        pool = AdapterPool()
        try:
            request = ChatRequest(model="sim-chat", messages=[Message("user", [Text("hi")])])
            await pool.adapter(provider).chat(request)
        finally:
            await pool.aclose()

    with caplog.at_level(logging.DEBUG):
        asyncio.run(talk())
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "HTTP Request: POST http://…@127.0.0.1" in logged  # httpx's INFO line is there
    assert_clean(logged)


def test_chat_providers_in_a_notebook_hides_the_credentials(registry: ProviderRegistry) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in ("%load_ext cherry_nb", "%chat providers")]
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    shown = json.dumps(nb.cells[1].outputs)
    assert "creds" in shown and "127.0.0.1" in shown
    assert_clean(shown)
