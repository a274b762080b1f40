"""ProviderRegistry: the one place providers are changed.

Widgets, magics, the CLI and the gateway all go through it, so every change is
validated the same way and saved at once. Base URLs are stored normalised (so the
file shows the clean base, and a pasted Azure deployment URL's api-version and
deployment land in their own fields); the adapters normalise again at use, by the
same idempotent rules, so a hand-written address works the same. The snapshot
in `registry.config` is never modified in place: each change builds and
validates a new Config, saves it, then swaps the reference, so a gateway thread
reading it sees either the old or the new config, never half of a change. Each
change is a read-modify-write under the file's cross-process lock, so another
process's change made meanwhile is never lost.

Ephemeral providers (`add_ephemeral`) live in this process only, overlaid on
the file's providers: a kernel's own offline simulator, whose address dies with
the kernel, so it must never reach a config file other kernels read. They can
be changed like any other provider; changes to them are never saved.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from .._exceptions import ConfigError, ConfigFileError, UnknownProviderError
from .._secrets import is_secret_header, register_secret, strip_userinfo
from .groups import check_group_id, check_members, check_strategy, group_index
from .ids import PROVIDER_ID_RE, is_reserved_id
from .kinds import get_kind
from .models import (
    Config,
    GatewayKey,
    ModelEntry,
    ModelGroup,
    Provider,
    ProviderType,
    ServerSettings,
    split_model_ref,
)
from .presets import get_preset
from .store import (
    SETTLE_SECONDS,
    config_lock,
    config_path,
    describe_errors,
    load_config,
    provider_to_dict,
    save_config,
)
from .urls import PLACEHOLDER_RESOURCE, normalize_base_url

T = TypeVar("T")
ModelSpec = str | Mapping[str, Any] | ModelEntry

EXPORT_VERSION = 1
GATEWAY_KEY_PREFIX = "cs-sk-"
MAX_SLUG_LENGTH = 56  # leaves room for a -NN suffix within the 64-character limit


def slugify(name: str) -> str:
    """A readable provider id from a display name: "My Custom OpenAI" -> "my-custom-openai"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()
    return slug[:MAX_SLUG_LENGTH].rstrip("-") or "provider"


