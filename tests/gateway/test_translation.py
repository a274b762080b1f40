"""Nothing dropped silently: structured output, reasoning, choices, sampling extras and
cached-token usage through the gateway, over real HTTP, with the simulator as the
upstream that records what arrived in its own protocol."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import anthropic
import openai
import pytest
from openai.lib._pydantic import to_strict_json_schema
from pydantic import BaseModel

from .conftest import GATEWAY_KEY, Stack


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"


class Address(BaseModel):
    city: str
    postcode: int


class Person(BaseModel):
    name: str
    age: int
    height: float
    admin: bool
    tags: list[str]
    favourite: Colour
    home: Address


WEATHER_PARAMETERS = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
WEATHER = {"name": "get_weather", "description": "Weather", "input_schema": WEATHER_PARAMETERS}
WEATHER_OPENAI = {
    "type": "function",
    "function": {"name": "get_weather", "description": "Weather", "parameters": WEATHER_PARAMETERS},
}


def oai(stack: Stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{stack.url}/v1", api_key=GATEWAY_KEY, max_retries=0)


def ant(stack: Stack) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=stack.url, api_key=GATEWAY_KEY, max_retries=0)


def last_upstream_body(stack: Stack) -> dict[str, Any]:
    body = stack.upstream.requests[-1].json
    assert isinstance(body, dict)
    return body


HI = [{"role": "user", "content": "Describe someone."}]


@pytest.mark.parametrize("upstream", ["anthropic", "gemini", "openai"])
def test_openai_parse_gets_a_parsed_object(stack: Stack, upstream: str) -> None:
    with oai(stack) as client:
        reply = client.chat.completions.parse(
            model=f"up-{upstream}:sim-chat", messages=HI, response_format=Person
        )
    person = reply.choices[0].message.parsed
    assert isinstance(person, Person)
    assert person.favourite is Colour.RED and isinstance(person.home, Address)


@pytest.mark.parametrize("upstream", ["anthropic", "gemini"])
def test_openai_parse_streams_a_parsed_object(stack: Stack, upstream: str) -> None:
    with (
        oai(stack) as client,
        client.chat.completions.stream(
            model=f"up-{upstream}:sim-chat", messages=HI, response_format=Person
        ) as stream,
    ):
        final = stream.get_final_completion()
    assert isinstance(final.choices[0].message.parsed, Person)


def test_schema_arrives_at_anthropic_as_output_config(stack: Stack) -> None:
    with oai(stack) as client:
        client.chat.completions.parse(
            model="up-anthropic:sim-chat", messages=HI, response_format=Person
        )
    body = last_upstream_body(stack)
    assert body["output_config"] == {
        "format": {"type": "json_schema", "schema": to_strict_json_schema(Person)}
    }


def test_schema_arrives_at_gemini_as_response_json_schema(stack: Stack) -> None:
    with oai(stack) as client:
        client.chat.completions.parse(
            model="up-gemini:sim-chat", messages=HI, response_format=Person
        )
    config = last_upstream_body(stack)["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == to_strict_json_schema(Person)


def test_json_object_mode(stack: Stack) -> None:
    json_object = {"type": "json_object"}
    with oai(stack) as client:
        reply = client.chat.completions.create(
            model="up-gemini:sim-chat", messages=HI, response_format=json_object
        )
        assert reply.choices[0].message.content == "{}"
        assert last_upstream_body(stack)["generationConfig"] == {
            "responseMimeType": "application/json"
        }
        client.chat.completions.create(
            model="up-anthropic:sim-chat", messages=HI, response_format=json_object
        )
    body = last_upstream_body(stack)  # no schema-less JSON mode at Anthropic: asked in words
    assert body["system"] == "Reply with one JSON object and nothing else."
    assert "output_config" not in body


def test_anthropic_client_output_config_reaches_openai_and_gemini(stack: Stack) -> None:
    schema = {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}, "n": {"type": "integer"}},
        "required": ["ok", "n"],
        "additionalProperties": False,
    }
    with ant(stack) as client:
        for upstream in ("openai", "gemini"):
            reply = client.messages.create(
                model=f"up-{upstream}:sim-chat",
                max_tokens=200,
                messages=[{"role": "user", "content": "check"}],
                extra_body={"output_config": {"format": {"type": "json_schema", "schema": schema}}},
            )
            assert reply.content[0].type == "text"
            assert reply.content[0].text == '{"ok":true,"n":1}'
            body = last_upstream_body(stack)
            if upstream == "openai":
                assert body["response_format"] == {
                    "type": "json_schema",
                    "json_schema": {"name": "response", "schema": schema},
                }
            else:
                assert body["generationConfig"]["responseJsonSchema"] == schema


def test_n_two_from_gemini_is_two_choices(stack: Stack) -> None:
    with oai(stack) as client:
        reply = client.chat.completions.create(model="up-gemini:sim-chat", messages=HI, n=2)
    assert [c.index for c in reply.choices] == [0, 1]
    assert reply.choices[0].message.content == reply.choices[1].message.content
    assert last_upstream_body(stack)["generationConfig"]["candidateCount"] == 2


@pytest.mark.parametrize(
    ("upstream", "stream"), [("anthropic", False), ("anthropic", True), ("gemini", True)]
)
def test_n_two_never_answers_one_choice(stack: Stack, upstream: str, stream: bool) -> None:
    before = len(stack.upstream.requests)
    with oai(stack) as client, pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=f"up-{upstream}:sim-chat", messages=HI, n=2, stream=stream
        )
    error = caught.value.body
    assert isinstance(error, dict) and error["param"] == "n"
    assert "n=2" in error["message"]
    assert len(stack.upstream.requests) == before  # refused before any upstream call


def test_reasoning_effort_becomes_thinking(stack: Stack) -> None:
    with oai(stack) as client:
        client.chat.completions.create(
            model="up-anthropic:sim-chat", messages=HI, reasoning_effort="low"
        )
        anthropic_body = last_upstream_body(stack)
        client.chat.completions.create(
            model="up-gemini:sim-chat", messages=HI, reasoning_effort="medium"
        )
        gemini_body = last_upstream_body(stack)
    assert anthropic_body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert anthropic_body["max_tokens"] > 2048
    assert gemini_body["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": 8192,
        "includeThoughts": True,
    }


def test_anthropic_effort_becomes_reasoning_effort(stack: Stack) -> None:
    with ant(stack) as client:
        client.messages.create(
            model="up-openai:sim-chat",
            max_tokens=20000,
            messages=[{"role": "user", "content": "think"}],
            thinking={"type": "adaptive"},
            extra_body={"output_config": {"effort": "medium"}},
        )
        assert last_upstream_body(stack)["reasoning_effort"] == "medium"
        # A budget alone (Claude Code's default) is not guessed into an effort.
        client.messages.create(
            model="up-openai:sim-chat",
            max_tokens=20000,
            messages=[{"role": "user", "content": "think"}],
            thinking={"type": "enabled", "budget_tokens": 16000},
        )
        assert "reasoning_effort" not in last_upstream_body(stack)


def test_sampling_extras_and_user(stack: Stack) -> None:
    extras: dict[str, Any] = {
        "seed": 7,
        "presence_penalty": 0.5,
        "frequency_penalty": 0.25,
        "user": "u-1",
    }
    with oai(stack) as client:
        client.chat.completions.create(model="up-gemini:sim-chat", messages=HI, **extras)
        config = last_upstream_body(stack)["generationConfig"]
        client.chat.completions.create(model="up-anthropic:sim-chat", messages=HI, **extras)
        anthropic_body = last_upstream_body(stack)
    assert (config["seed"], config["presencePenalty"], config["frequencyPenalty"]) == (7, 0.5, 0.25)
    assert anthropic_body["metadata"] == {"user_id": "u-1"}
    assert not {"seed", "presence_penalty", "frequency_penalty"} & anthropic_body.keys()


@pytest.mark.parametrize("upstream", ["anthropic", "gemini"])
@pytest.mark.parametrize("stream", [False, True])
def test_cached_tokens_reach_an_openai_client(stack: Stack, upstream: str, stream: bool) -> None:
    stack.upstream.script(cached=3)
    with oai(stack) as client:
        if stream:
            chunks = list(
                client.chat.completions.create(
                    model=f"up-{upstream}:sim-chat",
                    messages=HI,
                    stream=True,
                    stream_options={"include_usage": True},
                )
            )
            usage = chunks[-1].usage
        else:
            usage = client.chat.completions.create(
                model=f"up-{upstream}:sim-chat", messages=HI
            ).usage
    assert usage is not None and usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 3


@pytest.mark.parametrize("upstream", ["openai", "gemini"])
@pytest.mark.parametrize("stream", [False, True])
def test_cached_tokens_reach_an_anthropic_client(stack: Stack, upstream: str, stream: bool) -> None:
    stack.upstream.script(cached=3)
    request: dict[str, Any] = {
        "model": f"up-{upstream}:sim-chat",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hello cache " * 8}],
    }
    with ant(stack) as client:
        if stream:
            with client.messages.stream(**request) as events:
                usage = events.get_final_message().usage
        else:
            usage = client.messages.create(**request).usage
    assert usage.cache_read_input_tokens == 3
    assert usage.input_tokens > 0  # Anthropic counts cached tokens apart


# ---- signed reasoning across tool-call turns (sim-reasoner signs and checks) ---------------


THINK = {"type": "enabled", "budget_tokens": 2048}


@pytest.mark.parametrize("stream", [False, True])
def test_gemini_signature_survives_an_anthropic_tool_loop(stack: Stack, stream: bool) -> None:
    """Gemini's thoughtSignature reaches the Anthropic client as a signed thinking block;
    sent back, it arrives on the function call again, which the upstream checks."""
    request: dict[str, Any] = {
        "model": "up-gemini:sim-reasoner",
        "max_tokens": 4096,
        "thinking": THINK,
        "tools": [WEATHER],
        "messages": [{"role": "user", "content": "get_weather for Paris"}],
    }
    with ant(stack) as client:
        if stream:
            with client.messages.stream(**request) as events:
                first = events.get_final_message()
        else:
            first = client.messages.create(**request)
        thinking = [b for b in first.content if b.type == "thinking"]
        # tagged with its origin (wire/_signatures.py), so that it goes back to Gemini only
        assert [b.signature for b in thinking][-1] == "cherrynbgemisim-signature-sim-reasoner"
        call = next(b for b in first.content if b.type == "tool_use")
        request["messages"] += [
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}],
            },
        ]
        second = client.messages.create(**request)
    assert second.content[-1].type == "text" and "sunny" in second.content[-1].text
    model_turn = last_upstream_body(stack)["contents"][1]
    call_part = next(p for p in model_turn["parts"] if "functionCall" in p)
    assert call_part["thoughtSignature"] == "sim-signature-sim-reasoner"


def test_anthropic_signed_thinking_survives_an_anthropic_tool_loop_via_openai_client(
    stack: Stack,
) -> None:
    """An OpenAI client cannot keep Anthropic's signature: the gateway leaves thinking
    off for the turn that answers the tool call (Anthropic would refuse it) and says so."""
    with oai(stack) as client:
        messages: list[Any] = [{"role": "user", "content": "get_weather for Paris"}]
        first = client.chat.completions.create(
            model="up-anthropic:sim-reasoner",
            messages=messages,
            tools=[WEATHER_OPENAI],
            reasoning_effort="low",
        )
        assert last_upstream_body(stack)["thinking"]["type"] == "enabled"
        message = first.choices[0].message
        call = message.tool_calls[0]
        messages += [
            message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ]
        second = client.chat.completions.create(
            model="up-anthropic:sim-reasoner",
            messages=messages,
            tools=[WEATHER_OPENAI],
            reasoning_effort="low",
        )
    assert "sunny" in (second.choices[0].message.content or "")
    assert "thinking" not in last_upstream_body(stack)


WEATHER_RESPONSES = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather",
    "parameters": WEATHER_PARAMETERS,
}


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_signature_survives_a_responses_tool_loop(stack: Stack, stream: bool) -> None:
    """Claude's signed thinking reaches a Responses client as a reasoning item's
    encrypted_content; sent back with the function output, Anthropic gets it again."""
    request: dict[str, Any] = {
        "model": "up-anthropic:sim-reasoner",
        "input": "get_weather for Paris",
        "tools": [WEATHER_RESPONSES],
        "reasoning": {"effort": "low"},
    }
    with oai(stack) as client:
        if stream:
            with client.responses.stream(**request) as events:
                first = events.get_final_response()
        else:
            first = client.responses.create(**request)
        items = [item.model_dump(exclude_none=True) for item in first.output]
        reasoning = next(i for i in items if i["type"] == "reasoning")
        assert reasoning["encrypted_content"].endswith("sim-signature-sim-reasoner")
        call = next(i for i in items if i["type"] == "function_call")
        for item in items:
            item.pop("status", None)
            item.pop("id", None)
        output = {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"}
        history = [{"role": "user", "content": "get_weather for Paris"}, *items, output]
        second = client.responses.create(**{**request, "input": history})
    assert "sunny" in second.output_text
    turn = last_upstream_body(stack)["messages"][1]["content"]
    assert turn[0]["type"] == "thinking"
    assert turn[0]["signature"] == "sim-signature-sim-reasoner"


def test_openai_encrypted_reasoning_is_not_sent_to_anthropic(stack: Stack) -> None:
    """A reasoning item OpenAI encrypted (a conversation begun on an OpenAI upstream) is
    left out for Anthropic, which would refuse it: the tool loop goes on, thinking off."""
    with oai(stack) as client:
        reply = client.responses.create(
            model="up-anthropic:sim-reasoner",
            reasoning={"effort": "low"},
            tools=[WEATHER_RESPONSES],
            input=[
                {"role": "user", "content": "get_weather for Paris"},
                {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAABo-openai"},
                {
                    "type": "function_call",
                    "call_id": "call_1",
                    "name": "get_weather",
                    "arguments": '{"city":"Paris"}',
                },
                {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            ],
        )
    assert "sunny" in reply.output_text
    body = last_upstream_body(stack)
    assert "gAAAAABo-openai" not in str(body) and "thinking" not in body
