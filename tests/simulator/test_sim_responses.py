"""The Responses route (`POST /v1/responses`), checked with the official `openai` SDK
(its typed models, stream helpers and `responses.parse`) and raw httpx for the envelopes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import openai
import pytest
from pydantic import BaseModel

from cherry_nb.simulator import Simulator

KEY = "sk-sim-responses-test-0123456789"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
        "additionalProperties": False,
    },
    "strict": True,
}


class City(BaseModel):
    name: str
    population: int


class Answer(BaseModel):
    cities: list[City]
    capital: City
    note: str | None


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as sim:
        yield sim


@pytest.fixture
async def client(simulator: Simulator) -> AsyncIterator[openai.AsyncOpenAI]:
    sdk = openai.AsyncOpenAI(api_key=KEY, base_url=simulator.base_url("openai"), max_retries=0)
    yield sdk
    await sdk.close()


async def test_create_answers_text_with_usage(client: openai.AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="sim-chat", input="Hello there", instructions="Be brief.", store=False
    )
    assert response.id.startswith("resp_")
    assert response.status == "completed"
    assert response.output_text.startswith("**sim-chat** received 1 message.")
    assert "You said: “Hello there”" in response.output_text
    assert "System: “Be brief.”" in response.output_text
    assert response.usage is not None
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    assert response.usage.input_tokens_details.cached_tokens == 0


async def test_long_prompts_report_cached_tokens(client: openai.AsyncOpenAI) -> None:
    response = await client.responses.create(model="sim-chat", input="word " * 1000)
    assert response.usage is not None
    assert response.usage.input_tokens == 1250
    assert response.usage.input_tokens_details.cached_tokens == 1152


async def test_stream_events_arrive_in_documented_order(client: openai.AsyncOpenAI) -> None:
    async with client.responses.stream(model="sim-chat", input="Stream me") as stream:
        events = [event async for event in stream]
        final = await stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == final.output_text
    assert "You said: “Stream me”" in text


async def test_function_call_then_output_round_trip(client: openai.AsyncOpenAI) -> None:
    first = await client.responses.create(
        model="sim-chat", input="Use get_weather for Paris", tools=[WEATHER]
    )
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1
    assert calls[0].name == "get_weather"
    assert calls[0].call_id.startswith("call_")
    assert calls[0].arguments == '{"city":"example","days":1}'
    second = await client.responses.create(
        model="sim-chat",
        input=[
            {"role": "user", "content": "Use get_weather for Paris"},
            {
                "type": "function_call",
                "call_id": calls[0].call_id,
                "name": "get_weather",
                "arguments": calls[0].arguments,
            },
            {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny"},
        ],
        tools=[WEATHER],
    )
    assert second.output_text == "Tool get_weather returned: sunny"


async def test_streamed_function_call_arrives_in_fragments(client: openai.AsyncOpenAI) -> None:
    async with client.responses.stream(
        model="sim-chat", input="hi", tools=[WEATHER], tool_choice="required"
    ) as stream:
        events = [event async for event in stream]
        final = await stream.get_final_response()
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert len(deltas) > 1
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert done[0].arguments == "".join(deltas) == '{"city":"example","days":1}'
    assert final.output[0].type == "function_call"


async def test_reasoning_items_when_asked(client: openai.AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="sim-reasoner",
        input="Think first",
        reasoning={"effort": "low", "summary": "auto"},
        include=["reasoning.encrypted_content"],
    )
    reasoning = response.output[0]
    assert reasoning.type == "reasoning"
    assert reasoning.summary[0].text.startswith("The user wrote 2 words")
    assert reasoning.encrypted_content
    assert response.usage is not None
    assert response.usage.output_tokens_details.reasoning_tokens > 0
    async with client.responses.stream(
        model="sim-reasoner", input="Think first", reasoning={"effort": "low"}
    ) as stream:
        kinds = [event.type async for event in stream]
    assert kinds[2:5] == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
    ]


async def test_plain_request_has_no_reasoning(client: openai.AsyncOpenAI) -> None:
    response = await client.responses.create(model="sim-chat", input="hi")
    assert [item.type for item in response.output] == ["message"]


async def test_parse_gets_json_fitting_the_schema(client: openai.AsyncOpenAI) -> None:
    response = await client.responses.parse(model="sim-chat", input="Cities?", text_format=Answer)
    parsed = response.output_parsed
    assert isinstance(parsed, Answer)
    assert parsed.capital == City(name="example", population=1)
    async with client.responses.stream(
        model="sim-chat", input="Cities?", text_format=Answer
    ) as stream:
        final = await stream.get_final_response()
    assert final.output_parsed == parsed


async def test_json_object_format_gets_an_object(client: openai.AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="sim-chat", input="Answer in JSON", text={"format": {"type": "json_object"}}
    )
    assert response.output_text == "{}"  # any object: the plan's answer in every protocol


async def test_max_output_tokens_makes_it_incomplete(client: openai.AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="sim-chat", input="[[sim:words=40]] go", max_output_tokens=16
    )
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    async with client.responses.stream(
        model="sim-chat", input="[[sim:words=40]] go", max_output_tokens=16
    ) as stream:
        kinds = [event.type async for event in stream]
    assert kinds[-1] == "response.incomplete"


async def test_previous_response_id_is_not_found(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await client.responses.create(model="sim-chat", input="hi", previous_response_id="resp_x")
    assert "Previous response with id 'resp_x' not found." in str(caught.value)


async def test_errors_use_openai_envelopes(simulator: Simulator) -> None:
    url = f"{simulator.url}/v1/responses"
    async with httpx.AsyncClient() as http:
        unauthorized = await http.post(url, json={"model": "sim-chat", "input": "hi"})
        headers = {"authorization": f"Bearer {KEY}"}
        missing = await http.post(url, json={"model": "sim-chat"}, headers=headers)
        unknown = await http.post(url, json={"model": "nope", "input": "x"}, headers=headers)
        bad_json = await http.post(url, content=b"{", headers=headers)
    assert unauthorized.status_code == 401
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "input"
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "model_not_found"
    assert bad_json.status_code == 400


async def test_scripted_faults_apply(simulator: Simulator, client: openai.AsyncOpenAI) -> None:
    simulator.script(fail=429, retry_after=0)
    with pytest.raises(openai.RateLimitError):
        await client.responses.create(model="sim-chat", input="hi")
    simulator.script(drop_after=2)
    with pytest.raises(openai.APIError):
        async with client.responses.stream(model="sim-chat", input="[[sim:words=30]]") as stream:
            async for _ in stream:
                pass
