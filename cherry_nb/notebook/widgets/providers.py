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
from ...config.models import PROVIDER_TYPES, Config, Provider
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

    def __init__(self, runtime: Runtime, on_change: Callable[[str | None], None]) -> None:
        self.runtime = runtime
        self._on_change = on_change
        self.provider_id: str | None = None  # None: adding a new provider
        self._loading = False

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
        self.save_button = _button("Save", self._save, button_style="primary", icon="save")
        self.close_button = _button("Close", lambda _: self.hide())
        self.delete_button = _button("Delete…", self._ask_delete, button_style="danger")
        self.confirm_text = w.HTML()
        self.confirm_button = _button("Confirm", self._confirm_delete, button_style="danger")
        self.cancel_delete_button = _button("Cancel", self._cancel_delete)
        self.confirm_box = w.HBox(
            [self.confirm_text, self.confirm_button, self.cancel_delete_button]
        )
        self.message = w.HTML()

        self.check_model = w.Combobox(
            description="Check",
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
                self.api_key,
                self.key_hint,
                self.base_url,
                self.preview,
                self.api_version,
                w.HBox([self.save_button, self.close_button, self.delete_button]),
                self.confirm_box,
                self.message,
                w.HBox([self.check_model, self.check_button]),
                self.check_result,
                self.models_box,
            ],
            layout=w.Layout(border="1px solid #8c959f", padding="6px", margin="6px 0"),
        )
        self.hide()

    # ---- modes --------------------------------------------------------------------------

    def hide(self) -> None:
        self.api_key.value = ""
        _show(self, False)

    def new(self) -> None:
        """Show an empty form for a new provider."""
        self.provider_id = None
        self._loading = True
        try:
            self.preset.value = ""
            self.name.value = self.base_url.value = self.api_version.value = ""
            self.type.value = "openai"
        finally:
            self._loading = False
        self.api_key.value = ""
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
        finally:
            self._loading = False
        self.api_key.value = ""
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
        self.manual_model.value = ""
        self.check_model.value = ""

    def _layout(self) -> None:
        editing = self.provider_id is not None
        _show(self.preset, not editing)
        _show(self.delete_button, editing)
        _show(self.models_box, editing)
        _show(self.confirm_box, False)
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
        _show(self.api_version, self.type.value == "azure-openai")
        self.preview.value = preview_html(
            self.base_url.value, self.type.value, self.api_version.value
        )

    # ---- saving -------------------------------------------------------------------------

    def _changes(self) -> dict[str, Any]:
        """What the form would change on the saved provider (the key only when typed)."""
        stored = self.runtime.provider(self.provider_id) if self.provider_id else None
        fields: dict[str, Any] = {"name": self.name.value.strip(), "type": self.type.value}
        fields["base_url"] = self.base_url.value
        if self.type.value == "azure-openai":
            fields["api_version"] = self.api_version.value.strip() or None
        if self.api_key.value.strip():
            fields["api_key"] = self.api_key.value
        if stored is None:
            return fields
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
        self.api_key.value = ""
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
            result = self.runtime.check(draft, model)
        except Exception as exc:  # shown in the form, never as a traceback
            self.check_result.value = status_html(error_text(exc), ok=False)
            return
        note = ""
        if pending:
            action = "Add" if self.provider_id is None else "Save"
            text = f"Checked the values in the form, not saved yet: press {action}."
            note = f"<div>{status_html(text)}</div>"
        self.check_result.value = check_html(result) + note

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
        new = [m.id for m in fetched if m.id not in known]
        self.fetched.options = new
        self.models_message.value = status_html(
            f"{len(fetched)} models listed, {len(new)} not added yet: pick them above.", ok=True
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
        self._change_models(lambda pid: registry.add_models(pid, [model]), f"Added {model}.")
        self.manual_model.value = ""

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
    """The provider list with enable switches, the add/edit form and local server detection."""

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
        self.detected_servers: list[LocalServer] = []
        self.detect_add_buttons: list[w.Button] = []

        self.header = w.HTML()
        self.rows = w.VBox()
        self.message = w.HTML()
        self.add_button = _button("Add provider", lambda _: self.form.new(), icon="plus")
        self.detect_button = _button("Detect local servers", self._detect, icon="search")
        self.detected = w.VBox()
        self.form = ProviderForm(runtime, self._changed)
        super().__init__(
            [
                self.header,
                self.rows,
                w.HBox([self.add_button, self.detect_button]),
                self.message,
                self.detected,
                self.form,
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
            switch = w.Checkbox(value=provider.enabled, indent=False, layout=w.Layout(width="28px"))
            switch.observe(partial(self._toggle, provider.id), names="value")
            edit = _button("Edit", partial(self._edit, provider.id), icon="pencil")
            row = w.HBox([switch, w.HTML(provider_line_html(provider)), edit])
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
        try:
            self.form.edit(provider_id)
        except CherryError as exc:
            self.message.value = status_html(exc.message, ok=False)

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
        self.form.edit(provider.id)
        self.message.value = status_html(f"Added {provider.name} as {provider.id}.{extra}", ok=True)


def setup(runtime: Runtime | None = None) -> ProviderManager:
    """The provider manager (`%chat setup`); display it, or leave it last in a cell."""
    return ProviderManager(runtime or get_runtime())
