"""wire/embeddings.py: OpenAI's request and reply, Gemini's batchEmbedContents, base64."""

from __future__ import annotations

import array
import base64
import struct

import pytest
from openai.types import CreateEmbeddingResponse

from cherry_nb._exceptions import WireFormatError
from cherry_nb.config.kinds import KINDS, kinds_with
from cherry_nb.wire import embeddings as emb


def _request(**body: object) -> emb.EmbeddingRequest:
    return emb.parse_openai_request({"model": "m", **body})


# ---- reading OpenAI's request ----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "inputs"),
    [
        ("one text", ["one text"]),
        (["a", "b"], ["a", "b"]),
        ([1, 2, 3], [[1, 2, 3]]),  # one input, as token ids
        ([[1, 2], [3]], [[1, 2], [3]]),
    ],
)
def test_every_form_of_input_becomes_a_list_of_inputs(given: object, inputs: list) -> None:
    assert _request(input=given).inputs == inputs


def test_options_are_read() -> None:
    request = _request(input="x", dimensions=8, encoding_format="base64", user="u-1")
    assert (request.dimensions, request.encoding_format, request.user) == (8, "base64", "u-1")
    assert _request(input="x").encoding_format == "float"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x", "model": ""}, "model"),
        ({}, "input"),
        ({"input": []}, "input"),
        ({"input": 3}, "input"),
        ({"input": ""}, "input"),
        ({"input": ["a", ""]}, "input.1"),
        ({"input": ["a", 1]}, "input.1"),
        ({"input": [[1], []]}, "input.1"),
        ({"input": [[1], [True]]}, "input.1"),
        ({"input": ["x"] * (emb.MAX_INPUTS + 1)}, "input"),
        ({"input": "x", "encoding_format": "hex"}, "encoding_format"),
        ({"input": "x", "dimensions": 0}, "dimensions"),
        ({"input": "x", "dimensions": 2.0}, "dimensions"),
        ({"input": "x", "user": 5}, "user"),
    ],
)
def test_bad_requests_name_the_field(body: dict, param: str) -> None:
    with pytest.raises(WireFormatError) as info:
        emb.parse_openai_request({"model": "m", **body})
    assert info.value.param == param
    assert param.split(".")[0] in info.value.message


# ---- Gemini ------------------------------------------------------------------------------


def test_gemini_request_has_one_entry_per_input_naming_the_model() -> None:
    request = _request(input=["a", "b"], dimensions=4)
    request.model = "text-embedding-004"
    assert emb.build_gemini_request(request) == {
        "requests": [
            {
                "model": "models/text-embedding-004",
                "content": {"parts": [{"text": text}]},
                "outputDimensionality": 4,
            }
            for text in ("a", "b")
        ]
    }
    assert request.dropped == []


def test_gemini_request_drops_user_and_says_so() -> None:
    request = _request(input="a", user="u-1")
    body = emb.build_gemini_request(request)
    assert "user" not in str(body) and request.dropped == ["user"]
    emb.build_gemini_request(request)
    assert request.dropped == ["user"]


@pytest.mark.parametrize(("given", "param"), [([1, 2], "input"), ([[1], [2]], "input.0")])
def test_gemini_refuses_token_arrays(given: object, param: str) -> None:
    with pytest.raises(WireFormatError, match="Gemini embeds text only") as info:
        emb.build_gemini_request(_request(input=given))
    assert info.value.param == param


def test_gemini_reply_becomes_vectors_with_estimated_usage() -> None:
    request = _request(input=["abcd", "abcde"])
    reply = {"embeddings": [{"values": [0.5, -0.5]}, {"values": [1, 0]}]}
    response = emb.parse_gemini_response(reply, request)
    assert response.vectors == [[0.5, -0.5], [1.0, 0.0]]
    assert response.prompt_tokens == 1 + 2  # four characters a token, rounded up
    assert response.model == "m"


