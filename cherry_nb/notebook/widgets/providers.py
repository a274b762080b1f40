"""The provider manager shown by `%chat setup` and `cherry_nb.setup()`.

A list of providers with enable switches, and a form to add or edit one:
presets, API key, API address with a live preview of the request URL, Check,
models (fetched, picked, typed, removed) and delete with a confirmation. Every
change goes through the ProviderRegistry, so it is validated, normalised and
saved to the config file at once.

Keys: the API key field is a Password whose value is cleared as soon as a save
succeeds; no other widget ever holds a key, only `Provider.key_hint`'s mask.
Everything shown that a user or an upstream wrote is HTML-escaped.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import ipywidgets as w
from pydantic import ValidationError

from ..._exceptions import CherryError, ConfigError, ProviderError
from ...config.kinds import KINDS, PROVIDER_TYPES
from ...config.models import Config, Provider
from ...config.presets import LOCAL_SERVER_PORTS, PRESETS
from ...config.registry import slugify
from ...config.store import describe_errors
from ...config.urls import normalize_base_url
from ...diagnosis import diagnose
from ..detect import LocalServer
from ..runtime import Runtime, get_runtime
from ._common import (
    TYPE_LABELS,
    check_html,
    close_tree,
    error_text,
    key_checks_html,
    local_server_html,
    preview_html,
    provider_line_html,
    replace_children,
    status_html,
)

log = logging.getLogger("cherry_nb.notebook")
_WIDE = {"width": "100%", "max_width": "680px"}
_LABELLED = {"description_width": "110px"}


def _show(widget: w.DOMWidget, visible: bool) -> None:
    widget.layout.display = "" if visible else "none"


def _button(description: str, handler: Callable[[Any], None], **kwargs: Any) -> w.Button:
    # Sized to its label: ipywidgets' fixed default width cuts longer ones ("Detect local se…").
    kwargs.setdefault("layout", w.Layout(width="auto"))
    button = w.Button(description=description, **kwargs)
    button.on_click(handler)
    return button


# ---- the form -------------------------------------------------------------------------


class ProviderForm(w.VBox):
    """Add or edit one provider; `on_change(message)` is called after every saved change."""

    def __init__(
        self,
        runtime: Runtime,
        on_change: Callable[[str | None], None],
        on_checked: Callable[[str, bool], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self._on_change = on_change
        self._on_checked = on_checked
        self.provider_id: str | None = None  # None: adding a new provider
        self._loading = False
        self._listed: set[str] | None = None  # the models the upstream listed at the last fetch
        self._leaving: Callable[[], None] | None = None  # what to do once unsaved edits go

        self.title = w.HTML()
        self.preset = w.Dropdown(
            description="Preset",
            options=[("(none)", "")] + [(p.label, p.key) for p in PRESETS.values()],
            style=_LABELLED,
        )
        self.preset_hint = w.HTML()
        self.name = w.Text(description="Name", placeholder="e.g. My vLLM", style=_LABELLED)
        self.type = w.Dropdown(
            description="Type",
            options=[(TYPE_LABELS[t], t) for t in PROVIDER_TYPES],
            style=_LABELLED,
        )
        self.api_key = w.Password(description="API key", style=_LABELLED, layout=_WIDE)
        # Show/hide: the typed key in a plain Text while shown (cleared when hidden or saved).
        self.api_key_shown = w.Text(description="API key", style=_LABELLED, layout=_WIDE)
        self.show_key = w.ToggleButton(
            description="Show", icon="eye", tooltip="Show or hide the typed key"
        )
        self.show_key.layout.width = "auto"
        self.show_key.observe(self._toggle_key, names="value")
        self.api_key_shown.observe(self._typed_shown_key, names="value")
        self.key_hint = w.HTML()
        self.base_url = w.Text(
            description="API address",
            placeholder="http://127.0.0.1:8000/v1",
            continuous_update=True,
            style=_LABELLED,
            layout=_WIDE,
        )
        self.preview = w.HTML()
        self.api_version = w.Text(description="api-version", style=_LABELLED)
        self.description = w.Text(
            description="Description", placeholder="what it is for", style=_LABELLED, layout=_WIDE
        )
        self.tags = w.Text(
            description="Tags", placeholder="comma-separated, e.g. local, fast", style=_LABELLED
        )
        self.leave_text = w.HTML()
        self.discard_button = _button("Discard them", self._discard, button_style="warning")
        self.keep_button = _button("Keep editing", self._keep_editing)
        self.leave_box = w.HBox([self.leave_text, self.discard_button, self.keep_button])
        self.save_button = _button("Save", self._save, button_style="primary", icon="save")
        self.close_button = _button("Close", lambda _: self.leave(self.hide))
        self.delete_button = _button("Delete…", self._ask_delete, button_style="danger")
        self.confirm_text = w.HTML()
        self.confirm_button = _button("Confirm", self._confirm_delete, button_style="danger")
        self.cancel_delete_button = _button("Cancel", self._cancel_delete)
        self.confirm_box = w.HBox(
            [self.confirm_text, self.confirm_button, self.cancel_delete_button]
        )
        self.message = w.HTML()

        self.check_model = w.Combobox(
            description="Check with",
            placeholder="model (empty: list models)",
            ensure_option=False,
            style=_LABELLED,
        )
        self.check_button = _button("Check", self._check, icon="check")
        self.check_result = w.HTML()

        self.models = w.SelectMultiple(description="Models", rows=6, style=_LABELLED)
        self.remove_button = _button("Remove", self._remove_models)
        self.fetch_button = _button("Fetch models", self._fetch, icon="download")
        self.fetched = w.SelectMultiple(description="Fetched", rows=6, style=_LABELLED)
        self.fetched_hint = w.HTML()
        self.add_picked_button = _button("Add selected", self._add_picked)
        self.manual_model = w.Text(
            description="Model id", placeholder="e.g. gpt-4o-mini", style=_LABELLED
        )
        self.add_manual_button = _button("Add", self._add_manual)
        self.models_message = w.HTML()
        self.models_box = w.VBox(
            [
                w.HBox([self.models, self.remove_button]),
                w.HBox([self.fetch_button]),
                w.HBox([self.fetched, self.add_picked_button]),
                self.fetched_hint,
                w.HBox([self.manual_model, self.add_manual_button]),
                self.models_message,
            ]
        )

        self.preset.observe(self._on_preset, names="value")
        for field in (self.base_url, self.type, self.api_version):
            field.observe(self._update_preview, names="value")
        super().__init__(
            [
                self.title,
                self.preset,
                self.preset_hint,
                self.name,
                self.type,
                w.HBox([self.api_key, self.api_key_shown, self.show_key, self.check_button]),
                self.key_hint,
                self.check_result,
                self.base_url,
                self.preview,
                self.check_model,
                self.api_version,
                self.description,
                self.tags,
                w.HBox([self.save_button, self.close_button, self.delete_button]),
                self.confirm_box,
                self.leave_box,
                self.message,
                self.models_box,
            ],
            layout=w.Layout(border="1px solid #8c959f", padding="6px", margin="6px 0"),
        )
        _show(self.api_key_shown, False)
        self.hide()

    # ---- modes --------------------------------------------------------------------------

    def hide(self) -> None:
        self._clear_key()
        _show(self, False)

    def leave(self, then: Callable[[], None]) -> None:
        """Do `then` (show another provider, a new form, close) — after asking, when
        the form holds edits not saved yet: they are never thrown away silently."""
        if not (self.layout.display != "none" and self.unsaved()):
            then()
            return
        self._leaving = then
        what = self.name.value.strip() or "the new provider"
        self.leave_text.value = status_html(f"Unsaved changes to {what}: discard them?", ok=False)
        _show(self.leave_box, True)

    def _discard(self, _: object) -> None:
        then, self._leaving = self._leaving, None
        _show(self.leave_box, False)
        if then is not None:
            then()

    def _keep_editing(self, _: object) -> None:
        self._leaving = None
        _show(self.leave_box, False)

    def _clear_key(self) -> None:
        self.show_key.value = False
        self.api_key.value = self.api_key_shown.value = ""

    def _toggle_key(self, change: dict[str, Any]) -> None:
        shown = bool(change["new"])
        self.api_key_shown.value = self.api_key.value if shown else ""
        _show(self.api_key_shown, shown)
        _show(self.api_key, not shown)
        self.show_key.description = "Hide" if shown else "Show"

    def _typed_shown_key(self, change: dict[str, Any]) -> None:
        if self.show_key.value:
            self.api_key.value = change["new"]

    def new(self) -> None:
        """Show an empty form for a new provider."""
        self.provider_id = None
        self._loading = True
        try:
            self.preset.value = ""
            self.name.value = self.base_url.value = self.api_version.value = ""
            self.description.value = self.tags.value = ""
            self.type.value = "openai"
        finally:
            self._loading = False
        self._clear_key()
        self.api_key.placeholder = "key, key1,key2 (rotated), env:VARNAME, or empty"
        self.title.value = "<b>New provider</b>"
        self.key_hint.value = self.preset_hint.value = ""
        self._reset_messages()
        self._layout()

    def edit(self, provider_id: str) -> None:
        """Show the form filled with the saved provider `provider_id`."""
        provider = self.runtime.provider(provider_id)  # reloads when the file changed
        self.provider_id = provider.id
        self._loading = True
        try:
            self.preset.value = ""
            self.name.value = provider.name
            self.type.value = provider.type
            self.base_url.value = provider.base_url
            self.api_version.value = provider.api_version or ""
            self.description.value = provider.description
            self.tags.value = ", ".join(provider.tags)
        finally:
            self._loading = False
        self._clear_key()
        self.api_key.placeholder = "leave empty to keep the stored key"
        self.title.value = (
            f"<b>Edit {html.escape(provider.name)}</b> <code>{html.escape(provider.id)}</code>"
        )
        self.key_hint.value = status_html(f"Stored key: {provider.key_hint}")
        self.preset_hint.value = ""
        self._reset_messages()
        self._load_models(provider)
        self._layout()

    def _reset_messages(self) -> None:
        for out in (self.message, self.check_result, self.models_message, self.confirm_text):
            out.value = ""
        self.fetched.options = ()
        self.fetched_hint.value = ""
        self._listed = None
        self.manual_model.value = ""
        self.check_model.value = ""
        self._leaving = None
        _show(self.leave_box, False)

    def _layout(self) -> None:
        editing = self.provider_id is not None
        _show(self.preset, not editing)
        _show(self.delete_button, editing)
        _show(self.models_box, editing)
        _show(self.confirm_box, False)
        _show(self.leave_box, False)
        self.save_button.description = "Save" if editing else "Add"
        self._update_preview()
        _show(self, True)

    def _load_models(self, provider: Provider) -> None:
        self.models.options = [
            (m.id if m.name in (None, m.id) else f"{m.name} ({m.id})", m.id)
            for m in provider.models
        ]
        self.check_model.options = tuple(provider.model_ids())
        known = set(provider.model_ids())
        self.fetched.options = [m for m in self.fetched.options if m not in known]

    # ---- live feedback ------------------------------------------------------------------

    def _on_preset(self, change: dict[str, Any]) -> None:
        if self._loading or not change["new"]:
            self.preset_hint.value = ""
            return
        preset = PRESETS[change["new"]]
        old = PRESETS.get(change["old"]) if change["old"] else None
        if not self.name.value.strip() or (old is not None and self.name.value == old.label):
            self.name.value = preset.label
        self.type.value = preset.type
        self.base_url.value = preset.base_url
        self.api_version.value = preset.api_version or ""
        self.preset_hint.value = status_html(preset.hint)

    def _update_preview(self, _: object = None) -> None:
        _show(self.api_version, _has_api_version(self.type.value))
        self.preview.value = preview_html(
            self.base_url.value, self.type.value, self.api_version.value
        )

    # ---- saving -------------------------------------------------------------------------

    def _changes(self) -> dict[str, Any]:
        """What the form would change on the saved provider (the key only when typed)."""
        stored = self.runtime.provider(self.provider_id) if self.provider_id else None
        fields: dict[str, Any] = {"name": self.name.value.strip(), "type": self.type.value}
        fields["base_url"] = self.base_url.value
        if _has_api_version(self.type.value):
            fields["api_version"] = self.api_version.value.strip() or None
        fields["description"] = self.description.value.strip()
        fields["tags"] = [tag.strip() for tag in self.tags.value.split(",") if tag.strip()]
        if self.api_key.value.strip():
            fields["api_key"] = self.api_key.value
        if stored is None:
            return {k: v for k, v in fields.items() if v or k not in ("description", "tags")}
        return {k: v for k, v in fields.items() if k == "api_key" or getattr(stored, k) != v}

    def draft(self) -> Provider:
        """The provider as the form describes it, saved or not: what Check tests.

        The address is normalised as saving would; the stored key is used unless
        one is typed. ConfigError says what is wrong with the form's values.
        """
        stored = self.runtime.provider(self.provider_id) if self.provider_id else None
        provider_type = self.type.value
        normalized = normalize_base_url(self.base_url.value, provider_type)
        fields: dict[str, Any] = (
            stored.model_dump(mode="python")
            if stored is not None
            else {"id": slugify(self.name.value) if self.name.value.strip() else "new-provider"}
        )
        fields.update(name=self.name.value.strip(), type=provider_type, base_url=normalized.url)
        if provider_type == "azure-openai":
            fields["api_version"] = self.api_version.value.strip() or normalized.api_version
        if self.api_key.value.strip():
            fields["api_key"] = self.api_key.value
        try:
            return Provider.model_validate(fields)
        except ValidationError as exc:
            raise ConfigError(f"The form is not valid: {describe_errors(exc, fields)}.") from None

    def unsaved(self) -> bool:
        """Whether the form holds changes not saved yet (a new provider always does)."""
        if self.provider_id is None:
            return bool(self.name.value.strip() or self.base_url.value.strip())
        try:
            return bool(self._changes())
        except CherryError:
            return True

    def save(self) -> bool:
        """Save the form (add or update); True when saved or there was nothing to save."""
        try:
            changes = self._changes()
            if self.provider_id is None:
                preset = self.preset.value or None
                if preset is not None and PRESETS[preset].type != changes["type"]:
                    preset = None
                provider, notes = self.runtime.registry.add(preset=preset, **changes)
                what = f"Added {provider.name} as {provider.id}."
                what += (
                    f" Chat with it as {provider.id}:{provider.models[0].id}."
                    if provider.models
                    else " Fetch or add its models below."
                )
            elif changes:
                provider, notes = self.runtime.registry.update(self.provider_id, **changes)
                what = f"Saved {provider.name} ({provider.id})."
            else:
                return True
        except CherryError as exc:
            self.message.value = status_html(exc.message, ok=False)  # the key stays for a retry
            return False
        self._clear_key()
        self.edit(provider.id)
        self.message.value = status_html(" ".join([what, *notes]), ok=True)
        self._on_change(None)
        return True

    def _save(self, _: object) -> None:
        self.save()

    # ---- check and models -----------------------------------------------------------------

    def _check(self, _: object) -> None:
        """Check the form's values as they are, saved or not; never saves (Cherry
        Studio's Check tests what is typed, and a failed check must leave no trace)."""
        model = self.check_model.value.strip() or None
        try:
            draft = self.draft()
        except CherryError as exc:
            self.check_result.value = status_html(exc.message, ok=False)
            return
        pending = self.unsaved()
        self.check_result.value = status_html("Checking…")
        try:
            result = self.runtime.check(draft, model)  # every key, one line each
        except Exception as exc:  # shown in the form, never as a traceback
            self.check_result.value = status_html(error_text(exc), ok=False)
            return
        ok = result.ok
        if self.provider_id is not None and not pending and self._on_checked is not None:
            self._on_checked(self.provider_id, ok)  # the list's status light
        note = ""
        if pending:
            action = "Add" if self.provider_id is None else "Save"
            text = f"Checked the values in the form, not saved yet: press {action}."
            note = f"<div>{status_html(text)}</div>"
        self.check_result.value = check_html(result) + key_checks_html(result) + note

    def _fetch(self, _: object) -> None:
        if self.provider_id is None:
            return
        self.models_message.value = status_html("Fetching models…")
        provider: Provider | None = None
        try:
            provider = self.runtime.provider(self.provider_id)
            fetched = self.runtime.fetch_models(self.provider_id)
        except Exception as exc:  # shown in the form, never as a traceback
            text = error_text(exc)
            if provider is not None and isinstance(exc, ProviderError):
                text += " " + diagnose(exc, provider)[1]
            self.models_message.value = status_html(text, ok=False)
            return
        known = set(provider.model_ids())
        self._listed = {m.id for m in fetched}
        new = [m.id for m in fetched if m.id not in known]
        self.fetched.options = new
        self.fetched.value = tuple(new)  # all new ones picked: "Add selected" adds them
        self.fetched_hint.value = status_html(
            "All new models are selected. Ctrl/⌘-click to leave some out, Shift-click for a "
            "range, then Add selected."
            if new
            else "Every model the upstream lists is added already."
        )
        self.models_message.value = status_html(
            f"{len(fetched)} models listed, {len(new)} not added yet.", ok=True
        )

    def _change_models(self, action: Callable[[str], Provider], done: str) -> None:
        assert self.provider_id is not None
        try:
            provider = action(self.provider_id)
        except CherryError as exc:
            self.models_message.value = status_html(exc.message, ok=False)
            return
        self._load_models(provider)
        self.models_message.value = status_html(done, ok=True)
        self._on_change(None)

    def _add_picked(self, _: object) -> None:
        picked = list(self.fetched.value)
        if not picked:
            self.models_message.value = status_html("Select fetched models to add first.")
            return
        registry = self.runtime.registry
        self._change_models(
            lambda pid: registry.add_models(pid, picked), f"Added {', '.join(picked)}."
        )

    def _add_manual(self, _: object) -> None:
        model = self.manual_model.value.strip()
        if not model:
            self.models_message.value = status_html("Type a model id to add.")
            return
        registry = self.runtime.registry
        if self._listed is None:
            try:  # one request, so a typo is caught now rather than at the first chat
                self._listed = {m.id for m in self.runtime.fetch_models(self.provider_id or "")}
            except Exception:  # cannot tell: add it anyway, and say so
                self._listed = None
        self._change_models(lambda pid: registry.add_models(pid, [model]), f"Added {model}.")
        self.manual_model.value = ""
        if self._listed is None:
            self.models_message.value = status_html(
                f"Added {model}; the upstream's model list could not be read to confirm it."
            )
        elif model not in self._listed:
            self.models_message.value = status_html(
                f"Added {model}, but the upstream does not list it: check the spelling "
                "(Fetch models shows what it lists). Some servers serve models they do not list.",
                ok=False,
            )

    def _remove_models(self, _: object) -> None:
        doomed = list(self.models.value)
        if not doomed:
            self.models_message.value = status_html("Select models to remove first.")
            return
        registry = self.runtime.registry
        self._change_models(
            lambda pid: registry.remove_models(pid, doomed), f"Removed {', '.join(doomed)}."
        )

    # ---- delete -------------------------------------------------------------------------

    def _ask_delete(self, _: object) -> None:
        assert self.provider_id is not None
        stored = self.runtime.provider(self.provider_id)
        self.confirm_text.value = status_html(
            f"Really delete {stored.name} ({stored.id})?", ok=False
        )
        _show(self.confirm_box, True)

    def _cancel_delete(self, _: object) -> None:
        _show(self.confirm_box, False)
        self.confirm_text.value = ""

    def _confirm_delete(self, _: object) -> None:
        assert self.provider_id is not None
        try:
            removed = self.runtime.registry.delete(self.provider_id)
        except CherryError as exc:
            self.message.value = status_html(exc.message, ok=False)
            return
        self.provider_id = None
        self.hide()
        self._on_change(f"Deleted {removed.name} ({removed.id}).")


