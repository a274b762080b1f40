"""POST /v1/embeddings through a real gateway to OpenAI-, Azure- and Gemini-type simulator
upstreams, with the official `openai` SDK: the vectors are the simulator's own."""

from __future__ import annotations

import base64
import struct

import httpx
import openai
import pytest

from cherry_nb.simulator import embedding_vector

from .conftest import GATEWAY_KEY, SIM_KEY, Stack

EMBEDDING_TYPES = ["openai", "azure-openai", "gemini"]
AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}


def oai(stack: Stack, prefix: str = "") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{stack.url}{prefix}/v1", api_key=GATEWAY_KEY, max_retries=0)


def packed(vector: list[float]) -> bytes:
    return struct.pack(f"<{len(vector)}f", *vector)


@pytest.fixture(scope="module", autouse=True)
def azure_v1(stack: Stack) -> None:
    """An Azure provider addressed in the /openai/v1 form, beside the deployments one."""
    stack.registry.add(
        id="up-azure-v1",
        name="Azure v1",
        type="azure-openai",
        base_url=f"{stack.upstream.url}/openai/v1",
        api_key=SIM_KEY,
    )


@pytest.mark.parametrize("upstream", [*EMBEDDING_TYPES, "azure-v1"])
def test_single_input_as_floats(stack: Stack, upstream: str) -> None:
    with oai(stack) as client:
        reply = client.embeddings.create(
            model=f"up-{upstream}:sim-embed", input="hello embeddings", encoding_format="float"
        )
    assert reply.object == "list" and len(reply.data) == 1
    assert reply.data[0].object == "embedding" and reply.data[0].index == 0
    assert reply.data[0].embedding == embedding_vector("sim-embed", "hello embeddings")
    assert reply.usage.prompt_tokens == reply.usage.total_tokens == 4  # 16 characters


@pytest.mark.parametrize("upstream", EMBEDDING_TYPES)
def test_batch_with_dimensions(stack: Stack, upstream: str) -> None:
    texts = ["first", "second", "third"]
    with oai(stack) as client:
        reply = client.embeddings.create(
            model=f"up-{upstream}:sim-embed-large",
            input=texts,
            dimensions=5,
            encoding_format="float",
        )
    assert [d.index for d in reply.data] == [0, 1, 2]
    assert [d.embedding for d in reply.data] == [
        embedding_vector("sim-embed-large", text, 5) for text in texts
    ]


@pytest.mark.parametrize("upstream", EMBEDDING_TYPES)
def test_base64_asked_for_explicitly(stack: Stack, upstream: str) -> None:
    with oai(stack) as client:
        reply = client.embeddings.create(
            model=f"up-{upstream}:sim-embed", input=["a", "b"], encoding_format="base64"
        )
    # An explicit format is returned as sent: base64 of little-endian float32s.
    for item, text in zip(reply.data, ["a", "b"], strict=True):
        assert isinstance(item.embedding, str)
        assert base64.b64decode(item.embedding) == packed(embedding_vector("sim-embed", text))


@pytest.mark.parametrize("upstream", EMBEDDING_TYPES)
def test_sdk_default_asks_for_base64_and_decodes_it(stack: Stack, upstream: str) -> None:
    with oai(stack) as client:
        raw = client.embeddings.with_raw_response.create(
            model=f"up-{upstream}:sim-embed", input="decode me"
        )
    sent = raw.http_request.read()
    assert b'"encoding_format":"base64"' in sent.replace(b" ", b"")
    assert isinstance(raw.http_response.json()["data"][0]["embedding"], str)
    assert raw.parse().data[0].embedding == embedding_vector("sim-embed", "decode me")


async def test_async_client(stack: Stack) -> None:
    async with openai.AsyncOpenAI(
        base_url=f"{stack.url}/v1", api_key=GATEWAY_KEY, max_retries=0
    ) as client:
        reply = await client.embeddings.create(model="up-gemini:sim-embed", input=["x", "y"])
    assert [d.embedding for d in reply.data] == [embedding_vector("sim-embed", t) for t in "xy"]


