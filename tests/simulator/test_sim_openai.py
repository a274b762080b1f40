"""The OpenAI routes, checked with the official `openai` SDK (and raw httpx for the envelopes)."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest

from cherry_nb._secrets import mask_key
from cherry_nb.simulator import DEFAULT_MODELS, EMBEDDING_MODELS, Simulator

KEY = "sk-sim-openai-test-0123456789"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
                "detailed": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "where": {
                    "type": "object",
                    "properties": {"lat": {"type": "number"}, "note": {"type": "string"}},
                    "required": ["lat"],
                },
                "optional": {"type": "string"},
            },
            "required": ["city", "unit", "days", "detailed", "tags", "where"],
        },
    },
}
WEATHER_ARGS = {
    "city": "example",
    "unit": "celsius",
    "days": 1,
    "detailed": True,
    "tags": ["example"],
    "where": {"lat": 1},
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as sim:
        yield sim


@pytest.fixture
async def client(simulator: Simulator) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=simulator.base_url("openai"), api_key=KEY, max_retries=0, timeout=10
    ) as c:
        yield c


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


async def test_plain_completion(client: openai.AsyncOpenAI) -> None:
    messages = [
        {"role": "system", "content": "You are a terse assistant who likes short answers always."},
        {"role": "user", "content": "Earlier question"},
        {"role": "assistant", "content": "Earlier answer"},
        {"role": "user", "content": "Tell me   about\nthe sea."},
    ]
    reply = await client.chat.completions.create(model="sim-chat", messages=messages)
    text = reply.choices[0].message.content
    assert text == (
        "**sim-chat** received 3 messages. System: “You are a terse assistant who likes"
        " short…”. You said: “Tell me about the sea.”"
    )
    assert reply.object == "chat.completion"
    assert reply.model == "sim-chat"
    assert reply.choices[0].finish_reason == "stop"
    chars = sum(len(m["content"]) for m in messages)
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == math.ceil(chars / 4)
    assert reply.usage.completion_tokens == len(text.split(" "))
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


async def test_stream_is_one_chunk_per_word(client: openai.AsyncOpenAI) -> None:
    plain = await client.chat.completions.create(model="sim-fast", messages=user("one two three"))
    stream = await client.chat.completions.create(
        model="sim-fast", messages=user("one two three"), stream=True
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks[1:-1]]
    assert all(p and p.count(" ") <= 1 for p in pieces)
    assert "".join(pieces) == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)
    assert {c.id for c in chunks} == {chunks[0].id}
    assert all(c.object == "chat.completion.chunk" for c in chunks)


async def test_stream_usage_only_with_include_usage(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="sim-chat",
        messages=user("count me"),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    words = sum(1 for c in chunks[1:-2] if c.choices[0].delta.content)
    assert last.usage.completion_tokens == words
    assert last.usage.prompt_tokens == math.ceil(len("count me") / 4)
    assert all(c.usage is None for c in chunks[:-1])


async def test_forced_tool_call(client: openai.AsyncOpenAI) -> None:
    reply = await client.chat.completions.create(
        model="sim-chat",
        messages=user("What should I wear?"),
        tools=[TIME, WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == WEATHER_ARGS
    assert call.id.startswith("call_")


async def test_tool_named_in_text_is_called_first_mentioned(client: openai.AsyncOpenAI) -> None:
    reply = await client.chat.completions.create(
        model="sim-chat",
        messages=user("use get_time, then get_weather"),
        tools=[WEATHER, TIME],
    )
    (call,) = reply.choices[0].message.tool_calls or []
    assert call.function.name == "get_time"
    assert json.loads(call.function.arguments) == {}


async def test_no_tool_call_unless_asked(client: openai.AsyncOpenAI) -> None:
    reply = await client.chat.completions.create(
        model="sim-chat", messages=user("hello"), tools=[WEATHER]
    )
    assert reply.choices[0].message.tool_calls is None
    none = await client.chat.completions.create(
        model="sim-chat", messages=user("get_weather now"), tools=[WEATHER], tool_choice="none"
    )
    assert none.choices[0].message.tool_calls is None
    required = await client.chat.completions.create(
        model="sim-chat", messages=user("hello"), tools=[TIME, WEATHER], tool_choice="required"
    )
    assert (required.choices[0].message.tool_calls or [])[0].function.name == "get_time"


async def test_streamed_tool_call_arrives_in_fragments(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="sim-chat", messages=user("weather? get_weather"), tools=[WEATHER], stream=True
    )
    chunks = [chunk async for chunk in stream]
    fragments = [
        c.choices[0].delta.tool_calls[0].function.arguments
        for c in chunks
        if c.choices and c.choices[0].delta.tool_calls
    ]
    first = chunks[0].choices[0].delta.tool_calls
    assert first is not None and first[0].function.name == "get_weather" and first[0].id
    assert fragments[0] == ""
    assert len(fragments) > 5
    assert all(len(f) <= 8 for f in fragments)
    assert json.loads("".join(fragments)) == WEATHER_ARGS
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


async def test_stream_helper_reassembles_tool_arguments(client: openai.AsyncOpenAI) -> None:
    async with client.chat.completions.stream(
        model="sim-chat", messages=user("please get_weather"), tools=[WEATHER]
    ) as stream:
        final = await stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == WEATHER_ARGS


async def test_tool_result_is_reported(client: openai.AsyncOpenAI) -> None:
    messages = [
        *user("weather in Paris? get_weather"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "22 degrees and sunny"},
    ]
    reply = await client.chat.completions.create(
        model="sim-chat", messages=messages, tools=[WEATHER]
    )
    assert reply.choices[0].message.content == "Tool get_weather returned: 22 degrees and sunny"
    assert reply.choices[0].message.tool_calls is None
    unknown = [*messages[:1], {"role": "tool", "tool_call_id": "call_9", "content": "x"}]
    reply = await client.chat.completions.create(model="sim-chat", messages=unknown)
    assert reply.choices[0].message.content == "Tool call_9 returned: x"


async def test_images_are_counted(client: openai.AsyncOpenAI) -> None:
    content = [
        {"type": "text", "text": "What is in these?"},
        {"type": "image_url", "image_url": {"url": PNG}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"}},
    ]
    reply = await client.chat.completions.create(
        model="sim-vision", messages=[{"role": "user", "content": content}]
    )
    assert reply.choices[0].message.content == (
        "**sim-vision** received 1 message (2 images: image/png, image/jpeg). "
        "You said: “What is in these?”"
    )


async def test_max_tokens_truncates(client: openai.AsyncOpenAI) -> None:
    reply = await client.chat.completions.create(
        model="sim-chat", messages=user("a b c d e f"), max_completion_tokens=3
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens == 3
    assert reply.choices[0].message.content == "**sim-chat** received 1 "


async def test_models(client: openai.AsyncOpenAI) -> None:
    page = await client.models.list()
    assert [m.id for m in page.data] == [*DEFAULT_MODELS, *EMBEDDING_MODELS]
    assert all(m.object == "model" for m in page.data)
    model = await client.models.retrieve("sim-reasoner")
    assert model.id == "sim-reasoner"
    with pytest.raises(openai.NotFoundError):
        await client.models.retrieve("gpt-nope")


async def test_custom_models() -> None:
    async with (
        Simulator(models=["m-one", "m-two"], embedding_models=["e-one"]) as sim,
        openai.AsyncOpenAI(
            base_url=sim.base_url("openai"), api_key="x", max_retries=0, timeout=10
        ) as c,
    ):
        assert [m.id for m in (await c.models.list()).data] == ["m-one", "m-two", "e-one"]
        reply = await c.chat.completions.create(model="m-two", messages=user("hi"))
        assert reply.choices[0].message.content.startswith("**m-two**")


async def test_unknown_model(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await client.chat.completions.create(model="gpt-404", messages=user("hi"))
    assert caught.value.status_code == 404
    assert caught.value.code == "model_not_found"
    assert caught.value.body == {
        "message": "The model `gpt-404` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }


async def test_wrong_key(simulator: Simulator) -> None:
    wrong = "sk-wrong-key-abcdefghijklmnop"
    async with openai.AsyncOpenAI(
        base_url=simulator.base_url("openai"), api_key=wrong, max_retries=0, timeout=10
    ) as c:
        with pytest.raises(openai.AuthenticationError) as caught:
            await c.chat.completions.create(model="sim-chat", messages=user("hi"))
    error = caught.value
    assert error.status_code == 401
    assert error.code == "invalid_api_key"
    assert error.type == "invalid_request_error"
    assert isinstance(error.body, dict)
    assert error.body["message"].startswith(f"Incorrect API key provided: {mask_key(wrong)}. ")
    assert wrong not in error.body["message"]


async def test_missing_key(simulator: Simulator) -> None:
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5) as c:
        response = await c.post("/v1/chat/completions", json={"model": "sim-chat"})
        listing = await c.get("/v1/models")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You didn't provide an API key.")
    assert listing.status_code == 401


async def test_open_simulator_accepts_any_key() -> None:
    async with Simulator() as sim, httpx.AsyncClient(base_url=sim.url, timeout=5) as c:
        body = {"model": "sim-chat", "messages": user("hi")}
        assert (await c.post("/v1/chat/completions", json=body)).status_code == 200
        headers = {"authorization": "Bearer whatever"}
        assert (await c.post("/v1/chat/completions", json=body, headers=headers)).status_code == 200


@pytest.mark.parametrize(
    ("body", "param", "code", "message"),
    [
        (
            {"model": "sim-chat"},
            "messages",
            "missing_required_parameter",
            "Missing required parameter: 'messages'.",
        ),
        (
            {"model": "sim-chat", "messages": []},
            "messages",
            "empty_array",
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
        ),
        (
            {"model": "sim-chat", "messages": "hi"},
            "messages",
            "invalid_type",
            "Invalid type for 'messages': expected an array of objects, but got a string instead.",
        ),
        (
            {"model": "sim-chat", "messages": [{"content": "hi"}]},
            "messages[0].role",
            "missing_required_parameter",
            "Missing required parameter: 'messages[0].role'.",
        ),
        (
            {"messages": user("hi")},
            None,
            None,
            "you must provide a model parameter",
        ),
    ],
)
async def test_validation_errors(
    simulator: Simulator, body: dict[str, Any], param: str | None, code: str | None, message: str
) -> None:
    headers = {"authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5, headers=headers) as c:
        response = await c.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


async def test_invalid_json(simulator: Simulator) -> None:
    headers = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5, headers=headers) as c:
        response = await c.post("/v1/chat/completions", content=b'{"model": "sim-chat",')
        array = await c.post("/v1/chat/completions", content=b"[1, 2]")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(
        "We could not parse the JSON body of your request."
    )
    assert array.status_code == 400


async def test_sdk_request_is_recorded(simulator: Simulator, client: openai.AsyncOpenAI) -> None:
    await client.chat.completions.create(model="sim-chat", messages=user("recorded"))
    seen = simulator.requests[-1]
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert seen.json == {"model": "sim-chat", "messages": user("recorded")}
