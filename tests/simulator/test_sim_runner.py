"""SimulatorThread for sync callers (with the sync SDK clients) and the `serve` coroutine."""

from __future__ import annotations

import asyncio
import socket

import anthropic
import httpx
import openai
import pytest

from cherry_nb.simulator import SimulatorThread, serve

KEY = "sk-sim-thread-0123456789abcdef"


def test_thread_with_sync_sdks() -> None:
    with SimulatorThread(api_key=KEY) as sim:
        assert sim.url == f"http://127.0.0.1:{sim.port}"
        with openai.OpenAI(
            base_url=sim.base_url("openai"), api_key=KEY, max_retries=0, timeout=10
        ) as client:
            reply = client.chat.completions.create(
                model="sim-chat", messages=[{"role": "user", "content": "sync hello"}]
            )
            assert reply.choices[0].message.content.endswith("You said: “sync hello”")
            stream = client.chat.completions.create(
                model="sim-chat",
                messages=[{"role": "user", "content": "sync stream"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            chunks = list(stream)
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            assert text.endswith("“sync stream”")
            assert chunks[-1].usage is not None
        with openai.AzureOpenAI(
            azure_endpoint=sim.url, api_key=KEY, api_version="2024-10-21", max_retries=0, timeout=10
        ) as azure:
            reply = azure.chat.completions.create(
                model="sim-fast", messages=[{"role": "user", "content": "via azure"}]
            )
            assert reply.choices[0].message.content.startswith("**sim-fast**")
        with anthropic.Anthropic(
            base_url=sim.url, api_key=KEY, max_retries=0, timeout=10
        ) as claude:
            with claude.messages.stream(
                model="sim-chat",
                max_tokens=50,
                messages=[{"role": "user", "content": "sync claude"}],
            ) as stream:
                final = stream.get_final_message()
            assert final.content[0].type == "text"
            assert final.content[0].text.endswith("“sync claude”")
        recorded = sim.requests
        assert [r.path for r in recorded[-2:]] == [
            "/openai/deployments/sim-fast/chat/completions",
            "/v1/messages",
        ]


def test_thread_script_is_forwarded() -> None:
    with SimulatorThread() as sim:
        sim.script(fail=503, count=1)
        with httpx.Client(base_url=sim.url, timeout=5) as client:
            body = {"model": "sim-chat", "messages": [{"role": "user", "content": "x"}]}
            assert client.post("/v1/chat/completions", json=body).status_code == 503
            assert client.post("/v1/chat/completions", json=body).status_code == 200
        assert sim.active_streams == 0
        assert sim.connections_opened >= 1


def test_thread_stop_is_idempotent_and_frees_the_port() -> None:
    sim = SimulatorThread()
    sim.start()
    assert sim.start() is sim
    port = sim.port
    with httpx.Client(timeout=5) as client:
        assert client.get(f"{sim.url}/health").json() == {"status": "ok"}
    sim.stop()
    sim.stop()
    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(2)
        probe.connect(("127.0.0.1", port))
    with pytest.raises(RuntimeError):
        sim.script(fail=500)


def test_thread_start_failure_is_raised() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        taken_sim = SimulatorThread(port=port)
        with pytest.raises(OSError):
            taken_sim.start()


async def test_serve_reports_ready_and_stops_when_cancelled() -> None:
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve("127.0.0.1", 0, KEY, ready=ready.set_result))
    try:
        url = await asyncio.wait_for(ready, 5)
        assert url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            assert (await client.get("/health")).status_code == 200
            listing = await client.get("/v1/models", headers={"authorization": "Bearer nope"})
            assert listing.status_code == 401
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