# ---- the manager ----------------------------------------------------------------------


class ProviderManager(w.VBox):
    """Cherry Studio's settings page: the provider list on the left (status light from
    the last Check, enable switch, greyed when off) and the selected provider's form
    on the right; local server detection below the list."""

    #: Seconds between checks for changes made elsewhere (code, another process).
    watch_interval = 1.0

    def __init__(
        self,
        runtime: Runtime,
        *,
        local_ports: Mapping[str, int] | None = None,
        watch: bool = True,
    ) -> None:
        self.runtime = runtime
        self._seen: Config | None = None  # the snapshot the list shows
        self._lock = threading.RLock()
        self._halt = threading.Event()
        self.local_ports = local_ports
        self.switches: dict[str, w.Checkbox] = {}
        self.edit_buttons: dict[str, w.Button] = {}
        self.lights: dict[str, bool] = {}  # provider id -> whether its last Check passed
        self.detected_servers: list[LocalServer] = []
        self.detect_add_buttons: list[w.Button] = []

        self.header = w.HTML()
        self.rows = w.VBox()
        self.message = w.HTML()
        self.add_button = _button(
            "Add provider", lambda _: self.form.leave(self.form.new), icon="plus"
        )
        self.detect_button = _button("Detect local servers", self._detect, icon="search")
        self.detected = w.VBox()
        self.form = ProviderForm(runtime, self._changed, self._checked)
        self.form.layout.flex = "1 1 55%"
        self.form.layout.min_width = "360px"
        left = w.VBox(
            [self.rows, w.HBox([self.add_button, self.detect_button]), self.detected],
            layout=w.Layout(flex="1 1 45%", min_width="300px", margin="6px 8px 0 0"),
        )
        super().__init__(
            [
                self.header,
                self.message,
                w.HBox([left, self.form], layout=w.Layout(flex_flow="row wrap")),
            ]
        )
        self.refresh()
        if watch:
            threading.Thread(
                target=self._watch, name="cherry-nb-provider-manager", daemon=True
            ).start()

    def _watch(self) -> None:
        """Redraw the list when the config changes from code in this kernel (a new
        snapshot) or from another process (the file): a light poll, one `stat` a
        second, that stops when the manager is closed."""
        registry = self.runtime.registry
        while not self._halt.wait(self.watch_interval):
            try:
                registry.reload_if_changed()
                if registry.config is not self._seen:
                    self.refresh()
            except Exception:  # reported by refresh() when it matters; never kill the thread
                log.debug("provider manager refresh failed", exc_info=True)

    def close(self) -> None:
        """Close the manager and every widget in it."""
        self._halt.set()
        for child in self.children:
            close_tree(child)
        super().close()

    def _changed(self, message: str | None = None) -> None:
        self.refresh()
        if message is not None:
            self.message.value = status_html(message, ok=True)

    def refresh(self) -> None:
        """Redraw the provider list from the config file."""
        with self._lock:
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        try:
            self.runtime.registry.reload_if_changed()
        except CherryError as exc:
            self.message.value = status_html(exc.message, ok=False)
        config = self.runtime.registry.config
        self._seen = config
        switches: dict[str, w.Checkbox] = {}
        edit_buttons: dict[str, w.Button] = {}
        rows: list[w.Widget] = []
        for provider in config.providers:
            switch = w.Checkbox(
                value=provider.enabled,
                description="on" if provider.enabled else "off",
                indent=False,
                tooltip="Enabled: offered to %%chat and served by the gateway",
                layout=w.Layout(width="52px", flex="0 0 auto"),
            )
            switch.observe(partial(self._toggle, provider.id), names="value")
            edit = _button("Edit", partial(self._edit, provider.id), icon="pencil")
            line = provider_line_html(provider, self.lights.get(provider.id))
            row = w.HBox([switch, w.HTML(line), edit])
            switches[provider.id], edit_buttons[provider.id] = switch, edit
            rows.append(row)
        if not rows:
            rows = [w.HTML(status_html("No providers yet: add one, or detect a local server."))]
        # Swapped whole (the watcher redraws from its thread while others read them).
        self.switches, self.edit_buttons = switches, edit_buttons
        replace_children(self.rows, rows)
        default = config.default_model or "none"
        self.header.value = (
            f"<b>Providers</b> "
            f"{status_html(f'({self.runtime.registry.path} · default model: {default})')}"
        )

    def _edit(self, provider_id: str, _: object = None) -> None:
        def show() -> None:
            try:
                self.form.edit(provider_id)
            except CherryError as exc:
                self.message.value = status_html(exc.message, ok=False)

        self.form.leave(show)

    def _checked(self, provider_id: str, ok: bool) -> None:
        """A saved provider's Check finished: its light in the list says how."""
        self.lights[provider_id] = ok
        self.refresh()

    def _toggle(self, provider_id: str, change: dict[str, Any]) -> None:
        registry = self.runtime.registry
        try:
            if change["new"]:
                registry.enable(provider_id)
            else:
                registry.disable(provider_id)
        except CherryError as exc:
            self.message.value = status_html(exc.message, ok=False)
            return
        state = "enabled" if change["new"] else "disabled"
        self.message.value = status_html(f"{provider_id} {state}.", ok=True)
        self.refresh()  # the switch's label and the greyed line

    # ---- local servers ------------------------------------------------------------------

    def _detect(self, _: object) -> None:
        probing = w.HTML(status_html("Probing 127.0.0.1…"))
        replace_children(self.detected, [probing])
        try:
            self.detected_servers = self.runtime.detect_local_servers(self.local_ports)
        except Exception as exc:  # shown in the panel, never as a traceback
            probing.value = status_html(error_text(exc), ok=False)
            return
        self.detect_add_buttons = []
        known = {p.base_url: p.id for p in self.runtime.registry.config.providers}
        rows: list[w.Widget] = []
        for server in self.detected_servers:
            add = _button("Add", partial(self._add_detected, server), icon="plus")
            if server.base_url in known:
                add.disabled, add.description = True, f"Added as {known[server.base_url]}"
            label = w.HTML(local_server_html(server))
            self.detect_add_buttons.append(add)
            rows.append(w.HBox([label, add]))
        if not rows:
            ports = LOCAL_SERVER_PORTS if self.local_ports is None else self.local_ports
            listed = ", ".join(f"{key} {port}" for key, port in ports.items())
            rows = [w.HTML(status_html(f"No local server answered on 127.0.0.1 ({listed})."))]
        replace_children(self.detected, rows)

    def _add_detected(self, server: LocalServer, _: object = None) -> None:
        try:
            provider, _ = self.runtime.registry.add(
                name=server.label, type="openai", base_url=server.base_url, models=server.models
            )
        except CherryError as exc:
            self.message.value = status_html(exc.message, ok=False)
            return
        index = self.detected_servers.index(server)
        button = self.detect_add_buttons[index]
        button.disabled, button.description = True, f"Added as {provider.id}"
        extra = " It needs a key: type it in the form below." if server.needs_key else ""
        self.refresh()
        self.form.leave(lambda: self.form.edit(provider.id))
        self.message.value = status_html(f"Added {provider.name} as {provider.id}.{extra}", ok=True)


def setup(runtime: Runtime | None = None) -> ProviderManager:
    """The provider manager (`%chat setup`); display it, or leave it last in a cell."""
    return ProviderManager(runtime or get_runtime())


def _has_api_version(provider_type: str) -> bool:
    """Whether providers of this kind take an api version (Azure)."""
    kind = KINDS.get(provider_type)
    return kind is not None and kind.api_version_param is not None