def test_a_field_gemini_cannot_carry_is_reported(stack: Stack) -> None:
    body = {"model": "up-gemini:sim-embed", "input": "x", "user": "u-1"}
    response = httpx.post(f"{stack.url}/v1/embeddings", json=body, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["x-cherry-nb-dropped"] == "user"
    assert "user" not in stack.upstream.requests[-1].body.decode()
    plain = httpx.post(f"{stack.url}/v1/embeddings", json={**body, "user": None}, headers=AUTH)
    assert "x-cherry-nb-dropped" not in plain.headers


def test_what_each_upstream_receives(stack: Stack) -> None:
    with oai(stack) as client:
        client.embeddings.create(model="up-openai:sim-embed", input="o", user="u-1")
        openai_seen = stack.upstream.requests[-1]
        client.embeddings.create(model="up-azure-openai:sim-embed", input="a")
        azure_seen = stack.upstream.requests[-1]
        client.embeddings.create(model="up-gemini:sim-embed", input=["g", "h"], dimensions=3)
        gemini_seen = stack.upstream.requests[-1]
    # Passthrough: the client's body with only the model replaced.
    assert openai_seen.path == "/v1/embeddings"
    assert openai_seen.json == {
        "model": "sim-embed",
        "input": "o",
        "user": "u-1",
        "encoding_format": "base64",
    }
    assert openai_seen.headers["authorization"] == f"Bearer {SIM_KEY}"
    assert azure_seen.path == "/openai/deployments/sim-embed/embeddings"
    assert azure_seen.query["api-version"] and azure_seen.headers["api-key"] == SIM_KEY
    # Gemini: translated to batchEmbedContents.
    assert gemini_seen.path == "/v1beta/models/sim-embed:batchEmbedContents"
    assert gemini_seen.json == {
        "requests": [
            {
                "model": "models/sim-embed",
                "content": {"parts": [{"text": text}]},
                "outputDimensionality": 3,
            }
            for text in ("g", "h")
        ]
    }


@pytest.mark.parametrize("upstream", EMBEDDING_TYPES)
def test_provider_in_the_path_with_a_bare_model(stack: Stack, upstream: str) -> None:
    with oai(stack, f"/up-{upstream}") as client:
        reply = client.embeddings.create(model="sim-embed", input="path", encoding_format="float")
    assert reply.data[0].embedding == embedding_vector("sim-embed", "path")


def test_anthropic_type_has_no_embeddings(stack: Stack) -> None:
    before = len(stack.upstream.requests)
    for prefix, model in (("", "up-anthropic:sim-embed"), ("/up-anthropic", "sim-embed")):
        with oai(stack, prefix) as client, pytest.raises(openai.BadRequestError) as info:
            client.embeddings.create(model=model, input="x")
        error = info.value.body
        assert isinstance(error, dict) and error["param"] == "model"
        assert error["message"] == (
            "Provider up-anthropic (type anthropic) has no embeddings endpoint; embeddings "
            "go to providers of type openai, gemini, azure-openai."
        )
    assert len(stack.upstream.requests) == before  # nothing was sent upstream


def test_gemini_refuses_token_arrays(stack: Stack) -> None:
    with oai(stack) as client:
        with pytest.raises(openai.BadRequestError, match="Gemini embeds text only") as info:
            client.embeddings.create(model="up-gemini:sim-embed", input=[[1, 2], [3]])
        assert isinstance(info.value.body, dict) and info.value.body["param"] == "input.0"
        # The same token arrays pass through to an OpenAI-type upstream.
        reply = client.embeddings.create(
            model="up-openai:sim-embed", input=[[1, 2], [3]], encoding_format="float"
        )
    assert reply.data[1].embedding == embedding_vector("sim-embed", [3])


def test_the_gateway_key_is_required(stack: Stack) -> None:
    body = {"model": "up-openai:sim-embed", "input": "x"}
    for path in ("/v1/embeddings", "/up-openai/v1/embeddings"):
        missing = httpx.post(f"{stack.url}{path}", json=body)
        wrong = httpx.post(f"{stack.url}{path}", json=body, headers={"x-api-key": "wrong"})
        assert missing.status_code == 401, path
        assert wrong.status_code == 403, path
        assert missing.json()["error"]["type"] == "authentication_error"
    with (
        openai.OpenAI(base_url=f"{stack.url}/v1", api_key="wrong", max_retries=0) as client,
        pytest.raises(openai.PermissionDeniedError),
    ):
        client.embeddings.create(model="up-openai:sim-embed", input="x")


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"input": "x"}, 400, "model"),
        ({"model": "up-openai:sim-embed"}, 400, "input"),
        ({"model": "up-openai:sim-embed", "input": []}, 400, "input"),
        ({"model": "up-openai:sim-embed", "input": ["a", 2]}, 400, "input.1"),
        ({"model": "up-openai:sim-embed", "input": "x", "dimensions": 0}, 400, "dimensions"),
        ({"model": "up-gemini:sim-embed", "input": "x", "encoding_format": "hex"}, 400, None),
        ({"model": "nobody:sim-embed", "input": "x"}, 404, "model"),
        ({"model": "off:sim-embed", "input": "x"}, 404, "model"),
    ],
)
def test_bad_requests_get_the_openai_envelope(
    stack: Stack, body: dict, status: int, param: str | None
) -> None:
    response = httpx.post(f"{stack.url}/v1/embeddings", json=body, headers=AUTH)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    if param is not None:
        assert error["param"] == param
    else:
        assert "encoding_format" in error["message"]


def test_a_body_that_is_not_json(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.url}/v1/embeddings",
        content=b"{not json",
        headers={**AUTH, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The request body is not valid JSON."


@pytest.mark.parametrize("upstream", EMBEDDING_TYPES)
def test_upstream_errors_keep_their_status(stack: Stack, upstream: str) -> None:
    with oai(stack) as client:
        # A model the upstream does not embed with: its own 404, in OpenAI's envelope.
        with pytest.raises(openai.NotFoundError):
            client.embeddings.create(model=f"up-{upstream}:sim-chat", input="x")
        # Too many dimensions for the model: the upstream's own 400.
        with pytest.raises(openai.BadRequestError):
            client.embeddings.create(model=f"up-{upstream}:sim-embed", input="x", dimensions=99)
        # A rate limit whose wait is too long to sit out: a 429 at once, Retry-After kept.
        stack.upstream.script(fail=429, retry_after=90)
        with pytest.raises(openai.RateLimitError) as info:
            client.embeddings.create(model=f"up-{upstream}:sim-embed", input="x")
    assert info.value.response.headers["retry-after"] == "90"
