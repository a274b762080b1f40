"""POST /v1/responses through the gateway with the official openai SDK
(`responses.create`, `responses.stream`, `responses.parse`) to upstreams of every type:
passed through to an `openai-response` upstream, translated for the others."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from pydantic import BaseModel

from .conftest import GATEWAY_KEY, TYPES, Stack

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


class City(BaseModel):
    name: str
    population: int


def client(stack: Stack, base: str = "/v1") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{stack.url}{base}", api_key=GATEWAY_KEY, max_retries=0)


@pytest.mark.parametrize("upstream", TYPES)
def test_create(stack: Stack, upstream: str) -> None:
    with client(stack) as sdk:
        response = sdk.responses.create(
            model=f"up-{upstream}:sim-chat",
            instructions="Answer briefly.",
            input="hello responses",
            max_output_tokens=200,
        )
    assert response.object == "response"
    assert response.status == "completed"
    assert "hello responses" in response.output_text
    assert "Answer briefly" in response.output_text
    assert response.usage is not None and response.usage.output_tokens > 0
    if upstream != "openai-response":  # translated: the client's model name echoed
        assert response.model == f"up-{upstream}:sim-chat"


@pytest.mark.parametrize("upstream", TYPES)
def test_stream(stack: Stack, upstream: str) -> None:
    with client(stack) as sdk:
        with sdk.responses.stream(
            model=f"up-{upstream}:sim-chat", input="count [[sim:words=30]]"
        ) as stream:
            events = list(stream)
            final = stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) >= 30
    assert len("".join(deltas).split()) == 30 == len(final.output_text.split())
    assert final.usage is not None and final.usage.output_tokens > 0


@pytest.mark.parametrize("upstream", TYPES)
@pytest.mark.parametrize("stream", [False, True])
def test_function_call_round_trip(stack: Stack, upstream: str, stream: bool) -> None:
    model = f"up-{upstream}:sim-chat"
    question: list[Any] = [{"role": "user", "content": "use get_weather for Paris"}]
    with client(stack) as sdk:
        if stream:
            with sdk.responses.stream(model=model, input=question, tools=[WEATHER]) as events:
                arguments = [
                    e.delta for e in events if e.type == "response.function_call_arguments.delta"
                ]
                first = events.get_final_response()
            assert json.loads("".join(arguments)) == {"city": "example"}
        else:
            first = sdk.responses.create(model=model, input=question, tools=[WEATHER])
        calls = [item for item in first.output if item.type == "function_call"]
        assert [(c.name, json.loads(c.arguments)) for c in calls] == [
            ("get_weather", {"city": "example"})
        ]
        follow_up = [
            *question,
            {
                "type": "function_call",
                "call_id": calls[0].call_id,
                "name": "get_weather",
                "arguments": calls[0].arguments,
            },
            {"type": "function_call_output", "call_id": calls[0].call_id, "output": "18C, sunny"},
        ]
        final = sdk.responses.create(model=model, input=follow_up, tools=[WEATHER])
    assert "18C, sunny" in final.output_text


def test_parse_through_a_responses_upstream(stack: Stack) -> None:
    with client(stack) as sdk:
        parsed = sdk.responses.parse(
            model="up-openai-response:sim-chat", input="A city?", text_format=City
        )
        with sdk.responses.stream(
            model="up-openai-response:sim-chat", input="A city?", text_format=City
        ) as stream:
            streamed = stream.get_final_response()
    assert parsed.output_parsed == City(name="example", population=1)
    assert streamed.output_parsed == parsed.output_parsed


def test_provider_route_takes_a_bare_model(stack: Stack) -> None:
    with client(stack, "/up-anthropic/v1") as sdk:
        response = sdk.responses.create(model="sim-chat", input="bare model")
    assert "bare model" in response.output_text


def test_previous_response_id_on_a_translated_upstream_is_a_clear_400(stack: Stack) -> None:
    with client(stack) as sdk, pytest.raises(openai.BadRequestError) as caught:
        sdk.responses.create(
            model="up-gemini:sim-chat", input="more", previous_response_id="resp_1"
        )
    body = caught.value.body
    assert isinstance(body, dict) and body["param"] == "previous_response_id"
    assert "keeps no state" in body["message"]


def test_previous_response_id_passes_through_to_a_responses_upstream(stack: Stack) -> None:
    # The upstream keeps its own state, so the id is its to judge: the simulator knows
    # no stored response and answers 404, which the client gets — not the gateway's 400.
    sent = len(stack.upstream.requests)
    with client(stack) as sdk, pytest.raises(openai.NotFoundError):
        sdk.responses.create(
            model="up-openai-response:sim-chat", input="more", previous_response_id="resp_1"
        )
    assert stack.upstream.requests[-1].json["previous_response_id"] == "resp_1"
    assert len(stack.upstream.requests) == sent + 1


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "up-openai:sim-chat"}, "input"),
        ({"model": "up-openai:sim-chat", "input": 3}, "input"),
        (
            {
                "model": "up-openai:sim-chat",
                "input": "x",
                "tools": [{"type": "custom", "name": "patch"}],
            },
            "tools[0].type",
        ),
        (
            {"model": "up-openai:sim-chat", "input": "x", "reasoning": {"effort": "max"}},
            "reasoning.effort",
        ),
    ],
)
def test_bad_requests_get_openai_envelopes(stack: Stack, body: dict[str, Any], param: str) -> None:
    reply = httpx.post(
        f"{stack.url}/v1/responses", json=body, headers={"authorization": f"Bearer {GATEWAY_KEY}"}
    )
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param


@pytest.mark.parametrize("upstream", ["openai", "openai-response"])
def test_a_stream_cut_upstream_ends_with_an_error_the_sdk_raises(
    stack: Stack, upstream: str
) -> None:
    kinds: list[str] = []
    with client(stack) as sdk:
        with sdk.responses.stream(
            model=f"up-{upstream}:sim-chat", input="[[sim:words=40]] [[sim:drop_after=5]]"
        ) as stream:
            with pytest.raises(openai.APIError) as caught:
                for event in stream:
                    kinds.append(event.type)
    assert "response.output_text.delta" in kinds
    assert "response.completed" not in kinds
    assert "dropped before the reply was complete" in str(caught.value)


@pytest.mark.parametrize("base", ["/v1", "/up-gemini/v1"])
def test_input_tokens_are_estimated(stack: Stack, base: str) -> None:
    model = "sim-chat" if base != "/v1" else "up-gemini:sim-chat"
    with client(stack, base) as sdk:
        short = sdk.responses.input_tokens.count(model=model, input="hi")
        long = sdk.responses.input_tokens.count(
            model=model, input="word " * 400, instructions="Be brief."
        )
    assert short.object == "response.input_tokens"
    assert 0 < short.input_tokens < long.input_tokens


def test_input_tokens_refuses_what_it_cannot_read(stack: Stack) -> None:
    with client(stack) as sdk, pytest.raises(openai.BadRequestError) as caught:
        sdk.responses.input_tokens.count(
            model="up-openai:sim-chat", input="x", tools=[{"type": "custom", "name": "patch"}]
        )
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "tools[0].type"