class ProviderRegistry:
    """Load, change and save the providers of one config file; safe to share between threads."""

    def __init__(self, path: Path | None = None) -> None:
        self.path: Path = Path(path) if path is not None else config_path()
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        self._file_config = load_config(self.path)
        self._ephemeral: dict[str, Provider] = {}
        self._ephemeral_default: str | None = None
        self._config = self._file_config
        # An invalid file seen by a non-waiting reload: its stamp, when it was first
        # seen, and whether it was reported (once per version of the file).
        self._bad_stamp: tuple[int, int, int] | None = None
        self._bad_since = 0.0
        self._bad_reported = False

    def __repr__(self) -> str:
        ids = ", ".join(p.id for p in self._config.providers) or "no providers"
        return f"<ProviderRegistry {self.path} ({ids})>"

    @property
    def config(self) -> Config:
        """The current snapshot. Treat it as read-only: change things through the registry."""
        return self._config

    def get(self, provider_id: str) -> Provider:
        """A copy of one provider; UnknownProviderError lists the ids there are."""
        return self._config.provider(provider_id).model_copy(deep=True)

    # ---- ephemeral providers --------------------------------------------------------

    def add_ephemeral(self, provider: Provider) -> Provider:
        """Add (or replace) a provider that lives in this process only, never saved.

        It shadows a saved provider with the same id, which stays in the file.
        """
        with self._lock:
            self._ephemeral[provider.id] = provider.model_copy(deep=True)
            self._config = self._merged(self._file_config)
        return self.get(provider.id)

    def remove_ephemeral(self, provider_id: str) -> None:
        """Forget an ephemeral provider (and the in-memory default pointing at it)."""
        with self._lock:
            self._ephemeral.pop(provider_id, None)
            default = self._ephemeral_default
            if default is not None and default.startswith(f"{provider_id}:"):
                self._ephemeral_default = None
            self._config = self._merged(self._file_config)

    def is_ephemeral(self, provider_id: str) -> bool:
        return provider_id in self._ephemeral

    def saved(self) -> Config:
        """The config as the file holds it, without ephemeral providers."""
        return self._file_config

    def _merged(self, file_config: Config) -> Config:
        """`file_config` with the ephemeral providers overlaid (they win on ids)."""
        if not self._ephemeral and self._ephemeral_default is None:
            return file_config
        providers = [p for p in file_config.providers if p.id not in self._ephemeral]
        providers += self._ephemeral.values()
        default = self._ephemeral_default or file_config.default_model
        return file_config.model_copy(update={"providers": providers, "default_model": default})

    # ---- reloading ------------------------------------------------------------------

    def reload_if_changed(self, *, wait: bool = True) -> bool:
        """Reload when another process changed the file (one os.stat when it did not).

        An invalid file may be mid-save, so it is looked at again after a short pause:
        with `wait`, by sleeping (kernel, CLI); without, at a later call (the gateway's
        event loop must not sleep), so the first sighting is not reported. A file that
        stays invalid raises ConfigFileError once; the last good snapshot stays in use
        and the file is left where it is.
        """
        with self._lock:
            return self._reload_locked(wait=wait)

    def _reload_locked(self, *, wait: bool) -> bool:
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return False
        if stamp == self._bad_stamp and (
            self._bad_reported or (not wait and time.monotonic() < self._bad_since + SETTLE_SECONDS)
        ):
            return False
        try:
            config = load_config(self.path, settle=SETTLE_SECONDS if wait else 0)
        except ConfigFileError:
            now = self._file_stamp()
            if not wait and now != self._bad_stamp:
                self._bad_stamp, self._bad_since, self._bad_reported = now, time.monotonic(), False
                return False  # perhaps half-saved: look again after a pause
            self._bad_stamp, self._bad_reported = now, True
            raise
        self._file_config, self._stamp = config, stamp
        self._config = self._merged(config)
        return True

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    # ---- the single write path ---------------------------------------------------------

    def _mutate(self, change: Callable[[dict[str, Any]], T]) -> T:
        """Apply `change` to a copy of the config, validate, save, then swap it in.

        If anything fails, the snapshot and the file are left as they were. The file's
        lock is held from reading to saving, so no other writer's change is lost; an
        invalid file is never replaced (ConfigFileError, nothing changed). `change`
        sees ephemeral providers too; what it does to them stays in memory, and the
        file is not written when only they changed.
        """
        with self._lock, config_lock(self.path):
            if self._file_stamp() != self._stamp:  # another process saved meanwhile
                try:
                    self._file_config = load_config(self.path)
                except ConfigFileError as exc:
                    raise ConfigFileError(
                        f"{exc.message} Nothing was changed.", path=exc.path
                    ) from None
                self._config = self._merged(self._file_config)
                self._stamp = self._file_stamp()
            data = self._config.model_dump(mode="python")
            if self._ephemeral_default is not None:
                data["default_model"] = self._file_config.default_model
            ephemeral = {id(e) for e in data["providers"] if e["id"] in self._ephemeral}
            old_default = data.get("default_model")
            result = change(data)
            try:
                Config.model_validate(data)  # the whole picture, ids unique across both
                file_data, kept, default = self._split(data, ephemeral, old_default)
                file_config = Config.model_validate(file_data)
            except ValidationError as exc:
                raise ConfigError(
                    f"That change is not valid: {describe_errors(exc, data)}. Nothing was changed."
                ) from None
            if file_config != self._file_config:
                try:
                    save_config(file_config, self.path)
                except OSError as exc:
                    raise ConfigError(
                        f"Could not save the config file {self.path}: "
                        f"{exc.strerror or type(exc).__name__}. Nothing was changed."
                    ) from None
                self._stamp = self._file_stamp()
            self._file_config = file_config
            self._ephemeral = {p.id: p for p in kept}
            self._ephemeral_default = default
            self._config = self._merged(file_config)
            return result

    def _split(
        self, data: dict[str, Any], ephemeral: set[int], old_default: Any
    ) -> tuple[dict[str, Any], list[Provider], str | None]:
        """Split changed data into what the file keeps, the ephemeral providers (the
        entries that were ephemeral before the change, by identity) and the in-memory
        default model (set when the change pointed the default at one of them)."""
        entries = data["providers"]
        kept = [Provider.model_validate(e) for e in entries if id(e) in ephemeral]
        kept_ids = {p.id for p in kept}
        saved = [e for e in entries if id(e) not in ephemeral]
        saved_ids = {e["id"] for e in saved}
        # Saved providers an ephemeral one shadowed stay in the file, where they were.
        for index, provider in enumerate(self._file_config.providers):
            if provider.id in self._ephemeral and provider.id not in saved_ids:
                saved.insert(index, provider.model_dump(mode="python"))
        file_data = {**data, "providers": saved}
        default = data.get("default_model")
        ephemeral_default = self._ephemeral_default
        if isinstance(default, str) and default.partition(":")[0] in kept_ids:
            if default != old_default:
                ephemeral_default = default
            file_data["default_model"] = self._file_config.default_model
        elif default != old_default:
            ephemeral_default = None  # the user chose a saved default
        if ephemeral_default is not None and ephemeral_default.partition(":")[0] not in kept_ids:
            ephemeral_default = None
        return file_data, kept, ephemeral_default

    # ---- providers ----------------------------------------------------------------------

    def add(
        self,
        *,
        name: str,
        type: ProviderType | None = None,  # the config field's name
        base_url: str | None = None,
        api_key: str = "",
        id: str | None = None,  # the config field's name
        models: Iterable[ModelSpec] = (),
        preset: str | None = None,
        headers: Mapping[str, str] | None = None,
        api_version: str | None = None,
        description: str = "",
        tags: Iterable[str] = (),
        enabled: bool = True,
    ) -> tuple[Provider, tuple[str, ...]]:
        """Add a provider and save; returns it and the notes about its base URL.

        `type` defaults to the preset's, else "openai"; explicit arguments win over
        the preset. The id is derived from the name when not given.
        """
        api_key = api_key or ""  # callers such as argparse may pass None
        chosen = get_preset(preset) if preset is not None else None
        provider_type: ProviderType = type or (chosen.type if chosen else "openai")
        kind = get_kind(provider_type)
        if base_url is None:
            if chosen is None:
                raise ConfigError(
                    "Give the provider a base_url (e.g. http://127.0.0.1:8000/v1) or a preset."
                )
            if chosen.base_url_is_placeholder:
                raise ConfigError(
                    f"The {chosen.key} preset needs your own address: pass base_url="
                    f"{chosen.base_url} with {PLACEHOLDER_RESOURCE} replaced by your "
                    "resource's name."
                )
            base_url = chosen.base_url
        if not isinstance(name, str) or not (name.strip() or id):
            raise ConfigError("Give the provider a name (e.g. 'My vLLM').")

        entry: dict[str, Any] = {
            "name": name.strip(),
            "type": provider_type,
            "base_url": base_url,
            "api_key": api_key,
            "enabled": enabled,
            "models": _model_items(models or ()),
            "description": description,
            "tags": _string_list(tags),
            "headers": dict(headers or {}),
            "api_version": api_version,
        }
        notes = _set_address(entry, base_url, keep_api_version=api_version is not None)
        if entry["api_version"] is None and kind.api_version_param is not None:
            if chosen is not None and chosen.type == provider_type:
                entry["api_version"] = chosen.api_version
        if chosen is not None and chosen.needs_key and not api_key.strip():
            notes.append(
                f"{chosen.label} needs an API key: add one with update(..., api_key=...) "
                "or use env:VARNAME."
            )

        def change(data: dict[str, Any]) -> str:
            taken = {p["id"] for p in data["providers"]}
            if id is None:
                provider_id = _unique(slugify(name), taken)
            elif id in taken:
                raise ConfigError(
                    f"A provider with id {id!r} already exists; choose another id, "
                    "or change that provider with update()."
                )
            else:
                provider_id = id
            data["providers"].append({"id": provider_id, **entry})
            return provider_id

        provider_id = self._mutate(change)
        return self.get(provider_id), tuple(notes)

    def update(self, provider_id: str, **changes: Any) -> tuple[Provider, tuple[str, ...]]:
        """Change any Provider field and save; returns the provider and base-URL notes.

        Changing `id` renames the provider (and the default model pointing at it);
        changing `type` re-normalises the base URL for the new protocol.
        """
        unknown = sorted(set(changes) - set(Provider.model_fields))
        if unknown:
            raise ConfigError(
                f"Providers have no field {unknown[0]!r}; "
                f"the fields are: {', '.join(Provider.model_fields)}."
            )
        notes: list[str] = []

        def change(data: dict[str, Any]) -> str:
            entry = data["providers"][_index(data, provider_id)]
            old_type = entry["type"]
            for field, value in changes.items():
                entry[field] = _field_value(field, value)
            if "base_url" in changes or entry["type"] != old_type:
                keep = "api_version" in changes
                notes.extend(_set_address(entry, entry["base_url"], keep_api_version=keep))
            new_id = entry["id"]
            if new_id != provider_id:
                if any(p["id"] == new_id for p in data["providers"] if p is not entry):
                    raise ConfigError(
                        f"Cannot rename {provider_id!r} to {new_id!r}: that id is taken."
                    )
                default = data.get("default_model")
                if isinstance(default, str) and default.startswith(f"{provider_id}:"):
                    data["default_model"] = new_id + default[len(provider_id) :]
                for group in data["groups"]:  # members follow the renamed provider
                    group["models"] = [
                        new_id + m[len(provider_id) :] if m.startswith(f"{provider_id}:") else m
                        for m in group["models"]
                    ]
            return new_id

        new_id = self._mutate(change)
        return self.get(new_id), tuple(notes)

    def enable(self, provider_id: str) -> Provider:
        """Expose the provider again (gateway, model lists)."""
        return self.update(provider_id, enabled=True)[0]

    def disable(self, provider_id: str) -> Provider:
        """Hide the provider everywhere without forgetting its settings."""
        return self.update(provider_id, enabled=False)[0]

    def delete(self, provider_id: str) -> Provider:
        """Remove the provider (and the default model if it was one of its models)."""

        def change(data: dict[str, Any]) -> Provider:
            removed = data["providers"].pop(_index(data, provider_id))
            default = data.get("default_model")
            if isinstance(default, str) and default.startswith(f"{provider_id}:"):
                data["default_model"] = None
            return Provider.model_validate(removed)

        return self._mutate(change)

    # ---- models -------------------------------------------------------------------------

    def add_models(self, provider_id: str, models: Iterable[ModelSpec]) -> Provider:
        """Append models the provider does not list yet (by id), keeping the order."""
        new_items = _model_items(models)

        def change(data: dict[str, Any]) -> None:
            entry = data["providers"][_index(data, provider_id)]
            known = {m["id"] for m in entry["models"]}
            entry["models"].extend(m for m in new_items if m["id"] not in known)

        self._mutate(change)
        return self.get(provider_id)

    def remove_models(self, provider_id: str, model_ids: Iterable[str]) -> Provider:
        """Remove models by id; ConfigError (nothing removed) if one is not listed."""
        doomed = [model_ids] if isinstance(model_ids, str) else list(model_ids)

        def change(data: dict[str, Any]) -> None:
            entry = data["providers"][_index(data, provider_id)]
            known = [m["id"] for m in entry["models"]]
            missing = [m for m in doomed if m not in known]
            if missing:
                raise ConfigError(
                    f"Provider {provider_id!r} has no model {missing[0]!r} "
                    f"(its models: {', '.join(known) or 'none'})."
                )
            entry["models"] = [m for m in entry["models"] if m["id"] not in set(doomed)]

        self._mutate(change)
        return self.get(provider_id)

    def set_default_model(self, ref: str | None) -> None:
        """Set (or clear, with None) the `provider-id:model-id` used when none is given."""
        if ref is not None:
            provider_id, _ = split_model_ref(ref.strip())

        def change(data: dict[str, Any]) -> None:
            if ref is not None:
                _index(data, provider_id)
            data["default_model"] = ref.strip() if ref is not None else None

        self._mutate(change)

    # ---- model groups -------------------------------------------------------------------

    def groups(self) -> list[ModelGroup]:
        """Copies of the model groups, in the config's order."""
        return [g.model_copy(deep=True) for g in self._config.groups]

    def add_group(
        self, group_id: str, models: Iterable[str], *, strategy: str = "fallback"
    ) -> ModelGroup:
        """Add a model group (members `provider-id:model-id` of configured providers)."""

        def change(data: dict[str, Any]) -> None:
            check_group_id(group_id, data)
            if any(g["id"] == group_id for g in data["groups"]):
                raise ConfigError(
                    f"A model group {group_id!r} already exists; change it with "
                    "update_group() (cherry-nb groups set) or choose another id."
                )
            entry = {
                "id": group_id,
                "models": check_members(models, data),
                "strategy": check_strategy(strategy),
            }
            data["groups"].append(entry)

        self._mutate(change)
        return self._group(group_id)

    def update_group(
        self,
        group_id: str,
        models: Iterable[str] | None = None,
        *,
        strategy: str | None = None,
    ) -> ModelGroup:
        """Replace a group's members and/or its strategy."""

        def change(data: dict[str, Any]) -> None:
            entry = data["groups"][group_index(data, group_id)]
            if models is not None:
                entry["models"] = check_members(models, data)
            if strategy is not None:
                entry["strategy"] = check_strategy(strategy)

        self._mutate(change)
        return self._group(group_id)

    def remove_group(self, group_id: str) -> ModelGroup:
        """Remove a model group; returns what it was."""

        def change(data: dict[str, Any]) -> ModelGroup:
            return ModelGroup.model_validate(data["groups"].pop(group_index(data, group_id)))

        return self._mutate(change)

    def _group(self, group_id: str) -> ModelGroup:
        group = next(g for g in self._config.groups if g.id == group_id)
        return group.model_copy(deep=True)

    # ---- gateway settings ---------------------------------------------------------------

    def set_server(self, **changes: Any) -> ServerSettings:
        """Change where the gateway listens or its key; returns the new settings."""
        unknown = sorted(set(changes) - set(ServerSettings.model_fields))
        if unknown:
            raise ConfigError(
                f"Server settings have no field {unknown[0]!r}; "
                f"the fields are: {', '.join(ServerSettings.model_fields)}."
            )

        def change(data: dict[str, Any]) -> None:
            data["server"].update(changes)

        self._mutate(change)
        return self._config.server.model_copy(deep=True)

    def add_gateway_key(self, name: str) -> str:
        """Issue a named gateway key (`cs-sk-` + 48 random hex digits), save it and
        return it: the only time the whole key is handed out."""
        name = name.strip() if isinstance(name, str) else name
        if not isinstance(name, str) or not PROVIDER_ID_RE.match(name):
            raise ConfigError(
                f"A gateway key's name is a readable slug of letters, digits, '.', '_' or '-' "
                f"(at most 64 characters), such as claude-code; not {name!r}."
            )
        key = GATEWAY_KEY_PREFIX + secrets.token_hex(24)
        register_secret(key)
        created = datetime.now(UTC).isoformat(timespec="seconds")

        def change(data: dict[str, Any]) -> None:
            keys = data["server"]["keys"]
            if any(k["name"] == name for k in keys):
                raise ConfigError(
                    f"A gateway key named {name!r} already exists. Revoke it first "
                    f"(cherry-nb keys revoke {name}) or choose another name."
                )
            keys.append({"name": name, "key": key, "created": created})

        self._mutate(change)
        return key

    def revoke_gateway_key(self, name: str) -> GatewayKey:
        """Remove a named gateway key; clients using it are refused from then on."""

        def change(data: dict[str, Any]) -> GatewayKey:
            keys = data["server"]["keys"]
            for index, entry in enumerate(keys):
                if entry["name"] == name:
                    return GatewayKey.model_validate(keys.pop(index))
            names = ", ".join(k["name"] for k in keys) or "none"
            raise ConfigError(f"No gateway key named {name!r} (named keys: {names}).")

        return self._mutate(change)

    # ---- sharing ------------------------------------------------------------------------

    def export(
        self, ids: Iterable[str] | None = None, *, notes: list[str] | None = None
    ) -> dict[str, Any]:
        """Provider definitions to share, without secrets.

        Literal keys are left out (`env:VAR` references are kept: they name a variable,
        not a secret), as are credential headers and a `user:password@` in the address.
        What was left out is appended to `notes`, one sentence per provider.
        """
        config = self._config
        if ids is None:
            chosen = list(self._file_config.providers)  # not this process's ephemeral ones
        else:
            wanted = [ids] if isinstance(ids, str) else list(ids)
            chosen = [config.provider(pid) for pid in dict.fromkeys(wanted)]
        providers = []
        for provider in chosen:
            data = provider_to_dict(provider)
            data["api_key"] = provider.shareable_key
            data["base_url"] = strip_userinfo(provider.base_url)
            data["headers"] = {k: v for k, v in data["headers"].items() if not is_secret_header(k)}
            left_out = [
                what
                for what, dropped in (
                    ("its keys", data["api_key"] != provider.api_key),
                    (
                        "the user name and password in its address",
                        data["base_url"] != provider.base_url,
                    ),
                    ("its credential headers", data["headers"] != provider.headers),
                )
                if dropped
            ]
            if left_out and notes is not None:
                notes.append(f"{provider.id}: left out {_and(left_out)}.")
            providers.append(data)
        # The groups whose members are all among the exported providers.
        exported = {p.id for p in chosen}
        groups = [
            g.model_dump(mode="python")
            for g in config.groups
            if all(m.partition(":")[0] in exported for m in g.models)
        ]
        document: dict[str, Any] = {"version": EXPORT_VERSION, "providers": providers}
        if groups:
            document["groups"] = groups
        return document

    def import_(self, data: Mapping[str, Any], *, replace: bool = False) -> list[str]:
        """Add the providers of an exported document; returns their ids.

        The whole document is validated first; existing ids are refused unless
        `replace`, which keeps the stored key when the imported provider has none.
        """
        providers = data.get("providers") if isinstance(data, Mapping) else None
        if not isinstance(providers, list):
            raise ConfigError(
                'The import file must be a JSON object with a "providers" list, '
                "as written by export. Nothing was imported."
            )
        document = {
            "version": data.get("version", EXPORT_VERSION),
            "providers": providers,
            "groups": data.get("groups", []),
        }
        try:
            parsed = Config.model_validate(document)
            imported, groups = parsed.providers, parsed.groups
        except ValidationError as exc:
            raise ConfigError(
                f"The import file is invalid: {describe_errors(exc, document)}. "
                "Nothing was imported."
            ) from None
        entries = []
        for provider in imported:
            entry = provider.model_dump(mode="python")
            try:  # the same rules as add(): an Azure deployment URL's parts are kept too
                _set_address(
                    entry, provider.base_url, keep_api_version=provider.api_version is not None
                )
            except ConfigError as exc:
                raise ConfigError(
                    f"The import file is invalid: provider {provider.id!r}, field 'base_url': "
                    f"{exc.message} Nothing was imported."
                ) from None
            entries.append(entry)
        ids = [entry["id"] for entry in entries]

        def change(config: dict[str, Any]) -> None:
            existing = {p["id"]: i for i, p in enumerate(config["providers"])}
            clashes = [pid for pid in ids if pid in existing]
            if clashes and not replace:
                raise ConfigError(
                    f"Providers already configured: {', '.join(clashes)}. Import with "
                    "replace=True to overwrite them (their stored keys are kept when the "
                    "import has none of its own). Nothing was imported."
                )
            _import_groups(config, groups, replace=replace)
            for entry in entries:
                index = existing.get(entry["id"])
                if index is None:
                    config["providers"].append(entry)
                    continue
                entry["api_key"] = _keep_stored_keys(
                    entry["api_key"], config["providers"][index]["api_key"]
                )
                config["providers"][index] = entry

        self._mutate(change)
        return ids


