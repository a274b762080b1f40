"""The model groups panel (`%chat groups`): list groups, add one, change its strategy,
remove it.

Every change goes through the registry's group API (the same validation as the CLI and
code), and a refusal is shown as a red line in the panel, never a traceback.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from ...config.groups import STRATEGIES
from ...config.models import Config, ModelGroup
from ...config.registry import ProviderRegistry
from ._common import MUTED_COLOUR, error_text, replace_children, status_html


def group_line_html(group: ModelGroup, config: Config) -> str:
    """One group: its id, strategy and members (those that will be skipped greyed)."""
    enabled = {p.id for p in config.providers if p.enabled}
    members = ", ".join(
        f"<code>{html.escape(m)}</code>"
        if m.partition(":")[0] in enabled
        else f'<s style="color:{MUTED_COLOUR}" title="no enabled provider">{html.escape(m)}</s>'
        for m in group.models
    )
    return f"<b>{html.escape(group.id)}</b> <span style='color:{MUTED_COLOUR}'>·</span> {members}"


class GroupsPanel:
    """A small editor for `Config.groups`."""

    def __init__(self, registry: ProviderRegistry) -> None:
        self.registry = registry
        self.rows = w.VBox()
        self.status = w.HTML()
        self.new_id = w.Text(placeholder="group id, e.g. fast", layout=w.Layout(width="160px"))
        self.new_members = w.Text(
            placeholder="members: provider:model, provider:model", layout=w.Layout(width="340px")
        )
        self.new_strategy = w.Dropdown(options=STRATEGIES, value="fallback")
        self.add_button = w.Button(description="Add group", button_style="primary")
        self.add_button.on_click(lambda _: self.add())
        self.widget = w.VBox(
            [
                w.HTML(
                    "<b>Model groups</b> — one name for several models; clients send the "
                    "group id as <code>model</code>."
                ),
                self.rows,
                w.HBox([self.new_id, self.new_members, self.new_strategy, self.add_button]),
                self.status,
            ]
        )
        self.refresh()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def refresh(self) -> None:
        config = self.registry.config
        rows: list[w.Widget] = [self._row(group, config) for group in config.groups]
        if not rows:
            rows = [w.HTML(status_html("No model groups yet."))]
        replace_children(self.rows, rows)

    def _row(self, group: ModelGroup, config: Config) -> w.Widget:
        strategy = w.Dropdown(
            options=STRATEGIES, value=group.strategy, layout=w.Layout(width="130px")
        )
        strategy.observe(lambda change: self.set_strategy(group.id, change["new"]), names="value")
        remove = w.Button(description="Remove", layout=w.Layout(width="80px"))
        remove.on_click(lambda _: self.remove(group.id))
        return w.HBox([w.HTML(group_line_html(group, config)), strategy, remove])

    def add(self) -> None:
        members = [m.strip() for m in self.new_members.value.split(",") if m.strip()]
        self._apply(
            lambda: self.registry.add_group(
                self.new_id.value.strip(), members, strategy=self.new_strategy.value
            ),
            f"Added group {self.new_id.value.strip()}.",
        )

    def set_strategy(self, group_id: str, strategy: str) -> None:
        self._apply(
            lambda: self.registry.update_group(group_id, strategy=strategy),
            f"{group_id} now uses {strategy}.",
        )

    def remove(self, group_id: str) -> None:
        self._apply(lambda: self.registry.remove_group(group_id), f"Removed group {group_id}.")

    def _apply(self, change: Any, done: str) -> None:
        try:
            change()
        except Exception as exc:  # shown in the panel: a widget callback has no cell
            self.status.value = status_html(error_text(exc), ok=False)
            return
        self.status.value = status_html(done, ok=True)
        self.refresh()


def groups_panel(registry: ProviderRegistry) -> GroupsPanel:
    return GroupsPanel(registry)
