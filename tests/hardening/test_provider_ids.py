"""Issue 12: provider and group ids may not collide with the gateway's own top-level path
segments (`/api-docs/v1/messages/count_tokens` must never name a provider), and the id
pattern is anchored at the very end (an id with a trailing newline used to pass)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cherry_nb._exceptions import ConfigError, ConfigFileError
from cherry_nb.config import ProviderRegistry
from cherry_nb.config.ids import PROVIDER_ID_RE, RESERVED_IDS, is_reserved_id
from cherry_nb.config.models import Config, Provider
from cherry_nb.config.store import load_config


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