# ---- helpers ----------------------------------------------------------------------------


def _import_groups(config: dict[str, Any], groups: list[ModelGroup], *, replace: bool) -> None:
    """Add (or with `replace`, overwrite) an imported document's model groups."""
    existing = {g["id"]: i for i, g in enumerate(config["groups"])}
    clashes = [g.id for g in groups if g.id in existing]
    if clashes and not replace:
        raise ConfigError(
            f"Model groups already configured: {', '.join(clashes)}. Import with "
            "replace=True to overwrite them. Nothing was imported."
        )
    for group in groups:
        entry = group.model_dump(mode="python")
        index = existing.get(group.id)
        if index is None:
            config["groups"].append(entry)
        else:
            config["groups"][index] = entry


def _set_address(entry: dict[str, Any], url: str, *, keep_api_version: bool) -> list[str]:
    """Store `url`, normalised for `entry`'s type, as its base_url, with what a pasted
    Azure deployment endpoint held: the api-version (unless `keep_api_version`) and the
    deployment as a model (unless listed). Returns the notes for the user."""
    normalized = normalize_base_url(url, entry["type"])
    entry["base_url"] = normalized.url
    notes = list(normalized.notes)
    if normalized.api_version and not keep_api_version:
        entry["api_version"] = normalized.api_version
        notes.append(f"Set api_version to {normalized.api_version}, found in the address.")
    deployment = normalized.deployment
    if deployment and deployment not in {m["id"] for m in entry["models"]}:
        entry["models"].append({"id": deployment})
        notes.append(f"Added the deployment {deployment!r} as a model.")
    return notes


