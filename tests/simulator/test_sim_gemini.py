"""The Gemini v1beta routes with raw httpx: the shapes are checked by hand, SSE parsed here."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from cherry_nb.simulator import DEFAULT_MODELS, EMBEDDING_MODELS, Simulator

KEY = "AIzaSimulatedKey0123456789abcdefghijkl"
GEN = "/v1beta/models/sim-chat:generateContent"
STREAM = "/v1beta/models/sim-chat:streamGenerateContent"
FORECAST = {
    "name": "forecast",
    "parameters": {
        "type": "OBJECT",
        "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER"}},
        "required": ["city", "days"],
    },
}


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as sim:
        yield sim


@pytest.fixture
async def client(simulator: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"x-goog-api-key": KEY}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=10, headers=headers) as c:
        yield c


def ask(text: str, **extra: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


def parse_sse(raw: str) -> list[dict[str, Any]]:
    """Split an SSE body into its `data:` JSON payloads (Gemini ends events with CRLF CRLF)."""
    events = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        (line,) = block.split("\n")
        assert line.startswith("data: ")
        events.append(json.loads(line[6:]))
    return events


async def test_generate_content(client: httpx.AsyncClient) -> None:
    body = ask("Hi Gemini", systemInstruction={"parts": [{"text": "Answer in French."}]})
    response = await client.post(GEN, json=body)
    assert response.status_code == 200
    data = response.json()
    (candidate,) = data["candidates"]
    assert candidate["content"]["role"] == "model"
    assert candidate["finishReason"] == "STOP"
    assert candidate["index"] == 0
    text = candidate["content"]["parts"][0]["text"]
    assert text == (
        "**sim-chat** received 1 message. System: “Answer in French.”. You said: “Hi Gemini”"
    )
    usage = data["usageMetadata"]
    assert usage["promptTokenCount"] == math.ceil(len("Answer in French.Hi Gemini") / 4)
    assert usage["candidatesTokenCount"] == len(text.split(" "))
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]
    assert data["modelVersion"] == "sim-chat"


async def test_stream_sse(client: httpx.AsyncClient) -> None:
    plain = (await client.post(GEN, json=ask("stream me"))).json()
    response = await client.post(STREAM, params={"alt": "sse"}, json=ask("stream me"))
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "\r\n\r\n" in response.text
    assert "[DONE]" not in response.text
    chunks = parse_sse(response.text)
    texts = [c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks]
    assert "".join(texts) == plain["candidates"][0]["content"]["parts"][0]["text"]
    assert len(chunks) == len(texts) == plain["usageMetadata"]["candidatesTokenCount"]
    assert all("usageMetadata" not in c for c in chunks[:-1])
    assert all("finishReason" not in c["candidates"][0] for c in chunks[:-1])
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"] == plain["usageMetadata"]


async def test_stream_without_sse_is_a_json_array(client: httpx.AsyncClient) -> None:
    response = await client.post(STREAM, json=ask("array"))
    assert response.headers["content-type"].startswith("application/json")
    chunks = response.json()
    assert isinstance(chunks, list) and len(chunks) > 1
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


async def test_function_call(client: httpx.AsyncClient) -> None:
    body = ask("need a forecast please", tools=[{"functionDeclarations": [FORECAST]}])
    data = (await client.post(GEN, json=body)).json()
    candidate = data["candidates"][0]
    assert candidate["finishReason"] == "STOP"
    assert candidate["content"]["parts"] == [
        {"functionCall": {"name": "forecast", "args": {"city": "example", "days": 1}}}
    ]
    streamed = parse_sse((await client.post(STREAM, params={"alt": "sse"}, json=body)).text)
    assert len(streamed) == 1  # Gemini sends a function call whole
    assert streamed[0]["candidates"][0]["content"]["parts"] == candidate["content"]["parts"]


async def test_function_calling_modes(client: httpx.AsyncClient) -> None:
    other = {"name": "other", "parameters": {"type": "OBJECT"}}
    tools = [{"function_declarations": [other, FORECAST]}]
    forced = ask(
        "hello",
        tools=tools,
        tool_config={
            "function_calling_config": {"mode": "ANY", "allowed_function_names": ["forecast"]}
        },
    )
    parts = (await client.post(GEN, json=forced)).json()["candidates"][0]["content"]["parts"]
    assert parts[0]["functionCall"]["name"] == "forecast"
    off = ask("forecast", tools=tools, toolConfig={"functionCallingConfig": {"mode": "NONE"}})
    parts = (await client.post(GEN, json=off)).json()["candidates"][0]["content"]["parts"]
    assert "text" in parts[0]


async def test_function_response(client: httpx.AsyncClient) -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "forecast"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "forecast", "args": {}}}]},
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "forecast", "response": {"result": "sun"}}}
                ],
            },
        ],
        "tools": [{"functionDeclarations": [FORECAST]}],
    }
    data = (await client.post(GEN, json=body)).json()
    assert data["candidates"][0]["content"]["parts"] == [{"text": "Tool forecast returned: sun"}]


async def test_snake_case_and_images(client: httpx.AsyncClient) -> None:
    body = {
        "system_instruction": {"parts": [{"text": "Look closely"}]},
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"inline_data": {"mime_type": "image/webp", "data": "UklGRg=="}},
                    {"fileData": {"mimeType": "image/png", "fileUri": "gs://b/x.png"}},
                    {"text": "What is this?"},
                ],
            }
        ],
    }
    text = (await client.post(GEN, json=body)).json()["candidates"][0]["content"]["parts"][0]
    assert text["text"] == (
        "**sim-chat** received 1 message (2 images: image/webp, image/png). "
        "System: “Look closely”. You said: “What is this?”"
    )


async def test_max_output_tokens(client: httpx.AsyncClient) -> None:
    body = ask("long enough", generationConfig={"maxOutputTokens": 2})
    data = (await client.post(GEN, json=body)).json()
    assert data["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert data["usageMetadata"]["candidatesTokenCount"] == 2


async def test_models(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/v1beta/models")).json()
    names = [f"models/{m}" for m in (*DEFAULT_MODELS, *EMBEDDING_MODELS)]
    assert [m["name"] for m in listed["models"]] == names
    methods = {m["name"]: m["supportedGenerationMethods"] for m in listed["models"]}
    assert "generateContent" in methods["models/sim-chat"]
    assert methods["models/sim-embed"] == ["embedContent", "batchEmbedContents"]
    one = await client.get("/v1beta/models/sim-fast")
    assert one.json()["name"] == "models/sim-fast"
    missing = await client.get("/v1beta/models/gemini-nope")
    assert missing.status_code == 404


async def test_count_tokens(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1beta/models/sim-chat:countTokens", json=ask("12345678"))
    assert response.json()["totalTokens"] == 2
    wrapped = {"generateContentRequest": {"model": "models/sim-chat", **ask("1234")}}
    response = await client.post("/v1beta/models/sim-chat:countTokens", json=wrapped)
    assert response.json()["totalTokens"] == 1


async def test_key_in_query(simulator: Simulator) -> None:
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5) as c:
        ok = await c.post(GEN, params={"key": KEY}, json=ask("hi"))
        bad = await c.post(GEN, params={"key": "AIzaWrong"}, json=ask("hi"))
        missing = await c.post(GEN, json=ask("hi"))
        listing = await c.get("/v1beta/models")
    assert ok.status_code == 200
    expected = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ],
        }
    }
    for response in (bad, missing, listing):
        assert response.status_code == 400
        assert response.json() == expected


async def test_unknown_model(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1beta/models/gemini-9:generateContent", json=ask("hi"))
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": 404,
            "message": "models/gemini-9 is not found for API version v1beta, or is not "
            "supported for generateContent. Call ListModels to see the list of available "
            "models and their supported methods.",
            "status": "NOT_FOUND",
        }
    }


async def test_invalid_requests(client: httpx.AsyncClient) -> None:
    missing = await client.post(GEN, json={})
    assert missing.status_code == 400
    assert missing.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "contents is not specified" in missing.json()["error"]["message"]
    empty_parts = await client.post(GEN, json={"contents": [{"role": "user", "parts": []}]})
    assert empty_parts.status_code == 400
    broken = await client.post(GEN, content=b"{", headers={"content-type": "application/json"})
    assert broken.status_code == 400
    assert broken.json()["error"]["message"].startswith("Invalid JSON payload received.")


async def test_unknown_method_is_html_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1beta/models/sim-chat:embedContent", json=ask("x"))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
