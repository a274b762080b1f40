"""The config file: atomic 0600 writes, nothing lost when it is corrupt, unknown keys kept."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from cherry_nb._exceptions import ConfigError, ConfigFileError
from cherry_nb.config.models import Config, Provider
from cherry_nb.config.store import config_path, load_config, save_config

# Not shaped like a well-known key, so only our own care keeps it out of messages.
SECRET = "hunter2-literal-value-XYZ"
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "config.json"
    monkeypatch.setenv("CHERRY_NB_CONFIG", str(path))
    return path


def sample() -> Config:
    return Config.model_validate(
        {
            "providers": [
                {
                    "id": "my-openai",
                    "name": "MyCustomOpenAI",
                    "base_url": "https://api.openai.com/v1",
                    "api_key": "env:OPENAI_API_KEY",
                    "models": ["gpt-4o-mini", {"id": "o3", "name": "o3"}],
                },
                {"id": "vllm", "base_url": "http://127.0.0.1:8000/v1"},
            ],
            "default_model": "my-openai:gpt-4o-mini",
        }
    )


# ---- path ----------------------------------------------------------------------------


def test_config_path_uses_the_environment(cfg: Path) -> None:
    assert config_path() == cfg


def test_config_path_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHERRY_NB_CONFIG", raising=False)
    path = config_path()
    assert path.name == "config.json"
    assert "cherry-nb" in str(path.parent)


# ---- loading -------------------------------------------------------------------------


def test_missing_file_gives_default_config_and_writes_nothing(cfg: Path) -> None:
    config = load_config()
    assert config == Config()
    assert not cfg.exists()
    assert not cfg.parent.exists()


def test_empty_file_gives_default_config(cfg: Path) -> None:
    cfg.parent.mkdir()
    cfg.write_text("  \n")
    assert load_config() == Config()


def test_round_trip(cfg: Path) -> None:
    save_config(sample())
    assert load_config() == sample()


def test_explicit_path_wins(tmp_path: Path, cfg: Path) -> None:
    other = tmp_path / "other.json"
    save_config(sample(), other)
    assert other.exists() and not cfg.exists()
    assert load_config(other) == sample()


def _others(path: Path) -> list[Path]:
    """Files next to `path` other than it and its lock: a moved-aside copy would be one."""
    return sorted(
        p for p in path.parent.iterdir() if p.name not in {path.name, path.name + ".lock"}
    )


def test_corrupt_json_is_kept_in_place_and_reported(cfg: Path) -> None:
    cfg.parent.mkdir()
    original = '{"providers": [{"id": "a", "api_key": "' + SECRET + '", }'
    cfg.write_text(original)
    with pytest.raises(ConfigFileError) as info:
        load_config(settle=0)
    err = info.value
    assert cfg.read_text() == original  # never moved, renamed or changed
    assert _others(cfg) == []
    assert err.path == str(cfg)
    message = str(err)
    assert str(cfg) in message and "left as it is" in message
    assert "not valid JSON" in message and "line 1" in message
    assert SECRET not in message
    assert "\n" not in message  # one paragraph


@pytest.mark.parametrize(("content", "kind"), [("[1, 2]", "a list"), ('"text"', "a string")])
def test_non_object_is_reported_and_kept(cfg: Path, content: str, kind: str) -> None:
    cfg.parent.mkdir()
    cfg.write_text(content)
    with pytest.raises(ConfigFileError, match=kind):
        load_config(settle=0)
    assert cfg.read_text() == content


def test_invalid_content_names_provider_and_field_without_values(cfg: Path) -> None:
    cfg.parent.mkdir()
    document = {
        "providers": [
            {"id": "good", "base_url": "https://api.openai.com/v1", "api_key": SECRET},
            {"id": "bad-type", "type": SECRET, "base_url": "https://x", "api_key": SECRET},
            {"name": "no id", "base_url": SECRET, "api_key": SECRET},
        ],
        "server": {"port": SECRET},
    }
    cfg.write_text(json.dumps(document))
    with pytest.raises(ConfigFileError) as info:
        load_config(settle=0)
    message = str(info.value)
    assert SECRET not in message
    assert "provider 'bad-type' (providers[1]), field 'type'" in message
    assert "provider providers[2], field 'id'" in message
    assert "field 'server.port'" in message
    assert json.loads(cfg.read_text()) == document


def test_unique_id_error_is_reported(cfg: Path) -> None:
    cfg.parent.mkdir()
    provider = {"id": "twice", "base_url": "https://x.example.com/v1"}
    cfg.write_text(json.dumps({"providers": [provider, provider]}))
    with pytest.raises(ConfigFileError, match="'twice' is used twice"):
        load_config(settle=0)


def test_save_refuses_to_replace_an_invalid_file(cfg: Path) -> None:
    cfg.parent.mkdir()
    cfg.write_text("{ unfinished work")
    with pytest.raises(ConfigFileError) as info:
        save_config(sample())
    message = str(info.value)
    assert str(cfg) in message and "not valid JSON" in message and "Nothing was saved" in message
    assert cfg.read_text() == "{ unfinished work"


def test_unreadable_path_is_a_config_error_and_not_moved(cfg: Path) -> None:
    cfg.mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(ConfigError, match="Cannot read"):
        load_config()
    assert cfg.is_dir()


# ---- saving --------------------------------------------------------------------------


@posix_only
def test_file_is_0600_and_new_directory_0700(cfg: Path) -> None:
    save_config(sample())
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    assert stat.S_IMODE(cfg.parent.stat().st_mode) == 0o700


@posix_only
def test_temp_file_is_created_0600(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    modes: list[int] = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *args, **kwargs):
        if flags & os.O_CREAT:
            assert flags & os.O_EXCL
            modes.append(mode)
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    save_config(sample())
    assert modes == [0o600]


@posix_only
def test_rewrite_tightens_a_loose_mode(cfg: Path) -> None:
    cfg.parent.mkdir()
    cfg.write_text("{}")
    cfg.chmod(0o644)
    save_config(sample())
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600


def test_no_temp_files_are_left(cfg: Path) -> None:
    save_config(sample())
    save_config(Config())
    assert [p.name for p in cfg.parent.iterdir()] == ["config.json"]


def test_failed_replace_leaves_the_old_file_intact(
    cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_config(sample())
    before = cfg.read_bytes()

    def crash(src, dst):
        raise OSError("simulated crash")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        save_config(Config())
    assert cfg.read_bytes() == before
    assert [p.name for p in cfg.parent.iterdir()] == ["config.json"]


def test_written_as_indented_json(cfg: Path) -> None:
    save_config(sample())
    text = cfg.read_text()
    assert text.startswith('{\n  "version": 1,')
    assert json.loads(text)["default_model"] == "my-openai:gpt-4o-mini"


def test_models_written_back_as_strings(cfg: Path) -> None:
    config = sample()
    config.providers[0].models.append(
        Provider.model_validate(
            {"id": "t", "base_url": "https://x", "models": [{"id": "x", "context": 8}]}
        ).models[0]
    )
    save_config(config)
    models = json.loads(cfg.read_text())["providers"][0]["models"]
    assert models == ["gpt-4o-mini", {"id": "o3", "name": "o3"}, {"id": "x", "context": 8}]


def test_unknown_keys_survive_a_round_trip(cfg: Path) -> None:
    cfg.parent.mkdir()
    document = {
        "version": 1,
        "future_top": {"a": [1, 2]},
        "providers": [
            {
                "id": "p",
                "base_url": "https://api.openai.com/v1",
                "organization": "org-123",
                "models": ["m1", {"id": "m2", "context_window": 128000}],
            }
        ],
        "server": {"port": 23333, "log_level": "debug"},
    }
    cfg.write_text(json.dumps(document))
    save_config(load_config())
    written = json.loads(cfg.read_text())
    assert written["future_top"] == {"a": [1, 2]}
    assert written["providers"][0]["organization"] == "org-123"
    assert written["providers"][0]["models"] == ["m1", {"id": "m2", "context_window": 128000}]
    assert written["server"]["log_level"] == "debug"


def test_env_key_form_and_empty_key_round_trip(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = Config.model_validate(
        {
            "providers": [
                {"id": "env", "base_url": "https://x.example.com/v1", "api_key": "env:MY_KEY"},
                {"id": "local", "base_url": "http://127.0.0.1:8000/v1", "api_key": ""},
                {"id": "multi", "base_url": "https://y.example.com/v1", "api_key": " a1 , b2 "},
            ]
        }
    )
    save_config(config)
    written = json.loads(cfg.read_text())["providers"]
    assert [p["api_key"] for p in written] == ["env:MY_KEY", "", "a1,b2"]
    loaded = load_config()
    monkeypatch.setenv("MY_KEY", "resolved-value")
    assert loaded.provider("env").api_keys() == ["resolved-value"]
    assert loaded.provider("local").api_keys() == []
    assert loaded.provider("multi").api_keys() == ["a1", "b2"]


def test_symlinked_config_is_written_through(tmp_path: Path, cfg: Path) -> None:
    real = tmp_path / "dotfiles" / "cherry.json"
    real.parent.mkdir()
    real.write_text("{}")
    cfg.parent.mkdir()
    try:
        cfg.symlink_to(real)
    except OSError:
        pytest.skip("symlinks not available")
    save_config(sample())
    assert cfg.is_symlink()
    assert load_config(real) == sample()