def _keep_stored_keys(imported: str, stored: str) -> str:
    """An imported `api_key` with the stored literal keys added back when it has none of
    its own (exports never carry them): `env:` parts come from the import."""
    parts = [p for p in imported.split(",") if p.strip()]
    if any(not p.strip().startswith("env:") for p in parts):
        return imported
    literals = [p for p in stored.split(",") if p.strip() and not p.strip().startswith("env:")]
    if not parts:
        return stored
    return ",".join(parts + literals)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _index(data: dict[str, Any], provider_id: str) -> int:
    for i, provider in enumerate(data["providers"]):
        if provider["id"] == provider_id:
            return i
    raise UnknownProviderError(provider_id, [p["id"] for p in data["providers"]])


def _unique(base: str, taken: set[str]) -> str:
    """`base`, or `base-N`, neither taken nor a path segment the gateway keeps."""
    candidate, n = base, 1
    while candidate in taken or is_reserved_id(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _model_items(models: Iterable[ModelSpec]) -> list[dict[str, Any]]:
    """Model specs as dicts, deduplicated by id (first wins), order kept."""
    if isinstance(models, (str, Mapping, ModelEntry)):
        models = [models]
    items: dict[str, dict[str, Any]] = {}
    for spec in models:
        if isinstance(spec, ModelEntry):
            item = spec.model_dump(mode="python")
        elif isinstance(spec, str):
            item = {"id": spec.strip()}
        elif isinstance(spec, Mapping):
            item = dict(spec)
        else:
            raise ConfigError(
                "A model is a model id string or a dict such as {'id': 'gpt-4o', 'name': 'GPT-4o'}."
            )
        try:
            item = ModelEntry.model_validate(item).model_dump(mode="python")
        except ValidationError as exc:
            raise ConfigError(f"Invalid model: {describe_errors(exc, item)}.") from None
        items.setdefault(item["id"], item)
    return list(items.values())


def _string_list(values: Iterable[str] | None) -> list[str]:
    if values is None:
        return []
    return [values] if isinstance(values, str) else list(values)


def _field_value(field: str, value: Any) -> Any:
    """Accept the convenient forms for list and dict fields in update()."""
    if field == "models":
        return _model_items(value or ())
    if field == "tags":
        return _string_list(value)
    if field == "headers":
        return dict(value or {})
    return value
