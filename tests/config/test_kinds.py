"""Provider kinds as data, and the ids the gateway keeps for itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cherry_nb._exceptions import ConfigError, ConfigFileError
from cherry_nb.config import KINDS, PROVIDER_TYPES, ProviderRegistry, get_kind
from cherry_nb.config.ids import PROVIDER_ID_RE, RESERVED_IDS, is_reserved_id
from cherry_nb.config.models import Config, Provider
from cherry_nb.config.store import load_config
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


# ---- ids ----------------------------------------------------------------------------


def test_provider_id_pattern_refuses_a_trailing_newline() -> None:
    assert PROVIDER_ID_RE.match("my-openai")
    assert not PROVIDER_ID_RE.match("my-openai\n")
    with pytest.raises(ValueError, match="readable slug"):
        Provider(id="my-openai\n", base_url="https://x.example.com")


@pytest.mark.parametrize(
    "reserved",
    [
        "v1",
        "V1",
        "v2",
        "v1beta",
        "api-docs",
        "api-docs.json",
        "health",
        "metrics",
        "docs",
        "Health",
    ],
)
def test_reserved_ids(reserved: str) -> None:
    assert is_reserved_id(reserved)
    with pytest.raises(ValueError, match="reserved"):
        Provider(id=reserved, base_url="https://x.example.com")


def test_ordinary_ids_are_not_reserved() -> None:
    for ok in ("my-openai", "v1-relay", "docs-1", "healthy", "vllm", "api"):
        assert not is_reserved_id(ok), ok
    assert "api-docs" in RESERVED_IDS


def test_registry_refuses_a_reserved_id_and_slugs_avoid_them(tmp_path: Path) -> None:
    registry = ProviderRegistry(tmp_path / "config.json")
    with pytest.raises(ConfigError, match="reserved"):
        registry.add(name="Docs", id="api-docs", base_url="https://x.example.com/v1")
    provider, _ = registry.add(name="API docs", base_url="https://x.example.com/v1")
    assert provider.id == "api-docs-2"
    provider, _ = registry.add(name="v1", base_url="https://x.example.com/v1")
    assert provider.id == "v1-2"
    with pytest.raises(ConfigError, match="reserved"):
        registry.update("v1-2", id="health")
    assert [p.id for p in registry.config.providers] == ["api-docs-2", "v1-2"]


def test_import_refuses_a_reserved_id(tmp_path: Path) -> None:
    registry = ProviderRegistry(tmp_path / "config.json")
    document = {"providers": [{"id": "metrics", "base_url": "https://x.example.com/v1"}]}
    with pytest.raises(ConfigError, match="reserved.*Nothing was imported"):
        registry.import_(document)
    assert registry.config.providers == []


def test_a_group_id_may_not_be_reserved() -> None:
    with pytest.raises(ValueError, match="reserved"):
        Config.model_validate({"groups": [{"id": "v1", "models": ["a:b"]}]})


def test_a_config_file_with_a_reserved_id_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    entry = {"id": "api-docs", "type": "openai", "base_url": "http://127.0.0.1:8000/v1"}
    path.write_text(json.dumps({"providers": [entry]}))
    with pytest.raises(ConfigFileError) as info:
        load_config(path)
    message = info.value.message
    assert "providers[0]" in message and "'api-docs' is reserved" in message
    assert "/api-docs" in message
