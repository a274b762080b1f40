"""Local server detection against real servers on 127.0.0.1 (and closed ports)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from cherry_nb.notebook.detect import LocalServer, detect_local_servers
from cherry_nb.simulator import DEFAULT_MODELS, EMBEDDING_MODELS, SimulatorThread


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def open_sim() -> Iterator[SimulatorThread]:
    with SimulatorThread() as sim:
        yield sim


@pytest.fixture(scope="module")
def keyed_sim() -> Iterator[SimulatorThread]:
    with SimulatorThread(api_key="k-detect-0123456789") as sim:
        yield sim


async def _fake_server(routes: dict[str, tuple[int, object]]) -> asyncio.Server:
    """A tiny HTTP/1.1 server answering GET `path` with (status, JSON body); 404 otherwise."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ")[1].decode()
        status, body = routes.get(path, (404, {"error": "not found"}))
        data = json.dumps(body).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
            f"content-length: {len(data)}\r\nconnection: close\r\n\r\n".encode()
            + data
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


@pytest.fixture
async def ollama_like() -> AsyncIterator[int]:
    server = await _fake_server({"/api/tags": (200, {"models": [{"name": "llama3:8b"}]})})
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_finds_the_simulator_and_reports_a_closed_port_absent(
    open_sim: SimulatorThread,
) -> None:
    found = await detect_local_servers({"vllm": open_sim.port, "lmstudio": closed_port()})

    assert found == [
        LocalServer(
            key="vllm",
            port=open_sim.port,
            base_url=f"http://127.0.0.1:{open_sim.port}/v1",
            models=(*DEFAULT_MODELS, *EMBEDDING_MODELS),
        )
    ]
    assert found[0].label == "vLLM"


async def test_nothing_listening_gives_an_empty_list() -> None:
    assert await detect_local_servers({"vllm": closed_port(), "ollama": closed_port()}) == []


async def test_a_server_that_wants_a_key_is_reported_without_models(
    keyed_sim: SimulatorThread,
) -> None:
    [server] = await detect_local_servers({"llamacpp": keyed_sim.port})
    assert server.needs_key and server.models == ()
    assert server.label == "llama.cpp server"


async def test_ollama_api_tags_is_the_fallback(ollama_like: int) -> None:
    [server] = await detect_local_servers({"custom": ollama_like})
    assert server.key == "ollama"
    assert server.models == ("llama3:8b",)
    assert server.base_url == f"http://127.0.0.1:{ollama_like}/v1"


async def test_owned_by_tells_servers_sharing_a_port_apart() -> None:
    body = {"object": "list", "data": [{"id": "qwen.gguf", "owned_by": "llamacpp"}]}
    server = await _fake_server({"/v1/models": (200, body)})
    async with server:
        port = server.sockets[0].getsockname()[1]
        [found] = await detect_local_servers({"tgi": port})
    assert (found.key, found.models) == ("llamacpp", ("qwen.gguf",))


async def test_a_port_shared_by_two_names_is_probed_once(open_sim: SimulatorThread) -> None:
    found = await detect_local_servers({"tgi": open_sim.port, "llamacpp": open_sim.port})
    assert [s.key for s in found] == ["tgi"]


async def test_proxy_settings_are_ignored(
    open_sim: SimulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, f"http://127.0.0.1:{closed_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    found = await detect_local_servers({"vllm": open_sim.port})
    assert [s.port for s in found] == [open_sim.port]


@pytest.mark.parametrize("host", ["10.0.0.1", "example.com", "0.0.0.0", "localhost.evil"])
async def test_only_loopback_is_ever_probed(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        await detect_local_servers({"vllm": 8000}, host=host)


async def test_ipv6_loopback_is_allowed() -> None:
    assert await detect_local_servers({"vllm": closed_port()}, host="::1") == []


async def test_default_ports_are_the_presets(monkeypatch: pytest.MonkeyPatch) -> None:
    from cherry_nb.notebook import detect

    probed: list[tuple[str, int, str]] = []

    async def fake_probe(client: object, host: str, port: int, key: str) -> None:
        probed.append((host, port, key))

    monkeypatch.setattr(detect, "_probe", fake_probe)
    assert await detect_local_servers() == []
    assert sorted(probed) == sorted(
        ("127.0.0.1", port, key) for key, port in detect.LOCAL_SERVER_PORTS.items()
    )
