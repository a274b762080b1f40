"""The simulator's embeddings routes: OpenAI and Azure with the `openai` SDK, Gemini's
batchEmbedContents with raw httpx; vectors checked against `embedding_vector`."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import AsyncIterator

import httpx
import openai
import pytest

from cherry_nb.simulator import EMBEDDING_MODELS, Simulator, embedding_vector
from cherry_nb.simulator.embeddings import DIMENSIONS

KEY = "sim-embed-key-0123456789abcdef"
VERSION = "2024-10-21"


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


@pytest.fixture
async def gemini(simulator: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"x-goog-api-key": KEY}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=10, headers=headers) as c:
        yield c


def _norm(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


# ---- the vectors -----------------------------------------------------------------------------


def test_vectors_are_deterministic_unit_float32_of_the_models_dimension() -> None:
    assert EMBEDDING_MODELS == ("sim-embed", "sim-embed-large")
    for model in EMBEDDING_MODELS:
        vector = embedding_vector(model, "hello")
        assert len(vector) == DIMENSIONS[model]
        assert _norm(vector) == pytest.approx(1.0, abs=1e-6)
        assert vector == embedding_vector(model, "hello")
        packed = struct.pack(f"<{len(vector)}f", *vector)
        assert list(struct.unpack(f"<{len(vector)}f", packed)) == vector  # exact float32s
    assert len(embedding_vector("another-embedder", "x")) == 16
    assert embedding_vector("sim-embed", "hello") != embedding_vector("sim-embed", "hello!")
    assert (
        embedding_vector("sim-embed", "hello") != embedding_vector("sim-embed-large", "hello")[:16]
    )


def test_fewer_dimensions_keep_the_first_values_at_unit_length() -> None:
    full = embedding_vector("sim-embed-large", "text")
    short = embedding_vector("sim-embed-large", "text", 5)
    assert len(short) == 5 and _norm(short) == pytest.approx(1.0, abs=1e-6)
    scale = _norm(full[:5])
    assert short == pytest.approx([v / scale for v in full[:5]], rel=1e-5)


# ---- OpenAI ------------------------------------------------------------------------------------


async def test_openai_single_and_batch(client: openai.AsyncOpenAI, simulator: Simulator) -> None:
    one = await client.embeddings.create(
        model="sim-embed", input="hello world", encoding_format="float"
    )
    assert one.object == "list" and one.model == "sim-embed"
    assert one.data[0].embedding == embedding_vector("sim-embed", "hello world")
    assert one.usage.prompt_tokens == one.usage.total_tokens == 3  # 11 characters

    batch = await client.embeddings.create(
        model="sim-embed-large", input=["a", "b", "c"], dimensions=7, encoding_format="float"
    )
    assert [d.index for d in batch.data] == [0, 1, 2]
    assert [d.embedding for d in batch.data] == [
        embedding_vector("sim-embed-large", text, 7) for text in "abc"
    ]
    seen = simulator.requests[-1]
    assert seen.path == "/v1/embeddings" and seen.json["dimensions"] == 7


async def test_openai_base64_is_what_the_sdk_decodes(client: openai.AsyncOpenAI) -> None:
    # Without encoding_format the SDK asks for base64 and decodes it itself.
    decoded = await client.embeddings.create(model="sim-embed", input="abc")
    assert decoded.data[0].embedding == embedding_vector("sim-embed", "abc")
    raw = await client.embeddings.create(model="sim-embed", input="abc", encoding_format="base64")
    text = raw.data[0].embedding
    assert isinstance(text, str)
    vector = embedding_vector("sim-embed", "abc")
    assert base64.b64decode(text) == struct.pack(f"<{len(vector)}f", *vector)


async def test_openai_token_arrays(client: openai.AsyncOpenAI) -> None:
    reply = await client.embeddings.create(
        model="sim-embed", input=[[1, 2, 3], [4]], encoding_format="float"
    )
    assert reply.data[1].embedding == embedding_vector("sim-embed", [4])
    assert reply.usage.prompt_tokens == 4
    single = await client.embeddings.create(
        model="sim-embed", input=[1, 2, 3], encoding_format="float"
    )
    assert single.data[0].embedding == reply.data[0].embedding


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"input": "x", "dimensions": 17}, "dimensions"),  # sim-embed has 16
        ({"input": "x", "dimensions": 0}, "dimensions"),
        ({"input": []}, "input"),
        ({"input": ["a", 1]}, "input"),
        ({"input": ""}, "input"),
        ({"input": "x", "encoding_format": "hex"}, "encoding_format"),
    ],
)
async def test_openai_bad_requests(client: openai.AsyncOpenAI, kwargs: dict, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await client.embeddings.create(model="sim-embed", **kwargs)
    assert info.value.body["param"] == param  # type: ignore[index]


async def test_openai_chat_models_do_not_embed(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="sim-chat"):
        await client.embeddings.create(model="sim-chat", input="x")
    with pytest.raises(openai.NotFoundError):
        await client.chat.completions.create(
            model="sim-embed", messages=[{"role": "user", "content": "hi"}]
        )


async def test_scripted_faults_apply_to_embeddings(
    client: openai.AsyncOpenAI, simulator: Simulator
) -> None:
    simulator.script(fail=429, retry_after=3)
    with pytest.raises(openai.RateLimitError) as info:
        await client.embeddings.create(model="sim-embed", input="x")
    assert info.value.response.headers["retry-after"] == "3"
    await client.embeddings.create(model="sim-embed", input="x")  # the script is used up


async def test_openai_needs_the_key(simulator: Simulator) -> None:
    async with openai.AsyncOpenAI(
        base_url=simulator.base_url("openai"), api_key="wrong-key-0123", max_retries=0
    ) as c:
        with pytest.raises(openai.AuthenticationError):
            await c.embeddings.create(model="sim-embed", input="x")


# ---- Azure -------------------------------------------------------------------------------------


async def test_azure_deployment_and_v1_forms(simulator: Simulator) -> None:
    async with openai.AsyncAzureOpenAI(
        azure_endpoint=simulator.url, api_key=KEY, api_version=VERSION, max_retries=0
    ) as azure:
        reply = await azure.embeddings.create(
            model="sim-embed", input=["x", "y"], dimensions=4, encoding_format="float"
        )
        assert reply.data[1].embedding == embedding_vector("sim-embed", "y", 4)
        seen = simulator.requests[-1]
        assert seen.path == "/openai/deployments/sim-embed/embeddings"
        assert seen.query == {"api-version": VERSION}
        with pytest.raises(openai.NotFoundError):
            await azure.embeddings.create(model="sim-chat", input="x")
    async with openai.AsyncOpenAI(
        base_url=f"{simulator.url}/openai/v1", api_key=KEY, max_retries=0
    ) as v1:
        decoded = await v1.embeddings.create(model="sim-embed-large", input="z")
    assert decoded.data[0].embedding == embedding_vector("sim-embed-large", "z")
    assert simulator.requests[-1].path == "/openai/v1/embeddings"


async def test_azure_deployment_needs_api_version(simulator: Simulator) -> None:
    async with httpx.AsyncClient(base_url=simulator.url, headers={"api-key": KEY}) as c:
        response = await c.post("/openai/deployments/sim-embed/embeddings", json={"input": "x"})
        wrong_method = await c.get(
            "/openai/deployments/sim-embed/embeddings", params={"api-version": VERSION}
        )
    assert response.status_code == 404
    assert wrong_method.status_code == 405


# ---- Gemini ------------------------------------------------------------------------------------


def _batch(model: str, *texts: str, **extra: object) -> dict:
    return {
        "requests": [
            {"model": f"models/{model}", "content": {"parts": [{"text": t}]}, **extra}
            for t in texts
        ]
    }


async def test_gemini_batch_embed_contents(gemini: httpx.AsyncClient) -> None:
    url = "/v1beta/models/sim-embed:batchEmbedContents"
    response = await gemini.post(url, json=_batch("sim-embed", "one", "two"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"embeddings"}
    assert [e["values"] for e in body["embeddings"]] == [
        embedding_vector("sim-embed", t) for t in ("one", "two")
    ]
    short = await gemini.post(url, json=_batch("sim-embed", "one", outputDimensionality=3))
    assert short.json()["embeddings"][0]["values"] == embedding_vector("sim-embed", "one", 3)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"requests": []},
        _batch("sim-embed-large", "model differs from the URL's"),
        {"requests": [{"model": "models/sim-embed", "content": {"parts": []}}]},
        _batch("sim-embed", "x", outputDimensionality=99),
    ],
)
async def test_gemini_bad_requests(gemini: httpx.AsyncClient, body: dict) -> None:
    response = await gemini.post("/v1beta/models/sim-embed:batchEmbedContents", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


async def test_gemini_only_embedding_models_embed(gemini: httpx.AsyncClient) -> None:
    response = await gemini.post(
        "/v1beta/models/sim-chat:batchEmbedContents", json=_batch("sim-chat", "x")
    )
    assert response.status_code == 404
    assert "batchEmbedContents" in response.json()["error"]["message"]
    model = await gemini.get("/v1beta/models/sim-embed")
    assert model.json()["supportedGenerationMethods"] == ["embedContent", "batchEmbedContents"]


async def test_gemini_needs_the_key(simulator: Simulator) -> None:
    async with httpx.AsyncClient(base_url=simulator.url) as c:
        response = await c.post(
            "/v1beta/models/sim-embed:batchEmbedContents",
            json=_batch("sim-embed", "x"),
            headers={"x-goog-api-key": "wrong"},
        )
    assert response.status_code == 400
    assert "API key not valid" in response.json()["error"]["message"]
