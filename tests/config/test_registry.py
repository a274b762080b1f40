"""ProviderRegistry: every change validated, normalised, saved at once, and thread-safe."""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
import time
from pathlib import Path

import pytest

from cherry_nb._exceptions import ConfigError, ConfigFileError, UnknownProviderError
from cherry_nb.config import ProviderRegistry, slugify
from cherry_nb.config.models import Config
from cherry_nb.config.resolve import resolve_model
from cherry_nb.config.store import load_config

KEY = "sk-test-SECRET123456789"


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.json"
    monkeypatch.setenv("CHERRY_NB_CONFIG", str(path))
    return path


@pytest.fixture
def reg(cfg: Path) -> ProviderRegistry:
    return ProviderRegistry()


def on_disk(path: Path) -> dict:
    return json.loads(path.read_text())


def bump_mtime(path: Path) -> None:
    """Make an edit visible even on filesystems with coarse timestamps."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))


# ---- construction ----------------------------------------------------------------------


def test_uses_config_path_and_writes_nothing_until_a_change(cfg: Path) -> None:
    reg = ProviderRegistry()
    assert reg.path == cfg
    assert reg.config == Config()
    assert not cfg.exists()


def test_explicit_path(tmp_path: Path, cfg: Path) -> None:
    other = tmp_path / "elsewhere.json"
    reg = ProviderRegistry(other)
    reg.add(name="vLLM", preset="vllm")
    assert other.exists() and not cfg.exists()


def test_corrupt_file_at_start_raises(cfg: Path) -> None:
    cfg.write_text("{nope")
    with pytest.raises(ConfigFileError):
        ProviderRegistry()


# ---- slugs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("My Custom OpenAI", "my-custom-openai"),
        ("  DeepSeek  ", "deepseek"),
        ("vLLM @ GPU box #2", "vllm-gpu-box-2"),
        ("Café Relay", "cafe-relay"),
        ("本地模型", "provider"),
        ("!!!", "provider"),
        ("a" * 100, "a" * 56),
        ("llama.cpp", "llama-cpp"),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_ids_are_made_unique(reg: ProviderRegistry) -> None:
    ids = [reg.add(name="My Relay", base_url="https://r.example.com/v1")[0].id for _ in range(3)]
    assert ids == ["my-relay", "my-relay-2", "my-relay-3"]


# ---- add -------------------------------------------------------------------------------


def test_add_saves_at_once_with_normalised_url_and_notes(reg: ProviderRegistry, cfg: Path) -> None:
    provider, notes = reg.add(
        name="My Custom OpenAI",
        base_url="https://relay.example.com/v1/chat/completions",
        api_key=f"  {KEY}  ",
        models=["gpt-4o-mini", {"id": "o3", "name": "o3"}, "gpt-4o-mini"],
        tags=["team"],
    )
    assert provider.id == "my-custom-openai"
    assert provider.base_url == "https://relay.example.com/v1"
    assert any("full endpoint" in n for n in notes)
    assert provider.api_key == KEY
    assert provider.model_ids() == ["gpt-4o-mini", "o3"]
    written = on_disk(cfg)["providers"][0]
    assert written["base_url"] == "https://relay.example.com/v1"
    assert written["models"] == ["gpt-4o-mini", {"id": "o3", "name": "o3"}]
    assert written["tags"] == ["team"]
    if sys.platform != "win32":
        assert stat.S_IMODE(cfg.stat().st_mode) == 0o600


def test_add_from_preset_and_explicit_arguments_win(reg: ProviderRegistry) -> None:
    ollama, notes = reg.add(name="Ollama", preset="ollama")
    assert (ollama.type, ollama.base_url, ollama.api_key) == (
        "openai",
        "http://127.0.0.1:11434/v1",
        "",
    )
    assert notes == ()
    gpu, _ = reg.add(name="GPU box", preset="vllm", base_url="http://10.0.0.7:8000")
    assert gpu.base_url == "http://10.0.0.7:8000/v1"
    claude, notes = reg.add(name="Claude", preset="anthropic")
    assert claude.type == "anthropic"
    assert any("needs an API key" in n for n in notes)


def test_add_azure_preset_needs_the_real_address(reg: ProviderRegistry, cfg: Path) -> None:
    with pytest.raises(ConfigError, match="YOUR-RESOURCE"):
        reg.add(name="Azure", preset="azure-openai")
    placeholder = "https://YOUR-RESOURCE.openai.azure.com"
    for preset in ("azure-openai", None):  # the preset's own address, given explicitly
        with pytest.raises(ConfigError, match="placeholder YOUR-RESOURCE"):
            reg.add(name="Azure", type="azure-openai", preset=preset, base_url=placeholder)
    assert not cfg.exists()
    provider, _ = reg.add(
        name="Azure", preset="azure-openai", base_url="https://r.openai.azure.com"
    )
    assert provider.api_version == "2024-10-21"
    with pytest.raises(ConfigError, match="placeholder YOUR-RESOURCE"):
        reg.update(provider.id, base_url=placeholder)
    with pytest.raises(ConfigError, match="placeholder YOUR-RESOURCE"):
        reg.import_({"providers": [{"id": "imp", "type": "azure-openai", "base_url": placeholder}]})
    assert [(p.id, p.base_url) for p in reg.config.providers] == [
        (provider.id, "https://r.openai.azure.com")
    ]


def test_add_azure_deployment_endpoint_fills_version_and_model(reg: ProviderRegistry) -> None:
    provider, notes = reg.add(
        name="Azure",
        type="azure-openai",
        base_url="https://r.openai.azure.com/openai/deployments/prod-4o/chat/completions"
        "?api-version=2024-08-01-preview",
    )
    assert provider.base_url == "https://r.openai.azure.com"
    assert provider.api_version == "2024-08-01-preview"
    assert provider.model_ids() == ["prod-4o"]
    assert any("prod-4o" in n for n in notes)


def test_update_with_azure_deployment_endpoint(reg: ProviderRegistry) -> None:
    reg.add(name="Azure", preset="azure-openai", base_url="https://r.openai.azure.com")
    provider, notes = reg.update(
        "azure",
        base_url="https://r.openai.azure.com/openai/deployments/mini/chat/completions"
        "?api-version=2025-01-01-preview",
    )
    assert provider.base_url == "https://r.openai.azure.com"
    assert provider.api_version == "2025-01-01-preview"
    assert provider.model_ids() == ["mini"]
    assert any("mini" in n for n in notes)


def test_add_and_update_treat_a_deployment_endpoint_alike(reg: ProviderRegistry) -> None:
    endpoint = (
        "https://r.openai.azure.com/openai/deployments/mini/chat/completions"
        "?api-version=2025-01-01-preview"
    )
    added, add_notes = reg.add(
        name="A", type="azure-openai", base_url=endpoint, models=["big"], api_version="2024-06-01"
    )
    reg.add(name="B", type="azure-openai", base_url="https://r.openai.azure.com")
    updated, update_notes = reg.update(
        "b", base_url=endpoint, models=["big"], api_version="2024-06-01"
    )
    for provider in (added, updated):
        assert provider.base_url == "https://r.openai.azure.com"
        assert provider.api_version == "2024-06-01"  # given explicitly: kept
        assert provider.model_ids() == ["big", "mini"]  # the deployment joins the given models
    assert add_notes == update_notes
    assert any("deployment 'mini' as a model" in n for n in add_notes)
    assert not any("Set api_version" in n for n in add_notes)
    # import applies the same rules (the address was cut to its base and lost its parts).
    reg.import_({"providers": [{"id": "c", "type": "azure-openai", "base_url": endpoint}]})
    imported = reg.get("c")
    assert imported.base_url == "https://r.openai.azure.com"
    assert imported.api_version == "2025-01-01-preview" and imported.model_ids() == ["mini"]


def test_add_refusals_leave_the_file_untouched(reg: ProviderRegistry, cfg: Path) -> None:
    reg.add(name="one", id="one", base_url="https://a.example.com/v1")
    before = cfg.read_bytes()
    with pytest.raises(ConfigError, match="already exists"):
        reg.add(name="again", id="one", base_url="https://a.example.com/v1")
    with pytest.raises(ConfigError, match="slug"):
        reg.add(name="bad", id="has space", base_url="https://a.example.com/v1")
    with pytest.raises(ConfigError, match="Add http"):
        reg.add(name="bad", base_url="a.example.com")
    with pytest.raises(ConfigError, match="base_url"):
        reg.add(name="no url")
    with pytest.raises(ConfigError, match="Unknown preset"):
        reg.add(name="x", preset="nope")
    with pytest.raises(ConfigError, match="type"):
        reg.add(name="x", type="cohere", base_url="https://a.example.com")  # type: ignore[arg-type]
    assert cfg.read_bytes() == before
    assert [p.id for p in reg.config.providers] == ["one"]


def test_env_and_empty_keys(reg: ProviderRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    env, _ = reg.add(name="env", base_url="https://a.example.com/v1", api_key="env:TEAM_KEY")
    local, _ = reg.add(name="local", preset="vllm")
    assert env.key_hint == "env:TEAM_KEY"
    monkeypatch.setenv("TEAM_KEY", "from-env-123")
    assert reg.get("env").api_keys() == ["from-env-123"]
    assert local.api_key == "" and local.api_keys() == []


# ---- update ----------------------------------------------------------------------------


def test_rotate_key_and_change_fields(reg: ProviderRegistry, cfg: Path) -> None:
    reg.add(name="relay", base_url="https://a.example.com/v1", api_key="old-key-123456")
    provider, notes = reg.update(
        "relay", api_key=KEY, name="Relay", description="d", headers={"X-Org": "1"}, tags="x"
    )
    assert notes == ()
    assert provider.api_key == KEY and provider.name == "Relay"
    assert provider.headers == {"X-Org": "1"} and provider.tags == ["x"]
    assert on_disk(cfg)["providers"][0]["api_key"] == KEY


def test_update_base_url_is_normalised(reg: ProviderRegistry) -> None:
    reg.add(name="relay", base_url="https://a.example.com/v1")
    provider, notes = reg.update("relay", base_url="http://localhost:11434/")
    assert provider.base_url == "http://localhost:11434/v1"
    assert any("Added /v1" in n for n in notes)


def test_changing_type_renormalises_the_base(reg: ProviderRegistry) -> None:
    reg.add(name="relay", base_url="https://relay.example.com/v1")
    provider, notes = reg.update("relay", type="anthropic")
    assert provider.base_url == "https://relay.example.com"
    assert notes


def test_rename_moves_the_default_model(reg: ProviderRegistry, cfg: Path) -> None:
    reg.add(name="old", base_url="https://a.example.com/v1", models=["m:1"])
    reg.add(name="other", base_url="https://b.example.com/v1")
    reg.set_default_model("old:m:1")
    provider, _ = reg.update("old", id="new")
    assert provider.id == "new"
    assert reg.config.default_model == "new:m:1"
    assert on_disk(cfg)["default_model"] == "new:m:1"
    with pytest.raises(UnknownProviderError):
        reg.get("old")
    with pytest.raises(ConfigError, match="taken"):
        reg.update("new", id="other")


def test_update_refusals(reg: ProviderRegistry, cfg: Path) -> None:
    reg.add(name="p", base_url="https://a.example.com/v1")
    before = cfg.read_bytes()
    with pytest.raises(ConfigError, match="'colour'"):
        reg.update("p", colour="red")
    with pytest.raises(UnknownProviderError):
        reg.update("missing", name="x")
    with pytest.raises(ConfigError, match="field 'enabled'"):
        reg.update("p", enabled="perhaps")
    with pytest.raises(ConfigError, match="slug"):
        reg.update("p", id="no spaces please")
    assert cfg.read_bytes() == before


def test_invalid_change_never_echoes_the_value(reg: ProviderRegistry) -> None:
    reg.add(name="p", base_url="https://a.example.com/v1")
    with pytest.raises(ConfigError) as info:
        reg.update("p", headers={"X": ["hunter2-literal-value"]})
    assert "hunter2" not in str(info.value)
    assert "headers" in str(info.value)


def test_enable_disable_delete(reg: ProviderRegistry, cfg: Path) -> None:
    reg.add(name="a", base_url="https://a.example.com/v1", models=["m"])
    reg.add(name="b", base_url="https://b.example.com/v1")
    assert reg.disable("a").enabled is False
    assert on_disk(cfg)["providers"][0]["enabled"] is False
    assert reg.enable("a").enabled is True
    reg.set_default_model("a:m")
    removed = reg.delete("a")
    assert removed.id == "a"
    assert [p.id for p in reg.config.providers] == ["b"]
    assert reg.config.default_model is None
    assert on_disk(cfg)["default_model"] is None
    with pytest.raises(UnknownProviderError):
        reg.delete("a")


def test_delete_keeps_a_default_of_another_provider(reg: ProviderRegistry) -> None:
    reg.add(name="a", base_url="https://a.example.com/v1")
    reg.add(name="ab", base_url="https://a.example.com/v1")
    reg.set_default_model("ab:m")
    reg.delete("a")
    assert reg.config.default_model == "ab:m"


# ---- models and defaults ---------------------------------------------------------------


def test_add_and_remove_models(reg: ProviderRegistry, cfg: Path) -> None:
    reg.add(name="p", base_url="https://a.example.com/v1", models=["a"])
    provider = reg.add_models("p", ["b", {"id": "a", "name": "dupe"}, {"id": "c", "name": "C"}])
    assert provider.model_ids() == ["a", "b", "c"]
    assert provider.models[0].name is None  # the existing entry wins
    assert on_disk(cfg)["providers"][0]["models"] == ["a", "b", {"id": "c", "name": "C"}]
    provider = reg.remove_models("p", ["a", "c"])
    assert provider.model_ids() == ["b"]
    with pytest.raises(ConfigError, match="no model 'zzz'"):
        reg.remove_models("p", ["b", "zzz"])
    assert reg.get("p").model_ids() == ["b"]
    with pytest.raises(ConfigError, match="model"):
        reg.add_models("p", [""])


def test_set_default_model(reg: ProviderRegistry, cfg: Path) -> None:
    reg.add(name="p", base_url="https://a.example.com/v1")
    reg.set_default_model("p:llama3:8b")
    assert reg.config.default_model == "p:llama3:8b"
    assert resolve_model(reg.config, reg.config.default_model).first.model == "llama3:8b"
    with pytest.raises(ConfigError, match="provider-id:model-id"):
        reg.set_default_model("no-colon")
    with pytest.raises(UnknownProviderError):
        reg.set_default_model("ghost:m")
    reg.set_default_model(None)
    assert on_disk(cfg)["default_model"] is None


def test_set_server(reg: ProviderRegistry, cfg: Path) -> None:
    server = reg.set_server(port=8080, api_key="cs-sk-" + "11111111-2222-3333-4444-555555555555")
    assert server.port == 8080
    assert on_disk(cfg)["server"]["port"] == 8080
    with pytest.raises(ConfigError, match="server.port"):
        reg.set_server(port=70000)
    with pytest.raises(ConfigError, match="'colour'"):
        reg.set_server(colour="red")
    assert reg.config.server.port == 8080


# ---- export / import -------------------------------------------------------------------


def _team(reg: ProviderRegistry) -> None:
    reg.add(
        name="Relay",
        base_url="https://relay.example.com/v1",
        api_key=f"{KEY},second-key-abcdef",
        models=["gpt-4o", {"id": "o3", "name": "o3"}],
        headers={"Authorization": f"Bearer {KEY}", "X-Org": "team"},
    )
    reg.add(name="Env", base_url="https://env.example.com/v1", api_key="env:TEAM_KEY")
    reg.add(name="Local", preset="ollama")


def test_export_contains_no_literal_key(reg: ProviderRegistry) -> None:
    _team(reg)
    exported = reg.export()
    text = json.dumps(exported)
    assert KEY not in text and "SECRET123456789" not in text
    assert "second-key" not in text
    assert exported["version"] == 1
    relay, env, local = exported["providers"]
    assert relay["api_key"] == ""
    assert relay["headers"] == {"X-Org": "team"}
    assert relay["models"] == ["gpt-4o", {"id": "o3", "name": "o3"}]
    assert env["api_key"] == "env:TEAM_KEY"
    assert local["api_key"] == ""
    assert reg.get("relay").api_key.startswith(KEY)  # the registry itself keeps it


def test_export_selected_ids(reg: ProviderRegistry) -> None:
    _team(reg)
    assert [p["id"] for p in reg.export(["local", "env"])["providers"]] == ["local", "env"]
    with pytest.raises(UnknownProviderError):
        reg.export(["relay", "ghost"])


def test_import_round_trip(reg: ProviderRegistry, tmp_path: Path) -> None:
    _team(reg)
    document = json.loads(json.dumps(reg.export()))  # as if read from team.json
    other = ProviderRegistry(tmp_path / "colleague.json")
    assert other.import_(document) == ["relay", "env", "local"]
    assert [p.id for p in other.config.providers] == ["relay", "env", "local"]
    assert other.get("relay").base_url == "https://relay.example.com/v1"
    assert other.get("relay").api_key == ""
    assert other.get("env").api_key == "env:TEAM_KEY"
    assert on_disk(tmp_path / "colleague.json")["providers"][0]["models"] == [
        "gpt-4o",
        {"id": "o3", "name": "o3"},
    ]


def test_import_clash_and_replace_keeps_the_key(reg: ProviderRegistry, cfg: Path) -> None:
    _team(reg)
    document = reg.export(["relay"])
    document["providers"][0]["description"] = "from the team"
    document["providers"].append({"id": "fresh", "base_url": "https://fresh.example.com"})
    before = cfg.read_bytes()
    with pytest.raises(ConfigError, match="relay"):
        reg.import_(document)
    assert cfg.read_bytes() == before
    assert reg.import_(document, replace=True) == ["relay", "fresh"]
    relay = reg.get("relay")
    assert relay.description == "from the team"
    assert relay.api_key == f"{KEY},second-key-abcdef"
    assert reg.get("fresh").base_url == "https://fresh.example.com/v1"  # normalised
    assert [p.id for p in reg.config.providers] == ["relay", "env", "local", "fresh"]


def test_import_validates_the_whole_document_first(reg: ProviderRegistry, cfg: Path) -> None:
    reg.add(name="keep", base_url="https://a.example.com/v1")
    before = cfg.read_bytes()
    bad = {
        "version": 1,
        "providers": [
            {"id": "ok", "base_url": "https://ok.example.com/v1"},
            {"id": "broken", "type": "hunter2-literal-value", "base_url": "https://b.example.com"},
        ],
    }
    with pytest.raises(ConfigError) as info:
        reg.import_(bad)
    message = str(info.value)
    assert "import file" in message and "'broken'" in message and "'type'" in message
    assert "hunter2" not in message
    with pytest.raises(ConfigError, match="base_url"):
        reg.import_({"providers": [{"id": "u", "base_url": "relay.example.com"}]})
    with pytest.raises(ConfigError, match="providers"):
        reg.import_({"version": 1})
    with pytest.raises(ConfigError, match="twice"):
        reg.import_({"providers": [{"id": "d", "base_url": "https://d"}] * 2})
    assert cfg.read_bytes() == before
    assert [p.id for p in reg.config.providers] == ["keep"]


# ---- reloading, failures, threads ------------------------------------------------------


def test_reload_if_changed(reg: ProviderRegistry, cfg: Path) -> None:
    reg.add(name="a", base_url="https://a.example.com/v1")
    assert reg.reload_if_changed() is False  # our own write is not a change
    document = on_disk(cfg)
    document["providers"][0]["name"] = "Edited elsewhere"
    cfg.write_text(json.dumps(document))
    bump_mtime(cfg)
    assert reg.reload_if_changed() is True
    assert reg.get("a").name == "Edited elsewhere"
    assert reg.reload_if_changed() is False


def test_corrupt_file_on_reload_keeps_the_snapshot(reg: ProviderRegistry, cfg: Path) -> None:
    reg.add(name="a", base_url="https://a.example.com/v1")
    snapshot = reg.config
    cfg.write_text("{ half written")
    bump_mtime(cfg)
    with pytest.raises(ConfigFileError):
        reg.reload_if_changed()
    assert reg.config is snapshot
    assert cfg.read_text() == "{ half written"  # kept in place
    assert reg.reload_if_changed() is False  # reported once per version of the file
    # A change is refused rather than overwrite what the user is editing.
    with pytest.raises(ConfigFileError, match="Nothing was changed"):
        reg.add(name="b", base_url="https://b.example.com/v1")
    assert cfg.read_text() == "{ half written"
    assert reg.config is snapshot


def test_a_change_builds_on_what_another_process_saved(tmp_path: Path) -> None:
    path = tmp_path / "shared.json"
    kernel = ProviderRegistry(path)
    cli = ProviderRegistry(path)
    kernel.add(name="from-kernel", base_url="https://k.example.com/v1")
    bump_mtime(path)
    cli.add(name="from-cli", base_url="https://c.example.com/v1")
    bump_mtime(path)
    kernel.disable("from-kernel")
    assert [p.id for p in load_config(path).providers] == ["from-kernel", "from-cli"]


def test_failed_save_changes_nothing(
    reg: ProviderRegistry, cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg.add(name="a", base_url="https://a.example.com/v1")
    before, snapshot = cfg.read_bytes(), reg.config

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(ConfigError, match="No space left"):
        reg.add(name="b", base_url="https://b.example.com/v1")
    assert cfg.read_bytes() == before
    assert reg.config is snapshot
    # No temp file left behind (the writers' lock file stays, as lock files do).
    assert sorted(p.name for p in cfg.parent.iterdir()) in (
        ["config.json"],
        ["config.json", "config.json.lock"],
    )


def test_snapshots_are_never_modified_in_place(reg: ProviderRegistry) -> None:
    reg.add(name="a", base_url="https://a.example.com/v1")
    old = reg.config
    old_dump = old.model_dump()
    reg.update("a", name="renamed")
    reg.add_models("a", ["m"])
    assert old.model_dump() == old_dump
    assert reg.config is not old
    returned = reg.get("a")
    returned.name = "mutated by caller"
    assert reg.get("a").name == "renamed"


def test_concurrent_changes_are_all_kept(reg: ProviderRegistry, cfg: Path) -> None:
    errors: list[BaseException] = []
    seen_sizes: list[int] = []
    writing = threading.Event()
    writing.set()

    def writer(n: int) -> None:
        try:
            for i in range(5):
                reg.add(name=f"t{n}-{i}", base_url="http://127.0.0.1:8000/v1")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            while writing.is_set():  # for as long as the writers run, then once more
                ids = [p.id for p in reg.config.providers]
                for n in range(4):  # each writer's providers so far: none lost, in order
                    mine = [i for i in ids if i.startswith(f"t{n}-")]
                    assert mine == [f"t{n}-{i}" for i in range(len(mine))], ids
                seen_sizes.append(len(ids))
                time.sleep(0.0005)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    read = threading.Thread(target=reader)
    for t in [read, *writers]:
        t.start()
    for t in writers:
        t.join()
    time.sleep(0.01)  # a last read of the final snapshot
    writing.clear()
    read.join()
    assert not errors
    assert len(reg.config.providers) == 20
    assert len(on_disk(cfg)["providers"]) == 20
    assert seen_sizes[-1] == 20 and len(set(seen_sizes)) > 2  # it read while they wrote
    assert seen_sizes == sorted(seen_sizes)  # whole changes only, never going back
    assert seen_sizes == sorted(seen_sizes)  # a reader only ever sees whole changes, in order


# ---- ephemeral providers (a kernel's own simulator) ---------------------------------------


def _ephemeral(reg: ProviderRegistry, **changes: object):
    from cherry_nb.config.models import Provider

    fields: dict[str, object] = {
        "id": "simulator",
        "base_url": "http://127.0.0.1:45001/v1",
        "models": ["sim-chat"],
    }
    fields.update(changes)
    return reg.add_ephemeral(Provider.model_validate(fields))


def test_ephemeral_providers_are_seen_but_never_saved(reg: ProviderRegistry, cfg: Path):
    reg.add(id="mine", name="Mine", base_url="http://127.0.0.1:8000/v1", models=["m"])
    before = cfg.read_bytes()
    _ephemeral(reg)
    assert [p.id for p in reg.config.providers] == ["mine", "simulator"]
    assert reg.is_ephemeral("simulator") and not reg.is_ephemeral("mine")
    # Changing it (switch, models, default model) stays in memory: the file is untouched.
    reg.disable("simulator")
    reg.add_models("simulator", ["sim-fast"])
    reg.set_default_model("simulator:sim-fast")
    assert cfg.read_bytes() == before
    assert reg.config.default_model == "simulator:sim-fast"
    assert reg.get("simulator").model_ids() == ["sim-chat", "sim-fast"]
    assert not reg.get("simulator").enabled
    assert "simulator" not in [p["id"] for p in reg.export()["providers"]]
    # Another process's view (the file) never has it; ours keeps it across reloads.
    other = ProviderRegistry(cfg)
    assert [p.id for p in other.config.providers] == ["mine"]
    assert other.config.default_model is None
    other.update("mine", name="Renamed")
    bump_mtime(cfg)
    assert reg.reload_if_changed()
    assert [p.name for p in reg.config.providers] == ["Renamed", "simulator"]
    # Saved changes next to it are saved, without it.
    reg.set_default_model("mine:m")
    assert on_disk(cfg)["default_model"] == "mine:m"
    assert [p["id"] for p in on_disk(cfg)["providers"]] == ["mine"]
    reg.remove_ephemeral("simulator")
    assert [p.id for p in reg.config.providers] == ["mine"]


def test_an_ephemeral_provider_shadows_a_saved_one_without_losing_it(
    reg: ProviderRegistry, cfg: Path
):
    reg.add(id="simulator", name="Old", base_url="http://127.0.0.1:9/v1", models=["x"])
    reg.add(id="other", name="Other", base_url="http://127.0.0.1:8000/v1")
    _ephemeral(reg)
    assert reg.get("simulator").base_url == "http://127.0.0.1:45001/v1"
    reg.update("other", name="Other 2")
    assert [p["id"] for p in on_disk(cfg)["providers"]] == ["simulator", "other"]
    assert on_disk(cfg)["providers"][0]["base_url"] == "http://127.0.0.1:9/v1"
    with pytest.raises(ConfigError, match="taken"):
        reg.update("other", id="simulator")
