"""The model groups panel, driven through its widgets: add, change strategy, remove,
and a refusal shown in the panel."""

from __future__ import annotations

import json
from pathlib import Path

import ipywidgets

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.notebook.widgets._common import FAIL_COLOUR, OK_COLOUR
from cherry_nb.notebook.widgets.groups import GroupsPanel


def _registry(path: Path) -> ProviderRegistry:
    registry = ProviderRegistry(path)
    registry.add(id="a", name="A", base_url="http://127.0.0.1:9/v1", models=["m"])
    registry.add(id="b", name="B", base_url="http://127.0.0.1:9/v1", models=["m"])
    return registry


def test_add_change_and_remove_a_group(tmp_path: Path) -> None:
    registry = _registry(tmp_path / "config.json")
    panel = GroupsPanel(registry)
    assert "No model groups yet" in panel.rows.children[0].value
    panel.new_id.value = "pool"
    panel.new_members.value = "a:m, b:m"
    panel.new_strategy.value = "round-robin"
    panel.add_button.click()
    assert OK_COLOUR in panel.status.value and "Added group pool" in panel.status.value
    (row,) = panel.rows.children
    line, strategy, remove = row.children
    assert "<code>a:m</code>" in line.value and strategy.value == "round-robin"
    strategy.value = "least-busy"
    saved = json.loads(registry.path.read_text())["groups"]
    assert saved == [{"id": "pool", "models": ["a:m", "b:m"], "strategy": "least-busy"}]
    assert isinstance(remove, ipywidgets.Button)
    remove.click()
    assert json.loads(registry.path.read_text())["groups"] == []
    assert "Removed group pool" in panel.status.value


def test_a_refused_group_is_explained_in_the_panel(tmp_path: Path) -> None:
    registry = _registry(tmp_path / "config.json")
    panel = GroupsPanel(registry)
    panel.new_id.value = "a"
    panel.new_members.value = "b:m"
    panel.add_button.click()
    assert FAIL_COLOUR in panel.status.value and "is a provider id" in panel.status.value
    panel.new_id.value = "pool"
    panel.new_members.value = "ghost:m"
    panel.add_button.click()
    assert "names no configured provider" in panel.status.value
    assert registry.groups() == []
