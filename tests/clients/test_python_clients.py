"""Python clients run unchanged against the gateway, through every upstream kind:
the OpenAI Agents SDK (its default Responses model and the chat-completions model, a
function tool), LangChain's ChatOpenAI and ChatAnthropic (invoke, stream, a bound tool,
structured output: response_format json_schema and a forced tool)."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from agents import Agent, OpenAIChatCompletionsModel, RunConfig, Runner, function_tool
from agents.models.openai_provider import OpenAIProvider
from langchain_anthropic import ChatAnthropic
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from openai import AsyncOpenAI
from pydantic import BaseModel

from .conftest import GATEWAY_KEY, ClientStack, record_fixture, routed

pytestmark = pytest.mark.slow


@function_tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"sunny in {city}"


@tool
def lookup_weather(city: str) -> str:
    """Current weather in a city."""
    return f"sunny in {city}"


class Town(BaseModel):
    name: str
    population: int


async def test_agents_sdk_chat_completions_model_with_tool(stack: ClientStack, upstream):
    async with AsyncOpenAI(
        base_url=f"{stack.url}/v1", api_key=GATEWAY_KEY, max_retries=0
    ) as client:
        agent = Agent(
            name="weather",
            instructions="Answer with the tool's result.",
            model=OpenAIChatCompletionsModel(model=routed(upstream), openai_client=client),
            tools=[get_weather],
        )
        result = await Runner.run(
            agent,
            f"use get_weather for Paris ({upstream})",
            run_config=RunConfig(tracing_disabled=True),
        )
    # The simulator called the tool named in the prompt, then quoted its result.
    assert "sunny in example" in result.final_output
    assert not stack.proxy.refused()
    sent = stack.proxy.taken("/v1/chat/completions")
    assert len(sent) == 2 and sent[1].json["messages"][-1]["role"] == "tool"
    if upstream == "openai":
        record_fixture(
            f"openai-agents-{version('openai-agents')}_chat_tool_result_request", sent[1]
        )


async def test_agents_sdk_default_responses_model(stack: ClientStack, upstream):
    async with AsyncOpenAI(
        base_url=f"{stack.url}/v1", api_key=GATEWAY_KEY, max_retries=0
    ) as client:
        agent = Agent(name="weather", model=routed(upstream), tools=[get_weather])
        result = await Runner.run(
            agent,
            f"use get_weather for Paris ({upstream})",
            run_config=RunConfig(
                tracing_disabled=True,
                model_provider=OpenAIProvider(openai_client=client, use_responses=True),
            ),
        )
    assert "sunny in example" in result.final_output
    assert not stack.proxy.refused()
    sent = stack.proxy.taken("/v1/responses")
    assert len(sent) == 2
    assert any(i.get("type") == "function_call_output" for i in sent[1].json["input"])


def chat_openai(stack: ClientStack, upstream: str) -> ChatOpenAI:
    return ChatOpenAI(
        model=routed(upstream), base_url=f"{stack.url}/v1", api_key=GATEWAY_KEY, max_retries=0
    )


def chat_anthropic(stack: ClientStack, upstream: str) -> ChatAnthropic:
    return ChatAnthropic(
        model_name=routed(upstream), base_url=stack.url, api_key=GATEWAY_KEY, max_retries=0
    )


MAKERS = {"ChatOpenAI": chat_openai, "ChatAnthropic": chat_anthropic}
PATHS = {"ChatOpenAI": "/v1/chat/completions", "ChatAnthropic": "/v1/messages"}
PACKAGES = {"ChatOpenAI": "langchain-openai", "ChatAnthropic": "langchain-anthropic"}


@pytest.mark.parametrize("chat", MAKERS)
def test_langchain_invoke_and_stream(stack, upstream, chat):
    model = MAKERS[chat](stack, upstream)
    prompt = f"hello from {chat} via {upstream}"
    reply = model.invoke([("system", "Be brief."), ("human", prompt)])
    assert prompt in reply.text and "Be brief." in reply.text
    streamed = "".join(chunk.text for chunk in model.stream(f"{prompt}, streamed"))
    assert f"{prompt}, streamed" in streamed
    assert stack.upstream_saw(upstream, f"{prompt}, streamed")
    assert not stack.proxy.refused()
    sent = stack.proxy.taken(PATHS[chat])
    assert [r.json.get("stream", False) for r in sent] == [False, True]
    if upstream == "openai":
        record_fixture(f"{PACKAGES[chat]}-{version(PACKAGES[chat])}_stream_request", sent[1])


@pytest.mark.parametrize("chat", MAKERS)
def test_langchain_bound_tool(stack, upstream, chat):
    model = MAKERS[chat](stack, upstream).bind_tools([lookup_weather])
    reply = model.invoke(f"use lookup_weather for Paris ({upstream})")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("lookup_weather", {"city": "example"})
    ]
    assert not stack.proxy.refused()


def test_langchain_anthropic_structured_output(stack, upstream):
    """ChatAnthropic's default method is a forced tool, which every upstream kind carries."""
    model = chat_anthropic(stack, upstream).with_structured_output(Town)
    town = model.invoke(f"Describe a town (via {upstream})")
    assert town == Town(name="example", population=1)
    assert not stack.proxy.refused()


def test_langchain_openai_structured_output(stack, upstream):
    """ChatOpenAI's default method, response_format json_schema, honoured by every
    upstream kind (the simulator answers JSON that fits the schema in each protocol)."""
    model = chat_openai(stack, upstream).with_structured_output(Town)
    assert isinstance(model.invoke(f"Describe a town (via {upstream})"), Town)
    assert not stack.proxy.refused()
    sent = stack.proxy.taken("/v1/chat/completions")[-1].json
    assert sent["response_format"]["type"] == "json_schema"
