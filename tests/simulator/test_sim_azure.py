"""The Azure OpenAI routes, checked with the `openai` SDK's Azure client and the v1 form."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import openai
import pytest

from cherry_nb.simulator import DEFAULT_MODELS, EMBEDDING_MODELS, Simulator

KEY = "azure-sim-key-0123456789abcdef"
VERSION = "2024-10-21"
AZURE_401 = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
    "valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as sim:
        yield sim


@pytest.fixture
async def azure(simulator: Simulator) -> AsyncIterator[openai.AsyncAzureOpenAI]:
    async with openai.AsyncAzureOpenAI(
        azure_endpoint=simulator.base_url("azure-openai"),
        api_key=KEY,
        api_version=VERSION,
        max_retries=0,
        timeout=10,
    ) as c:
        yield c


async def test_deployment_chat(azure: openai.AsyncAzureOpenAI, simulator: Simulator) -> None:
    reply = await azure.chat.completions.create(
        model="sim-fast", messages=[{"role": "user", "content": "hello azure"}]
    )
    assert reply.choices[0].message.content == (
        "**sim-fast** received 1 message. You said: “hello azure”"
    )
    seen = simulator.requests[-1]
    assert seen.path == "/openai/deployments/sim-fast/chat/completions"
    assert seen.query == {"api-version": VERSION}
    assert seen.headers["api-key"] == KEY
    assert reply.model_extra is not None and "prompt_filter_results" in reply.model_extra


async def test_deployment_stream_starts_with_a_choiceless_chunk(
    azure: openai.AsyncAzureOpenAI,
) -> None:
    stream = await azure.chat.completions.create(
        model="sim-chat",
        messages=[{"role": "user", "content": "stream it"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[0].choices == []  # Azure's prompt_filter_results chunk
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.endswith("You said: “stream it”")
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(text.split(" "))


async def test_v1_form(simulator: Simulator) -> None:
    async with openai.AsyncOpenAI(
        base_url=f"{simulator.url}/openai/v1", api_key=KEY, max_retries=0, timeout=10
    ) as c:
        reply = await c.chat.completions.create(
            model="sim-chat", messages=[{"role": "user", "content": "v1 please"}]
        )
        models = await c.models.list()
    assert reply.choices[0].message.content.endswith("“v1 please”")
    assert [m.id for m in models.data] == [*DEFAULT_MODELS, *EMBEDDING_MODELS]
    assert simulator.requests[-2].path == "/openai/v1/chat/completions"
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5) as raw:
        body = {"model": "sim-chat", "messages": [{"role": "user", "content": "x"}]}
        response = await raw.post(
            "/openai/v1/chat/completions", json=body, headers={"api-key": KEY}
        )
    assert response.status_code == 200


async def test_models_need_api_version(simulator: Simulator) -> None:
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5, headers={"api-key": KEY}) as c:
        listed = await c.get("/openai/models", params={"api-version": VERSION})
        missing = await c.get("/openai/models")
    assert listed.status_code == 200
    assert listed.json()["object"] == "list"
    assert [m["id"] for m in listed.json()["data"]] == [*DEFAULT_MODELS, *EMBEDDING_MODELS]
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "404", "message": "Resource not found"}}


async def test_missing_api_version_is_resource_not_found(simulator: Simulator) -> None:
    body = {"messages": [{"role": "user", "content": "x"}]}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5, headers={"api-key": KEY}) as c:
        response = await c.post("/openai/deployments/sim-chat/chat/completions", json=body)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}


async def test_unknown_deployment(azure: openai.AsyncAzureOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await azure.chat.completions.create(
            model="gpt-4o-prod", messages=[{"role": "user", "content": "x"}]
        )
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["code"] == "DeploymentNotFound"
    assert body["message"].startswith("The API deployment for this resource does not exist.")


async def test_wrong_and_missing_key(simulator: Simulator) -> None:
    async with openai.AsyncAzureOpenAI(
        azure_endpoint=simulator.url,
        api_key="wrong",
        api_version=VERSION,
        max_retries=0,
        timeout=10,
    ) as c:
        with pytest.raises(openai.AuthenticationError) as caught:
            await c.chat.completions.create(
                model="sim-chat", messages=[{"role": "user", "content": "x"}]
            )
    assert caught.value.body == {"code": "401", "message": AZURE_401}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5) as raw:
        response = await raw.post(
            "/openai/deployments/sim-chat/chat/completions",
            params={"api-version": VERSION},
            json={"messages": []},
        )
        v1 = await raw.get("/openai/v1/models")
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "401", "message": AZURE_401}}
    assert v1.status_code == 401


async def test_validation_uses_openai_envelope(azure: openai.AsyncAzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await azure.chat.completions.create(model="sim-chat", messages=[])
    assert caught.value.code == "empty_array"


async def test_azure_rate_limit_shape(azure: openai.AsyncAzureOpenAI, simulator: Simulator) -> None:
    simulator.script(fail=429, retry_after=3)
    with pytest.raises(openai.RateLimitError) as caught:
        await azure.chat.completions.create(
            model="sim-chat", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.response.headers["retry-after"] == "3"
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "429"
    assert f"Azure OpenAI API version {VERSION}" in body["message"]
    assert "Please retry after 3 seconds" in body["message"]
