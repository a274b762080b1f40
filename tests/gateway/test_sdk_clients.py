"""The official openai and anthropic SDKs, sync, async and streaming, through the
gateway to upstreams of every type — translated or passed through."""

from __future__ import annotations

import anthropic
import openai
import pytest

from .conftest import GATEWAY_KEY, TYPES, Stack

WEATHER_OPENAI = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
WEATHER_ANTHROPIC = {
    "name": "get_weather",
    "description": "Current weather",
    "input_schema": WEATHER_OPENAI["function"]["parameters"],  # type: ignore[index]
}


def oai(stack: Stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{stack.url}/v1", api_key=GATEWAY_KEY, max_retries=0)


def ant(stack: Stack) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=stack.url, api_key=GATEWAY_KEY, max_retries=0)


@pytest.mark.parametrize("upstream", TYPES)
def test_openai_sdk_sync(stack, upstream):
    with oai(stack) as client:
        reply = client.chat.completions.create(
            model=f"up-{upstream}:sim-chat",
            messages=[
                {"role": "system", "content": "Answer briefly."},
                {"role": "user", "content": "hello gateway"},
            ],
        )
    assert "hello gateway" in reply.choices[0].message.content
    assert "Answer briefly" in reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0


@pytest.mark.parametrize("upstream", TYPES)
def test_openai_sdk_streaming(stack, upstream):
    with oai(stack) as client:
        stream = client.chat.completions.create(
            model=f"up-{upstream}:sim-chat",
            messages=[{"role": "user", "content": "count [[sim:words=30]]"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text.split()) == 30
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 30
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


@pytest.mark.parametrize("upstream", TYPES)
async def test_openai_sdk_async_streaming(stack, upstream):
    async with openai.AsyncOpenAI(
        base_url=f"{stack.url}/v1", api_key=GATEWAY_KEY, max_retries=0
    ) as client:
        stream = await client.chat.completions.create(
            model=f"up-{upstream}:sim-fast",
            messages=[{"role": "user", "content": "async hello"}],
            stream=True,
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert "async hello" in text


@pytest.mark.parametrize("upstream", TYPES)
def test_anthropic_sdk_sync(stack, upstream):
    with ant(stack) as client:
        message = client.messages.create(
            model=f"up-{upstream}:sim-chat",
            max_tokens=100,
            system=[{"type": "text", "text": "Be terse.", "cache_control": {"type": "ephemeral"}}],
            messages=[{"role": "user", "content": "hello claude side"}],
            metadata={"user_id": "u-1"},
        )
    assert "hello claude side" in message.content[0].text
    assert "Be terse" in message.content[0].text
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0


@pytest.mark.parametrize("upstream", TYPES)
def test_anthropic_sdk_stream_helper(stack, upstream):
    with (
        ant(stack) as client,
        client.messages.stream(
            model=f"up-{upstream}:sim-chat",
            max_tokens=200,
            messages=[{"role": "user", "content": "words [[sim:words=25]]"}],
        ) as stream,
    ):
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) >= 25
    assert len(final.content[0].text.split()) == 25
    assert final.usage.output_tokens > 0


@pytest.mark.parametrize("upstream", TYPES)
async def test_anthropic_sdk_async(stack, upstream):
    async with anthropic.AsyncAnthropic(
        base_url=stack.url, api_key=GATEWAY_KEY, max_retries=0
    ) as client:
        message = await client.messages.create(
            model=f"up-{upstream}:sim-chat",
            max_tokens=50,
            messages=[{"role": "user", "content": "async anthropic"}],
        )
    assert "async anthropic" in message.content[0].text


@pytest.mark.parametrize("upstream", TYPES)
@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_tool_round_trip(stack, upstream, stream):
    messages = [{"role": "user", "content": "please use get_weather for Oslo"}]
    with ant(stack) as client:
        if stream:
            with client.messages.stream(
                model=f"up-{upstream}:sim-chat",
                max_tokens=200,
                tools=[WEATHER_ANTHROPIC],
                messages=messages,
            ) as s:
                first = s.get_final_message()
        else:
            first = client.messages.create(
                model=f"up-{upstream}:sim-chat",
                max_tokens=200,
                tools=[WEATHER_ANTHROPIC],
                messages=messages,
            )
        assert first.stop_reason == "tool_use"
        call = next(b for b in first.content if b.type == "tool_use")
        assert call.name == "get_weather" and call.input == {"city": "example"}
        second = client.messages.create(
            model=f"up-{upstream}:sim-chat",
            max_tokens=200,
            tools=[WEATHER_ANTHROPIC],
            messages=[
                *messages,
                {"role": "assistant", "content": [b.model_dump() for b in first.content]},
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": call.id, "content": "-3 C, snow"}
                    ],
                },
            ],
        )
    assert "-3 C, snow" in second.content[0].text


