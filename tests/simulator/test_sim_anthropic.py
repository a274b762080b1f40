"""The Anthropic routes, checked with the official `anthropic` SDK (and raw httpx)."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx
import pytest

from cherry_nb.simulator import DEFAULT_MODELS, Simulator

KEY = "sk-ant-sim-test-0123456789abcdef"
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": ["integer", "null"]},
            "spots": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"x": {"type": "number"}},
                    "required": ["x"],
                },
            },
        },
        "required": ["city", "unit", "days", "spots"],
    },
}
WEATHER_INPUT = {"city": "example", "unit": "celsius", "days": 1, "spots": [{"x": 1}]}
GIF = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as sim:
        yield sim


@pytest.fixture
async def client(simulator: Simulator) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=simulator.base_url("anthropic"), api_key=KEY, max_retries=0, timeout=10
    ) as c:
        yield c


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


async def test_plain_message(client: anthropic.AsyncAnthropic) -> None:
    message = await client.messages.create(
        model="sim-chat",
        max_tokens=200,
        system=[{"type": "text", "text": "Be brief."}],
        messages=user("Hello Claude"),
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.id.startswith("msg_")
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None
    (block,) = message.content
    assert block.type == "text"
    assert block.text == (
        "**sim-chat** received 1 message. System: “Be brief.”. You said: “Hello Claude”"
    )
    assert message.usage.input_tokens == math.ceil(len("Be brief.Hello Claude") / 4)
    assert message.usage.output_tokens == len(block.text.split(" "))


async def test_raw_stream_event_order(client: anthropic.AsyncAnthropic) -> None:
    stream = await client.messages.create(
        model="sim-fast", max_tokens=200, messages=user("stream this please"), stream=True
    )
    events = [event async for event in stream]
    kinds = [e.type for e in events]
    assert kinds[:3] == ["message_start", "content_block_start", "content_block_delta"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = [e for e in events if e.type == "content_block_delta"]
    text = "".join(e.delta.text for e in deltas if e.delta.type == "text_delta")
    assert text == "**sim-fast** received 1 message. You said: “stream this please”"
    assert len(deltas) == len(text.split(" "))
    start = events[0]
    assert start.type == "message_start"
    assert start.message.usage.input_tokens == math.ceil(len("stream this please") / 4)
    final = events[-2]
    assert final.type == "message_delta"
    assert final.delta.stop_reason == "end_turn"
    assert final.usage.output_tokens == len(deltas)


async def test_sse_wire_format_includes_ping(simulator: Simulator) -> None:
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    body = {"model": "sim-chat", "max_tokens": 50, "messages": user("hi"), "stream": True}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5, headers=headers) as c:
        response = await c.post("/v1/messages", json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    blocks = response.text.split("\n\n")
    assert blocks[-1] == ""
    names = [b.split("\n")[0] for b in blocks[:-1]]
    assert names[:3] == ["event: message_start", "event: ping", "event: content_block_start"]
    assert names[-1] == "event: message_stop"
    for block in blocks[:-1]:
        event, data = block.split("\n")
        assert json.loads(data.removeprefix("data: "))["type"] == event.removeprefix("event: ")


async def test_stream_helper_final_message(client: anthropic.AsyncAnthropic) -> None:
    async with client.messages.stream(
        model="sim-chat", max_tokens=100, messages=user("helper test")
    ) as stream:
        pieces = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert "".join(pieces) == final.content[0].text
    assert final.content[0].text.endswith("You said: “helper test”")
    assert final.usage.output_tokens == len(pieces)
    assert final.stop_reason == "end_turn"


async def test_tool_use(client: anthropic.AsyncAnthropic) -> None:
    message = await client.messages.create(
        model="sim-chat",
        max_tokens=100,
        messages=user("what now?"),
        tools=[WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"},
    )
    assert message.stop_reason == "tool_use"
    (block,) = message.content
    assert block.type == "tool_use"
    assert block.name == "get_weather"
    assert block.input == WEATHER_INPUT
    assert block.id.startswith("toolu_")


async def test_streamed_tool_use_arrives_in_fragments(client: anthropic.AsyncAnthropic) -> None:
    async with client.messages.stream(
        model="sim-chat", max_tokens=100, messages=user("call get_weather"), tools=[WEATHER]
    ) as stream:
        fragments = [
            event.delta.partial_json
            async for event in stream
            if event.type == "content_block_delta" and event.delta.type == "input_json_delta"
        ]
        final = await stream.get_final_message()
    assert len(fragments) > 5
    assert json.loads("".join(fragments)) == WEATHER_INPUT
    (block,) = final.content
    assert block.type == "tool_use" and block.input == WEATHER_INPUT
    assert final.stop_reason == "tool_use"


async def test_tool_choice_any_and_none(client: anthropic.AsyncAnthropic) -> None:
    other = {"name": "lookup", "input_schema": {"type": "object"}}
    anyone = await client.messages.create(
        model="sim-chat",
        max_tokens=100,
        messages=user("hi"),
        tools=[other, WEATHER],
        tool_choice={"type": "any"},
    )
    assert anyone.content[0].type == "tool_use" and anyone.content[0].name == "lookup"
    none = await client.messages.create(
        model="sim-chat",
        max_tokens=100,
        messages=user("get_weather"),
        tools=[WEATHER],
        tool_choice={"type": "none"},
    )
    assert none.content[0].type == "text"


async def test_tool_result(client: anthropic.AsyncAnthropic) -> None:
    messages = [
        *user("weather? get_weather"),
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "rainy"}],
                }
            ],
        },
    ]
    message = await client.messages.create(
        model="sim-chat", max_tokens=100, messages=messages, tools=[WEATHER]
    )
    assert message.content[0].type == "text"
    assert message.content[0].text == "Tool get_weather returned: rainy"


async def test_images(client: anthropic.AsyncAnthropic) -> None:
    content = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": GIF}},
        {"type": "text", "text": "Describe"},
    ]
    message = await client.messages.create(
        model="sim-vision", max_tokens=100, messages=[{"role": "user", "content": content}]
    )
    assert message.content[0].type == "text"
    assert message.content[0].text.startswith(
        "**sim-vision** received 1 message (1 image: image/gif)."
    )


async def test_max_tokens_truncates(client: anthropic.AsyncAnthropic) -> None:
    message = await client.messages.create(model="sim-chat", max_tokens=2, messages=user("x y z"))
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 2


async def test_count_tokens(client: anthropic.AsyncAnthropic) -> None:
    result = await client.messages.count_tokens(
        model="sim-chat", system="sys", messages=user("twelve chars")
    )
    assert result.input_tokens == math.ceil(len("systwelve chars") / 4)


async def test_models_list(client: anthropic.AsyncAnthropic, simulator: Simulator) -> None:
    page = await client.models.list()
    # Anthropic has no embeddings: the embedding models are not in its list.
    assert [m.id for m in page.data] == list(DEFAULT_MODELS)
    assert page.data[0].display_name == "Sim Chat"
    assert page.data[0].type == "model"
    model = await client.models.retrieve("sim-fast")
    assert model.id == "sim-fast"
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5, headers=headers) as c:
        raw = (await c.get("/v1/models")).json()
    assert raw["has_more"] is False
    assert raw["first_id"] == DEFAULT_MODELS[0] and raw["last_id"] == DEFAULT_MODELS[-1]
    assert set(raw["data"][0]) == {"type", "id", "display_name", "created_at"}


async def test_bearer_auth_is_accepted(simulator: Simulator) -> None:
    async with anthropic.AsyncAnthropic(
        base_url=simulator.url, auth_token=KEY, max_retries=0, timeout=10
    ) as c:
        message = await c.messages.create(model="sim-chat", max_tokens=10, messages=user("hi"))
    assert message.content
    assert "x-api-key" not in simulator.requests[-1].headers


async def test_wrong_key(simulator: Simulator) -> None:
    async with anthropic.AsyncAnthropic(
        base_url=simulator.url, api_key="sk-ant-wrong", max_retries=0, timeout=10
    ) as c:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await c.messages.create(model="sim-chat", max_tokens=10, messages=user("hi"))
        with pytest.raises(anthropic.AuthenticationError):
            await c.models.list()
    assert caught.value.status_code == 401
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
    }


async def test_missing_key(simulator: Simulator) -> None:
    body = {"model": "sim-chat", "max_tokens": 5, "messages": user("hi")}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5) as c:
        response = await c.post(
            "/v1/messages", json=body, headers={"anthropic-version": "2023-06-01"}
        )
    assert response.status_code == 401
    assert response.json() == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "x-api-key header is required"},
    }


async def test_unknown_model(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        await client.messages.create(model="claude-nope", max_tokens=10, messages=user("hi"))
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "not_found_error", "message": "model: claude-nope"},
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "sim-chat", "messages": user("hi")}, "max_tokens: Field required"),
        ({"model": "sim-chat", "max_tokens": 5}, "messages: Field required"),
        ({"max_tokens": 5, "messages": user("hi")}, "model: Field required"),
        (
            {"model": "sim-chat", "max_tokens": 5, "messages": [{"role": "bot", "content": "x"}]},
            "messages.0.role: Input should be 'user', 'assistant' or 'system'",
        ),
    ],
)
async def test_validation_errors(simulator: Simulator, body: dict[str, Any], message: str) -> None:
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5, headers=headers) as c:
        response = await c.post("/v1/messages", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": message},
    }


async def test_invalid_json(simulator: Simulator) -> None:
    headers = {"x-api-key": KEY, "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5, headers=headers) as c:
        response = await c.post("/v1/messages", content=b"{oops")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
