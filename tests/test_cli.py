"""The `cherry-nb` command line: exit codes, diagnoses, no tracebacks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cherry_nb.cli import main
from cherry_nb.simulator import SimulatorThread

KEY = "sim-cli-key-0123456789"
SECRET = "sk-test-SECRET123456789abcdef"


@pytest.fixture(scope="module")
def upstream():
    with SimulatorThread(api_key=KEY) as sim:
        yield sim


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_add_list_models_check(capsys, upstream):
    code, out, _ = run(
        capsys,
        "providers",
        "add",
        "My Sim",
        "--base-url",
        upstream.url,
        "--api-key",
        KEY,
        "--model",
        "sim-chat",
    )
    assert code == 0 and "Added my-sim" in out
    assert "/v1" in out  # the base URL was normalised, and the user told
    code, out, _ = run(capsys, "providers")
    assert code == 0 and "my-sim" in out and KEY not in out and "…" in out
    code, out, _ = run(capsys, "models", "my-sim")
    assert out.split() == ["sim-chat"]
    code, out, _ = run(capsys, "models", "my-sim", "--fetch")
    assert code == 0 and "* sim-chat" in out and "sim-vision" in out
    code, out, _ = run(capsys, "check", "my-sim", "--model", "sim-chat")
    assert code == 0 and "✓" in out
    code, out, _ = run(capsys, "check", "my-sim")
    assert code == 0 and "models listed" in out


def test_check_failure_exits_nonzero_with_diagnosis(capsys, upstream):
    run(capsys, "providers", "add", "Bad", "--base-url", upstream.url, "--api-key", SECRET)
    code, out, err = run(capsys, "check", "bad", "--model", "sim-chat")
    assert code == 1
    assert "rejected" in err and SECRET not in err + out
    code, _, err = run(capsys, "check", "nobody")
    assert code == 2 and "No provider with id 'nobody'" in err
    run(capsys, "providers", "add", "Good", "--base-url", upstream.url, "--api-key", KEY)
    code, _, err = run(capsys, "check", "good", "--model", "sim-chta")
    assert code == 1  # the key is right: this is the unknown model's failure
    assert "does not serve 'sim-chta'" in err and "Closest it lists: sim-chat" in err


def test_config_failure_is_said_once(capsys, upstream, monkeypatch):
    monkeypatch.delenv("CHERRY_NB_CLI_UNSET", raising=False)
    key = "env:CHERRY_NB_CLI_UNSET"
    run(capsys, "providers", "add", "E", "--base-url", upstream.url, "--api-key", key)
    code, out, err = run(capsys, "check", "e", "--model", "sim-chat")
    assert code == 1 and "CHERRY_NB_CLI_UNSET" in err
    assert err.count("which is not set") == 1 and err.strip().count("\n") == 0


def test_azure_placeholder_address_is_refused(capsys, _isolated_config: Path):
    placeholder = "https://YOUR-RESOURCE.openai.azure.com"
    code, _, err = run(
        capsys, "providers", "add", "Azure", "--preset", "azure-openai", "--base-url", placeholder
    )
    assert code == 2 and "placeholder YOUR-RESOURCE" in err and "Traceback" not in err
    assert not _isolated_config.exists()


def test_closed_port_diagnosis(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run(capsys, "providers", "add", "Local", "--base-url", f"http://127.0.0.1:{port}")
    code, _, err = run(capsys, "check", "local")
    assert code == 1 and "nothing is listening" in err


def test_export_import_without_keys(capsys, tmp_path, upstream):
    run(capsys, "providers", "add", "Team", "--base-url", upstream.url, "--api-key", SECRET)
    run(capsys, "providers", "add", "Env", "--base-url", upstream.url, "--api-key", "env:MY_KEY")
    code, out, _ = run(capsys, "providers", "export")
    assert code == 0 and SECRET not in out
    exported = json.loads(out)
    assert {p["id"] for p in exported["providers"]} == {"team", "env"}
    assert [p["api_key"] for p in exported["providers"] if p["id"] == "env"] == ["env:MY_KEY"]
    team_file = tmp_path / "team.json"
    team_file.write_text(out)
    other = tmp_path / "other.json"
    code, out, _ = run(capsys, "providers", "import", str(team_file), "--config", str(other))
    assert code == 0 and "Imported 2" in out
    code, _, err = run(capsys, "providers", "import", str(team_file), "--config", str(other))
    assert code == 2 and "team" in err  # same ids again: refused without --replace


def test_bad_import_file_is_a_diagnosis(capsys, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    code, _, err = run(capsys, "providers", "import", str(broken))
    assert code == 2 and "broken.json" in err


def test_corrupt_config_is_kept_and_reported(capsys, _isolated_config: Path):
    _isolated_config.parent.mkdir(parents=True, exist_ok=True)
    _isolated_config.write_text('{"providers": [{"id": "x"}]}')
    code, _, err = run(capsys, "providers")
    assert code == 2 and "base_url" in err and "Traceback" not in err
    assert _isolated_config.read_text() == '{"providers": [{"id": "x"}]}'  # kept in place


def test_demo_runs_offline_in_a_subprocess(tmp_path):
    env = {**os.environ, "CHERRY_NB_CONFIG": str(tmp_path / "untouched.json")}
    done = subprocess.run(
        [sys.executable, "-m", "cherry_nb", "demo", "--once", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "Hello from the OpenAI SDK side!" in done.stdout
    assert "tool call: get_weather" in done.stdout and "stop_reason tool_use" in done.stdout
    assert "sim-gemini:sim-chat" in done.stdout
    assert not (tmp_path / "untouched.json").exists()  # the user's config is not touched