@pytest.mark.parametrize("upstream", TYPES)
def test_openai_tool_round_trip(stack, upstream):
    messages = [{"role": "user", "content": "call get_weather for Lima"}]
    with oai(stack) as client:
        first = client.chat.completions.create(
            model=f"up-{upstream}:sim-chat", messages=messages, tools=[WEATHER_OPENAI]
        )
        choice = first.choices[0]
        assert choice.finish_reason == "tool_calls"
        call = choice.message.tool_calls[0]
        assert call.function.name == "get_weather"
        second = client.chat.completions.create(
            model=f"up-{upstream}:sim-chat",
            tools=[WEATHER_OPENAI],
            messages=[
                *messages,
                choice.message.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": call.id, "content": "22 C, clear"},
            ],
        )
    assert "22 C, clear" in second.choices[0].message.content


def test_provider_in_path_with_bare_model(stack):
    client = anthropic.Anthropic(
        base_url=f"{stack.url}/up-openai", api_key=GATEWAY_KEY, max_retries=0
    )
    with client:
        message = client.messages.create(
            model="sim-chat", max_tokens=20, messages=[{"role": "user", "content": "via path"}]
        )
        tokens = client.messages.count_tokens(
            model="sim-chat", messages=[{"role": "user", "content": "count me please"}]
        )
    assert "via path" in message.content[0].text
    assert tokens.input_tokens > 0


@pytest.mark.parametrize("upstream", TYPES)
def test_count_tokens(stack, upstream):
    with ant(stack) as client:
        result = client.messages.count_tokens(
            model=f"up-{upstream}:sim-chat",
            messages=[{"role": "user", "content": "how many tokens is this sentence?"}],
        )
    assert result.input_tokens > 0


def test_claude_code_shaped_request(stack):
    """Beta query and headers, metadata, thinking, cache control, many rich tools."""
    tools = [
        {
            "name": f"tool_{i}",
            "description": "A tool with a rich schema",
            "input_schema": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "path": {"type": "string", "description": "file"},
                    "edits": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"old": {"type": "string"}, "new": {"type": "string"}},
                            "required": ["old", "new"],
                        },
                    },
                    "mode": {"enum": ["a", "b"], "default": "a"},
                },
                "required": ["path"],
            },
            "cache_control": {"type": "ephemeral"},
        }
        for i in range(24)
    ]
    with ant(stack) as client:
        for upstream in TYPES:
            message = client.beta.messages.create(
                model=f"up-{upstream}:sim-chat",
                max_tokens=300,
                betas=["claude-code-20250219", "interleaved-thinking-2025-05-14"],
                system=[{"type": "text", "text": "You are Claude Code."}],
                messages=[{"role": "user", "content": [{"type": "text", "text": "hi there"}]}],
                tools=tools,
                metadata={"user_id": "session-abc"},
                extra_body={"unknown_field": {"nested": True}},
            )
            assert "hi there" in message.content[0].text
