"""Provider kinds as data: complete, consistent, and what the URLs are built from."""

from __future__ import annotations

import pytest

from cherry_nb._exceptions import ConfigError
from cherry_nb.config import KINDS, PROVIDER_TYPES, get_kind
from cherry_nb.config.kinds import kinds_with
from cherry_nb.config.models import Provider
from cherry_nb.config.urls import address


def test_every_kind_is_complete_and_consistent() -> None:
    assert PROVIDER_TYPES == tuple(KINDS)
    for kind in KINDS.values():
        assert kind.label and kind.wire_format
        assert kind.auth_header == kind.auth_header.lower()
        assert kind.bearer == (kind.auth_header == "authorization")
        for endpoints in (kind.endpoints, *(e for _, e in kind.variants)):
            for template in (endpoints.chat, endpoints.chat_stream, endpoints.models):
                assert template.startswith("/")
        if kind.api_version_param is not None:
            assert kind.default_api_version


def test_model_in_path_is_what_the_templates_say() -> None:
    assert {k.id for k in KINDS.values() if k.model_in_path} == {"gemini", "azure-openai"}
    # Azure's /openai/v1 form takes the model in the body.
    azure = address("https://r.openai.azure.com/openai/v1", "azure-openai")
    assert "MODEL" not in azure.chat_url()


def test_capabilities() -> None:
    assert "count_tokens" in get_kind("anthropic").capabilities
    assert "count_tokens" not in get_kind("openai").capabilities
    assert "embeddings" in get_kind("openai").capabilities
    assert kinds_with("embeddings") == ("openai", "gemini", "azure-openai")
    assert address("https://g.example.com", "gemini").embeddings_url("text-embedding-004") == (
        "https://g.example.com/v1beta/models/text-embedding-004:batchEmbedContents"
    )
    assert address("https://a.example.com", "anthropic").embeddings_url() is None
    assert address("https://a.example.com", "anthropic").count_tokens_url() == (
        "https://a.example.com/v1/messages/count_tokens"
    )
    assert address("https://a.example.com/v1", "openai").count_tokens_url() is None


def test_a_pasted_endpoint_of_another_format_names_its_kind() -> None:
    notes = " ".join(address("https://x.example.com/v1/messages", "openai").notes)
    assert "choose type anthropic" in notes
    notes = " ".join(address("https://x.example.com/v1/chat/completions", "anthropic").notes)
    assert "choose type openai" in notes
    notes = " ".join(address("https://x.example.com/v1/chat/completions", "openai").notes)
    assert "choose type" not in notes


def test_unknown_type_is_refused_with_the_list() -> None:
    with pytest.raises(ConfigError, match="openai, anthropic, gemini, azure-openai"):
        get_kind("cohere")
    with pytest.raises(ValueError, match="must be one of openai"):
        Provider(id="x", type="cohere", base_url="https://x.example.com")


def test_model_ids_are_quoted_as_one_path_segment() -> None:
    url = address("https://g.example.com", "gemini").chat_url("../../v1/files?x", stream=False)
    assert url == "https://g.example.com/v1beta/models/..%2F..%2Fv1%2Ffiles%3Fx:generateContent"
