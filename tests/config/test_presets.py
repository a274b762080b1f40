"""Presets: well-known servers with addresses that are already in normalised form."""

from __future__ import annotations

import dataclasses

import pytest

from cherry_nb._exceptions import ConfigError
from cherry_nb.config.presets import LOCAL_SERVER_PORTS, PRESETS, Preset, get_preset
from cherry_nb.config.urls import (
    DEFAULT_AZURE_API_VERSION,
    PLACEHOLDER_RESOURCE,
    normalize_base_url,
)

EXPECTED_BASES = {
    "vllm": "http://127.0.0.1:8000/v1",
    "ollama": "http://127.0.0.1:11434/v1",
    "tgi": "http://127.0.0.1:8080/v1",
    "lmstudio": "http://127.0.0.1:1234/v1",
    "llamacpp": "http://127.0.0.1:8080/v1",
    "openai": "https://api.openai.com/v1",
    "openai-responses": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
    "azure-openai": "https://YOUR-RESOURCE.openai.azure.com",
    "openrouter": "https://openrouter.ai/api/v1",
    "deepseek": "https://api.deepseek.com/v1",
    "groq": "https://api.groq.com/openai/v1",
}


def test_the_table() -> None:
    assert {key: p.base_url for key, p in PRESETS.items()} == EXPECTED_BASES
    for key, preset in PRESETS.items():
        assert preset.key == key
        assert preset.label and preset.hint


@pytest.mark.parametrize("key", sorted(EXPECTED_BASES))
def test_preset_addresses_are_already_normalised(key: str) -> None:
    preset = PRESETS[key]
    base_url = preset.base_url
    if preset.base_url_is_placeholder:
        with pytest.raises(ConfigError, match=PLACEHOLDER_RESOURCE):
            normalize_base_url(base_url, preset.type)  # refused until the user fills it in
        base_url = base_url.replace(PLACEHOLDER_RESOURCE, "contoso")
    result = normalize_base_url(base_url, preset.type)
    assert result.url == base_url
    assert result.notes == ()


def test_local_servers_need_no_key_hosted_ones_do() -> None:
    for key in ("vllm", "ollama", "tgi", "lmstudio", "llamacpp"):
        assert not PRESETS[key].needs_key
        assert PRESETS[key].local
        assert PRESETS[key].type == "openai"
    for key in ("openai", "anthropic", "gemini", "azure-openai", "openrouter", "deepseek", "groq"):
        assert PRESETS[key].needs_key
        assert not PRESETS[key].local


def test_types() -> None:
    assert PRESETS["anthropic"].type == "anthropic"
    assert PRESETS["gemini"].type == "gemini"
    assert PRESETS["azure-openai"].type == "azure-openai"
    assert PRESETS["azure-openai"].api_version == DEFAULT_AZURE_API_VERSION
    assert PRESETS["azure-openai"].base_url_is_placeholder


def test_get_preset() -> None:
    assert get_preset("ollama") is PRESETS["ollama"]
    assert get_preset(" Ollama ") is PRESETS["ollama"]


def test_unknown_preset_lists_the_keys() -> None:
    with pytest.raises(ConfigError) as info:
        get_preset("koboldcpp")
    message = str(info.value)
    assert "koboldcpp" in message
    for key in PRESETS:
        assert key in message


def test_presets_are_frozen_and_the_table_read_only() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESETS["vllm"].base_url = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        PRESETS["new"] = PRESETS["vllm"]  # type: ignore[index]
    assert isinstance(PRESETS["vllm"], Preset)


def test_local_server_ports() -> None:
    assert dict(LOCAL_SERVER_PORTS) == {
        "ollama": 11434,
        "vllm": 8000,
        "lmstudio": 1234,
        "tgi": 8080,
    }
    for key, port in LOCAL_SERVER_PORTS.items():
        assert f":{port}/" in PRESETS[key].base_url
