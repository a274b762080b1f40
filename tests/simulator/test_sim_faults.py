"""Directives and scripted faults, per protocol: errors, delays, long replies, drops, HTML."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from cherry_nb.simulator import Simulator

KEY = "sk-sim-faults-0123456789abcdef"
HEADERS = {"authorization": f"Bearer {KEY}", "x-goog-api-key": KEY}


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as sim:
        yield sim


@pytest.fixture
async def client(simulator: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=simulator.url, timeout=10, headers=HEADERS) as c:
        yield c


def request(protocol: str, text: str, *, stream: bool = False) -> tuple[str, dict[str, Any]]:
    """Path and body of a chat request in `protocol`."""
    messages = [{"role": "user", "content": text}]
    if protocol == "openai":
        return "/v1/chat/completions", {"model": "sim-chat", "messages": messages, "stream": stream}
    if protocol == "azure":
        path = "/openai/deployments/sim-chat/chat/completions?api-version=2024-10-21"
        return path, {"messages": messages, "stream": stream}
    if protocol == "anthropic":
        body = {"model": "sim-chat", "max_tokens": 4096, "messages": messages, "stream": stream}
        return "/v1/messages", body
    action = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"/v1beta/models/sim-chat:{action}", {"contents": [{"parts": [{"text": text}]}]}


PROTOCOLS = ["openai", "azure", "anthropic", "gemini"]


async def send(
    client: httpx.AsyncClient, protocol: str, text: str, *, stream: bool = False
) -> httpx.Response:
    path, body = request(protocol, text, stream=stream)
    return await client.post(path, json=body)


def content_pieces(protocol: str, raw: str) -> list[str]:
    """The text pieces of a streamed reply, one per content event."""
    pieces = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        data = [line[6:] for line in block.split("\n") if line.startswith("data: ")]
        if not data or data[0] == "[DONE]":
            continue
        event = json.loads(data[0])
        if protocol in ("openai", "azure"):
            if event["choices"] and event["choices"][0]["delta"].get("content"):
                pieces.append(event["choices"][0]["delta"]["content"])
        elif protocol == "anthropic":
            if event["type"] == "content_block_delta":
                pieces.append(event["delta"]["text"])
        else:
            pieces.append(event["candidates"][0]["content"]["parts"][0]["text"])
    return pieces


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_fail_429_directive_sets_retry_after(
    client: httpx.AsyncClient, protocol: str
) -> None:
    path, body = request(protocol, "please [[sim:fail=429]]")
    response = await client.post(path, json=body)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    error = response.json()["error"]
    expected = {
        "openai": ("code", "rate_limit_exceeded"),
        "azure": ("code", "429"),
        "anthropic": ("type", "rate_limit_error"),
        "gemini": ("status", "RESOURCE_EXHAUSTED"),
    }[protocol]
    assert error[expected[0]] == expected[1]
    again = await client.post(path, json=request(protocol, "fine now")[1])
    assert again.status_code == 200


async def test_scripted_429_with_sdk(simulator: Simulator) -> None:
    simulator.script(fail=429, retry_after=0.1, count=1)
    async with openai.AsyncOpenAI(
        base_url=simulator.base_url("openai"), api_key=KEY, max_retries=0, timeout=10
    ) as c:
        with pytest.raises(openai.RateLimitError) as caught:
            await c.chat.completions.create(
                model="sim-chat", messages=[{"role": "user", "content": "x"}]
            )
        assert caught.value.response.headers["retry-after"] == "0.1"
        assert caught.value.code == "rate_limit_exceeded"
        # The SDK's own retry honours Retry-After and then succeeds.
        simulator.script(fail=429, retry_after=0.1, count=1)
        started = time.monotonic()
        reply = await c.with_options(max_retries=1).chat.completions.create(
            model="sim-chat", messages=[{"role": "user", "content": "x"}]
        )
        assert time.monotonic() - started >= 0.1
        assert reply.choices[0].message.content


@pytest.mark.parametrize(
    ("protocol", "status", "field", "value"),
    [
        ("openai", 500, "type", "server_error"),
        ("openai", 502, "type", "cf_bad_gateway"),
        ("openai", 503, "type", "server_error"),
        ("azure", 500, "code", "InternalServerError"),
        ("anthropic", 500, "type", "api_error"),
        ("anthropic", 529, "type", "overloaded_error"),
        ("gemini", 500, "status", "INTERNAL"),
        ("gemini", 503, "status", "UNAVAILABLE"),
    ],
)
async def test_server_errors_are_shaped_per_protocol(
    simulator: Simulator,
    client: httpx.AsyncClient,
    protocol: str,
    status: int,
    field: str,
    value: str,
) -> None:
    simulator.script(fail=status)
    path, body = request(protocol, "x", stream=True)
    response = await client.post(path, json=body)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert "retry-after" not in response.headers
    assert response.json()["error"][field] == value
    if protocol == "anthropic":
        assert response.json()["type"] == "error"


async def test_anthropic_sdk_sees_overloaded(simulator: Simulator) -> None:
    simulator.script(fail=529)
    async with anthropic.AsyncAnthropic(
        base_url=simulator.url, api_key=KEY, max_retries=0, timeout=10
    ) as c:
        with pytest.raises(anthropic.APIStatusError) as caught:
            await c.messages.create(
                model="sim-chat", max_tokens=5, messages=[{"role": "user", "content": "x"}]
            )
    assert caught.value.status_code == 529


async def test_script_is_fifo_and_counted(simulator: Simulator, client: httpx.AsyncClient) -> None:
    simulator.script(fail=500, count=2)
    simulator.script(words=3)
    path, body = request("openai", "x")
    statuses = [(await client.post(path, json=body)).status_code for _ in range(2)]
    assert statuses == [500, 500]
    third = (await client.post(path, json=body)).json()["choices"][0]["message"]["content"]
    assert len(third.split(" ")) == 3
    fourth = (await client.post(path, json=body)).json()["choices"][0]["message"]["content"]
    assert fourth.startswith("**sim-chat**")
    # Non-chat requests do not use up a script.
    simulator.script(fail=500)
    assert (await client.get("/v1/models")).status_code == 200
    assert (await client.post(path, json=body)).status_code == 500
    simulator.script(fail=500)
    simulator.clear_script()
    assert (await client.post(path, json=body)).status_code == 200


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_words_2000_gives_2000_chunks(client: httpx.AsyncClient, protocol: str) -> None:
    path, body = request(protocol, "long one [[sim:words=2000]]", stream=True)
    response = await client.post(path, json=body)
    pieces = content_pieces(protocol, response.text)
    assert len(pieces) == 2000
    assert len("".join(pieces).split(" ")) == 2000
    plain = await send(client, protocol, "long one [[sim:words=2000]]")
    data = plain.json()
    if protocol == "anthropic":
        text = data["content"][0]["text"]
    elif protocol == "gemini":
        text = data["candidates"][0]["content"]["parts"][0]["text"]
    else:
        text = data["choices"][0]["message"]["content"]
    assert text == "".join(pieces)  # deterministic


async def test_directives_are_stripped_from_the_quote(client: httpx.AsyncClient) -> None:
    path, body = request("openai", "Hello [[sim:delay=0]] there [[sim:unknown=3]]")
    text = (await client.post(path, json=body)).json()["choices"][0]["message"]["content"]
    assert text.endswith("You said: “Hello there”")


async def test_delay_before_plain_reply(simulator: Simulator, client: httpx.AsyncClient) -> None:
    simulator.script(delay=0.3)
    started = time.monotonic()
    response = await send(client, "anthropic", "slow")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


async def test_delay_between_stream_chunks(client: httpx.AsyncClient) -> None:
    path, body = request("openai", "[[sim:delay=0.05]] [[sim:words=5]]", stream=True)
    arrivals = []
    started = time.monotonic()
    async with client.stream("POST", path, json=body) as response:
        async for line in response.aiter_lines():
            if '"content":"' in line and '"content":""' not in line:
                arrivals.append(time.monotonic() - started)
    assert len(arrivals) == 5
    # The head waits one delay, then each word another: word i cannot come before (i + 2) delays.
    for i, arrival in enumerate(arrivals):
        assert arrival >= 0.05 * (i + 2) - 0.005


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_drop_after_breaks_the_stream(
    simulator: Simulator, client: httpx.AsyncClient, protocol: str
) -> None:
    path, body = request(protocol, "[[sim:drop_after=3]] [[sim:words=50]]", stream=True)
    received = ""
    with pytest.raises(httpx.RemoteProtocolError):
        async with client.stream("POST", path, json=body) as response:
            assert response.status_code == 200
            async for text in response.aiter_text():
                received += text
    assert len(content_pieces(protocol, received)) == 3
    assert simulator.active_streams == 0


async def test_drop_after_on_a_plain_reply(simulator: Simulator, client: httpx.AsyncClient) -> None:
    simulator.script(drop_after=0)
    with pytest.raises(httpx.RemoteProtocolError):
        await send(client, "gemini", "x")


async def test_drop_with_openai_sdk(simulator: Simulator) -> None:
    simulator.script(drop_after=2, words=20)
    async with openai.AsyncOpenAI(
        base_url=simulator.base_url("openai"), api_key=KEY, max_retries=0, timeout=10
    ) as c:
        stream = await c.chat.completions.create(
            model="sim-chat", messages=[{"role": "user", "content": "x"}], stream=True
        )
        seen = []
        with pytest.raises(Exception) as caught:
            async for chunk in stream:
                seen.append(chunk)
        await stream.close()
    assert "RemoteProtocolError" in type(caught.value).__name__ or isinstance(
        caught.value, openai.APIError
    )
    assert len(seen) == 3  # the role chunk and two words


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_html_directive(client: httpx.AsyncClient, protocol: str) -> None:
    path, body = request(protocol, "[[sim:html]]", stream=True)
    response = await client.post(path, json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")


async def test_client_disconnect_stops_the_stream(
    simulator: Simulator, client: httpx.AsyncClient
) -> None:
    closed_before = simulator.connections_closed
    path, body = request("anthropic", "[[sim:delay=0.05]] [[sim:words=500]]", stream=True)
    async with client.stream("POST", path, json=body) as response:
        lines = response.aiter_lines()
        while "content_block_delta" not in await asyncio.wait_for(anext(lines), 5):
            pass
        assert simulator.active_streams == 1
    deadline = time.monotonic() + 1
    while simulator.active_streams and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert simulator.active_streams == 0
    assert simulator.connections_closed == closed_before + 1


async def test_stop_cuts_a_running_stream() -> None:
    sim = Simulator()
    await sim.start()
    try:
        async with httpx.AsyncClient(base_url=sim.url, timeout=10) as c:
            path, body = request("openai", "[[sim:delay=0.05]] [[sim:words=500]]", stream=True)
            with pytest.raises(httpx.RemoteProtocolError):
                async with c.stream("POST", path, json=body) as response:
                    async for line in response.aiter_lines():
                        if '"content":"' in line and sim.active_streams:
                            await sim.stop()
    finally:
        await sim.stop()
    assert sim.active_streams == 0
