"""Structured output, cached-token usage, several choices and Anthropic's thinking rules
in each of the simulator's protocols, checked on the wire (and with the openai SDK's
`parse`, which validates the reply against the pydantic model)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from pydantic import BaseModel

from cherry_nb.simulator import Simulator
from cherry_nb.simulator.json_fit import fit_schema

KEY = "sim-structured-key-0123456789"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "born": {"type": "string", "format": "date-time"},
        "kind": {"type": "string", "enum": ["cat", "dog"]},
        "score": {"type": "number"},
        "ok": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "owner": {"$ref": "#/$defs/Owner"},
    },
    "required": ["name", "born", "kind", "score", "ok", "tags", "owner"],
    "additionalProperties": False,
    "$defs": {
        "Owner": {
            "type": "object",
            "properties": {"email": {"type": "string", "format": "email"}},
            "required": ["email"],
            "additionalProperties": False,
        }
    },
}
HEADERS = {
    "openai": {"authorization": f"Bearer {KEY}"},
    "anthropic": {"x-api-key": KEY, "anthropic-version": "2023-06-01"},
    "gemini": {"x-goog-api-key": KEY},
}


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as sim:
        yield sim


async def post(sim: Simulator, protocol: str, path: str, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=sim.url, timeout=10, headers=HEADERS[protocol]) as c:
        return await c.post(path, json=body)


def test_example_fits_the_schema() -> None:
    value = fit_schema(SCHEMA)
    jsonschema.validate(value, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert value["owner"] == {"email": "user@example.com"} and len(value["tags"]) == 2


async def test_openai_response_format(simulator: Simulator) -> None:
    spec = {"name": "pet", "schema": SCHEMA, "strict": True}
    body = {
        "model": "sim-chat",
        "messages": [{"role": "user", "content": "a pet"}],
        "response_format": {"type": "json_schema", "json_schema": spec},
    }
    reply = (await post(simulator, "openai", "/v1/chat/completions", body)).json()
    jsonschema.validate(json.loads(reply["choices"][0]["message"]["content"]), SCHEMA)
    body["response_format"] = {"type": "json_object"}
    reply = (await post(simulator, "openai", "/v1/chat/completions", body)).json()
    assert reply["choices"][0]["message"]["content"] == "{}"
    body["response_format"] = {"type": "json_schema", "json_schema": {"schema": SCHEMA}}
    refused = await post(simulator, "openai", "/v1/chat/completions", body)
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "response_format.json_schema.name"


async def test_openai_sdk_parse_against_the_simulator(simulator: Simulator) -> None:
    class Pet(BaseModel):
        name: str
        legs: int

    async with openai.AsyncOpenAI(
        base_url=simulator.base_url("openai"), api_key=KEY, max_retries=0
    ) as client:
        reply = await client.chat.completions.parse(
            model="sim-chat", messages=[{"role": "user", "content": "a pet"}], response_format=Pet
        )
    assert reply.choices[0].message.parsed == Pet(name="example", legs=1)


@pytest.mark.parametrize("stream", [False, True])
async def test_anthropic_output_config(simulator: Simulator, stream: bool) -> None:
    body = {
        "model": "sim-chat",
        "max_tokens": 500,
        "messages": [{"role": "user", "content": "a pet"}],
        "output_config": {"format": {"type": "json_schema", "schema": SCHEMA}},
        "stream": stream,
    }
    response = await post(simulator, "anthropic", "/v1/messages", body)
    if stream:
        text = "".join(
            json.loads(line[6:])["delta"]["text"]
            for line in response.text.splitlines()
            if line.startswith("data: ") and '"text_delta"' in line
        )
    else:
        text = response.json()["content"][0]["text"]
    jsonschema.validate(json.loads(text), SCHEMA)
    body["output_config"] = {"format": {"type": "json_object"}}
    refused = await post(simulator, "anthropic", "/v1/messages", body)
    assert refused.status_code == 400
    assert "output_config.format.type" in refused.json()["error"]["message"]


async def test_gemini_response_schema(simulator: Simulator) -> None:
    path = "/v1beta/models/sim-chat:generateContent"
    config = {"responseMimeType": "application/json", "responseJsonSchema": SCHEMA}
    body: dict[str, Any] = {
        "contents": [{"role": "user", "parts": [{"text": "a pet"}]}],
        "generationConfig": config,
    }
    reply = (await post(simulator, "gemini", path, body)).json()
    jsonschema.validate(json.loads(reply["candidates"][0]["content"]["parts"][0]["text"]), SCHEMA)
    body["generationConfig"] = {
        "response_mime_type": "application/json",
        "response_schema": {
            "type": "OBJECT",
            "properties": {"n": {"type": "INTEGER"}},
            "required": ["n"],
        },
    }
    reply = (await post(simulator, "gemini", path, body)).json()
    assert reply["candidates"][0]["content"]["parts"][0]["text"] == '{"n":1}'
    body["generationConfig"] = {"responseJsonSchema": SCHEMA}  # no JSON MIME type
    assert (await post(simulator, "gemini", path, body)).status_code == 400


async def test_cached_tokens_in_each_usage(simulator: Simulator) -> None:
    text = "cache me " * 10
    simulator.script(count=3, cached=5)
    openai_reply = await post(
        simulator,
        "openai",
        "/v1/chat/completions",
        {"model": "sim-chat", "messages": [{"role": "user", "content": text}]},
    )
    usage = openai_reply.json()["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 5
    total = usage["prompt_tokens"]
    anthropic_reply = await post(
        simulator,
        "anthropic",
        "/v1/messages",
        {"model": "sim-chat", "max_tokens": 50, "messages": [{"role": "user", "content": text}]},
    )
    usage = anthropic_reply.json()["usage"]
    assert (usage["cache_read_input_tokens"], usage["input_tokens"]) == (5, total - 5)
    gemini_reply = await post(
        simulator,
        "gemini",
        "/v1beta/models/sim-chat:generateContent",
        {"contents": [{"role": "user", "parts": [{"text": text}]}]},
    )
    assert gemini_reply.json()["usageMetadata"]["cachedContentTokenCount"] == 5


async def test_cached_directive(simulator: Simulator) -> None:
    body = {
        "model": "sim-chat",
        "messages": [{"role": "user", "content": "x" * 40 + "[[sim:cached=4]]"}],
    }
    reply = (await post(simulator, "openai", "/v1/chat/completions", body)).json()
    assert reply["usage"]["prompt_tokens_details"]["cached_tokens"] == 4


async def test_several_choices_and_candidates(simulator: Simulator) -> None:
    body = {"model": "sim-chat", "messages": [{"role": "user", "content": "hi"}], "n": 2}
    choices = (await post(simulator, "openai", "/v1/chat/completions", body)).json()["choices"]
    assert [c["index"] for c in choices] == [0, 1]
    gemini_body = {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {"candidateCount": 3},
    }
    reply = await post(simulator, "gemini", "/v1beta/models/sim-chat:generateContent", gemini_body)
    assert [c["index"] for c in reply.json()["candidates"]] == [0, 1, 2]


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (
            {"max_tokens": 1000, "thinking": {"type": "enabled", "budget_tokens": 2000}},
            "max_tokens",
        ),
        ({"max_tokens": 5000, "thinking": {"type": "enabled", "budget_tokens": 100}}, "1024"),
        (
            {
                "max_tokens": 5000,
                "thinking": {"type": "enabled", "budget_tokens": 2000},
                "temperature": 0.5,
            },
            "temperature",
        ),
    ],
)
async def test_anthropic_thinking_rules(
    simulator: Simulator, extra: dict[str, Any], problem: str
) -> None:
    body = {"model": "sim-chat", "messages": [{"role": "user", "content": "think"}], **extra}
    refused = await post(simulator, "anthropic", "/v1/messages", body)
    assert refused.status_code == 400
    assert problem in refused.json()["error"]["message"]


# ---- sim-reasoner: thinking with a signature, checked when replayed -------------------


TOOL = {"name": "f", "input_schema": {"type": "object", "properties": {}}}


async def test_anthropic_reasoner_signs_and_checks(simulator: Simulator) -> None:
    body: dict[str, Any] = {
        "model": "sim-reasoner",
        "max_tokens": 4096,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "tools": [TOOL],
        "tool_choice": {"type": "auto"},
        "messages": [{"role": "user", "content": "call f"}],
    }
    first = (await post(simulator, "anthropic", "/v1/messages", body)).json()
    thinking, call = first["content"]
    assert thinking["signature"] == "sim-signature-sim-reasoner" and call["type"] == "tool_use"
    result = {"type": "tool_result", "tool_use_id": call["id"], "content": "done"}
    body["messages"] += [
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [result]},
    ]
    assert (await post(simulator, "anthropic", "/v1/messages", body)).status_code == 200
    body["messages"][1]["content"] = [call]  # thinking left out
    missing = await post(simulator, "anthropic", "/v1/messages", body)
    assert missing.status_code == 400 and "must start with a thinking block" in missing.text
    body["messages"][1]["content"] = [dict(thinking, signature="forged"), call]
    forged = await post(simulator, "anthropic", "/v1/messages", body)
    assert forged.status_code == 400 and "Invalid `signature`" in forged.text
    body["stream"] = True
    body["messages"] = body["messages"][:1]
    streamed = (await post(simulator, "anthropic", "/v1/messages", body)).text
    assert '"signature_delta","signature":"sim-signature-sim-reasoner"' in streamed


async def test_gemini_reasoner_signs_and_checks(simulator: Simulator) -> None:
    path = "/v1beta/models/sim-reasoner:generateContent"
    body: dict[str, Any] = {
        "contents": [{"role": "user", "parts": [{"text": "call f"}]}],
        "tools": [{"functionDeclarations": [{"name": "f"}]}],
        "generationConfig": {"thinkingConfig": {"includeThoughts": True}},
    }
    first = (await post(simulator, "gemini", path, body)).json()
    thought, call = first["candidates"][0]["content"]["parts"]
    assert thought["thought"] is True
    assert call["thoughtSignature"] == "sim-signature-sim-reasoner"
    response = {"functionResponse": {"name": "f", "response": {"result": "done"}}}
    body["contents"] += [
        {"role": "model", "parts": [call]},
        {"role": "user", "parts": [response]},
    ]
    assert (await post(simulator, "gemini", path, body)).status_code == 200
    body["contents"][1]["parts"] = [{"functionCall": call["functionCall"]}]
    missing = await post(simulator, "gemini", path, body)
    assert missing.status_code == 400 and "missing a thought_signature" in missing.text
    skipped = dict(call, thoughtSignature="skip_thought_signature_validator")
    body["contents"][1]["parts"] = [skipped]
    assert (await post(simulator, "gemini", path, body)).status_code == 200
