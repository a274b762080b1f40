"""Model groups through the registry's public API: validated when made, saved with the
file's lock like every change, following a renamed provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cherry_nb import ConfigError
from cherry_nb.config.registry import ProviderRegistry


@pytest.fixture
def registry(tmp_path: Path) -> ProviderRegistry:
    reg = ProviderRegistry(tmp_path / "config.json")
    reg.add(id="a", name="A", base_url="http://127.0.0.1:9/v1", models=["m1"])
    reg.add(id="b", name="B", base_url="http://127.0.0.1:9/v1", models=["m2"])
    return reg


def test_add_update_remove_round_trip_through_the_file(registry: ProviderRegistry) -> None:
    group = registry.add_group("fast", ["a:m1", "b:m2"], strategy="round-robin")
    assert (group.id, group.models, group.strategy) == ("fast", ["a:m1", "b:m2"], "round-robin")
    saved = json.loads(registry.path.read_text())["groups"]
    assert saved == [{"id": "fast", "models": ["a:m1", "b:m2"], "strategy": "round-robin"}]
    registry.update_group("fast", ["b:m2"], strategy="least-busy")
    fresh = ProviderRegistry(registry.path)
    assert [(g.models, g.strategy) for g in fresh.groups()] == [(["b:m2"], "least-busy")]
    assert registry.remove_group("fast").id == "fast"
    assert registry.groups() == []


@pytest.mark.parametrize(
    ("group_id", "members", "strategy", "said"),
    [
        ("a", ["b:m2"], "fallback", "is a provider id"),
        ("v1", ["b:m2"], "fallback", "reserved"),
        ("has space", ["b:m2"], "fallback", "slug"),
        ("g", ["nope:m"], "fallback", "names no configured provider"),
        ("g", ["m1"], "fallback", "provider-id:model-id"),
        ("g", [], "fallback", "at least one member"),
        ("g", ["a:m1", "a:m1"], "fallback", "listed twice"),
        ("g", ["a:m1"], "fastest", "not one of: fallback, round-robin, least-busy"),
    ],
)
def test_bad_groups_are_refused_and_nothing_changes(
    registry: ProviderRegistry, group_id: str, members: list[str], strategy: str, said: str
) -> None:
    before = registry.path.read_text()
    with pytest.raises(ConfigError, match=said):
        registry.add_group(group_id, members, strategy=strategy)
    assert registry.path.read_text() == before


def test_a_second_group_with_the_same_id_is_refused(registry: ProviderRegistry) -> None:
    registry.add_group("g", ["a:m1"])
    with pytest.raises(ConfigError, match="already exists"):
        registry.add_group("g", ["b:m2"])
    with pytest.raises(ConfigError, match="No model group 'h'"):
        registry.update_group("h", ["a:m1"])
    with pytest.raises(ConfigError, match="No model group 'h'"):
        registry.remove_group("h")


def test_members_follow_a_renamed_provider(registry: ProviderRegistry) -> None:
    registry.add_group("g", ["a:m1", "b:m2"])
    registry.update("a", id="alpha")
    assert registry.groups()[0].models == ["alpha:m1", "b:m2"]


def test_export_carries_the_groups_of_the_exported_providers(
    registry: ProviderRegistry, tmp_path: Path
) -> None:
    registry.add_group("both", ["a:m1", "b:m2"], strategy="round-robin")
    registry.add_group("only-a", ["a:m1"])
    assert [g["id"] for g in registry.export(["a"])["groups"]] == ["only-a"]
    document = registry.export()
    other = ProviderRegistry(tmp_path / "other.json")
    other.import_(document)
    assert [(g.id, g.models, g.strategy) for g in other.groups()] == [
        ("both", ["a:m1", "b:m2"], "round-robin"),
        ("only-a", ["a:m1"], "fallback"),
    ]
    with pytest.raises(ConfigError, match="Providers already configured"):
        other.import_(document)
    other.import_(document, replace=True)
    assert len(other.groups()) == 2