@pytest.mark.parametrize(
    "reply",
    [
        {},
        {"embeddings": [{"values": [0.1]}]},  # one vector for two inputs
        {"embeddings": [{"values": [0.1]}, {"values": ["x"]}]},
        {"embeddings": [{"values": [0.1]}, {"values": [True]}]},
        {"embeddings": [{"values": [0.1]}, "no"]},
    ],
)
def test_malformed_gemini_replies_are_refused(reply: dict) -> None:
    with pytest.raises(WireFormatError):
        emb.parse_gemini_response(reply, _request(input=["a", "b"]))


# ---- OpenAI's reply ----------------------------------------------------------------------


def test_base64_is_little_endian_float32_as_the_sdk_decodes_it() -> None:
    vector = [0.25, -1.5, 3.0e-8, 1.0]
    encoded = emb.encode_base64(vector)
    assert base64.b64decode(encoded) == struct.pack("<4f", *vector)
    # What the openai SDK does with a base64 embedding when numpy is absent.
    assert array.array("f", base64.b64decode(encoded)).tolist() == pytest.approx(vector)
    assert emb.decode_base64(encoded) == pytest.approx(vector)
    for bad in ("not base64!", base64.b64encode(b"abc").decode()):
        with pytest.raises(WireFormatError):
            emb.decode_base64(bad)


@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_openai_reply_is_what_the_sdk_model_accepts(encoding: emb.EncodingFormat) -> None:
    response = emb.EmbeddingResponse("gw:model", [[0.5, 0.5], [1.0, 0.0]], 7)
    body = emb.build_openai_response(response, encoding)
    if encoding == "base64":
        # The SDK's model types vectors as floats: it decodes base64 before anyone looks.
        assert all(isinstance(item["embedding"], str) for item in body["data"])
        for item in body["data"]:
            item["embedding"] = emb.decode_base64(item["embedding"])
    parsed = CreateEmbeddingResponse.model_validate(body)
    assert parsed.model == "gw:model" and parsed.usage.prompt_tokens == 7
    assert [d.embedding for d in parsed.data] == [[0.5, 0.5], [1.0, 0.0]]
    assert [d.index for d in parsed.data] == [0, 1]


def test_openai_reply_read_back_in_index_order_from_either_encoding() -> None:
    request = _request(input=["a", "b"])
    body = {
        "data": [
            {"index": 1, "embedding": emb.encode_base64([0.5, 0.25])},
            {"index": 0, "embedding": [1, 0]},
        ],
        "model": "up",
        "usage": {"prompt_tokens": 9},
    }
    response = emb.parse_openai_response(body, request)
    assert response.vectors == [[1.0, 0.0], [0.5, 0.25]]
    assert (response.model, response.prompt_tokens) == ("up", 9)
    without_usage = emb.parse_openai_response({**body, "usage": None}, request)
    assert without_usage.prompt_tokens == emb.estimate_tokens(["a", "b"]) == 2


@pytest.mark.parametrize(
    "data",
    [
        None,
        [{"index": 0, "embedding": [1]}],
        [{"index": 0, "embedding": [1]}, {"index": 0, "embedding": [1]}],
        [{"index": 0, "embedding": [1]}, {"index": 5, "embedding": [1]}],
        [{"index": 0, "embedding": [1]}, {"index": 1, "embedding": None}],
    ],
)
def test_malformed_openai_replies_are_refused(data: object) -> None:
    with pytest.raises(WireFormatError):
        emb.parse_openai_response({"data": data}, _request(input=["a", "b"]))


def test_openai_request_asks_for_floats() -> None:
    body = emb.build_openai_request(_request(input="a", dimensions=3, user="u"))
    assert body == {
        "model": "m",
        "input": "a",
        "encoding_format": "float",
        "dimensions": 3,
        "user": "u",
    }
    assert emb.build_openai_request(_request(input=[[1, 2]]))["input"] == [[1, 2]]


def test_every_kind_with_embeddings_has_converters_for_its_format() -> None:
    types = kinds_with("embeddings")
    assert set(types) == {"openai", "azure-openai", "gemini"}
    for kind_id in types:
        assert KINDS[kind_id].wire_format in emb.FORMATS
