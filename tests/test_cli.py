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


def test_check_tests_every_key_and_names_the_failing_one(capsys, upstream):
    keys = f"{KEY},{SECRET}"
    run(capsys, "providers", "add", "Two", "--base-url", upstream.url, "--api-key", keys)
    code, out, err = run(capsys, "check", "two", "--model", "sim-chat")
    assert code == 1
    assert "key 1 sim…6789 ✓" in err and "key 2 sk-…cdef ✗ 401 invalid key" in err
    assert "1 key fails: key 2" in err and SECRET not in out + err


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
    assert "Hello from the Responses API side!" in done.stdout  # the Responses exchange
    assert "output tokens)" in done.stdout
    assert "sim-gemini:sim-chat" in done.stdout
    assert not (tmp_path / "untouched.json").exists()  # the user's config is not touched


def test_hand_written_addresses_are_read_at_use_and_shown(capsys, upstream, _isolated_config):
    # Cherry Studio's vLLM recipe (no /v1, trailing /) and a full endpoint, written into
    # the file by hand: the CLI says what it will call, and check works through them.
    _isolated_config.parent.mkdir(parents=True, exist_ok=True)
    providers = [
        {"id": "vllm", "type": "openai", "base_url": upstream.url + "/", "api_key": KEY},
        {
            "id": "full",
            "type": "openai",
            "base_url": upstream.url + "/v1/chat/completions",
            "api_key": KEY,
        },
        {"id": "broken", "type": "openai", "base_url": "localhost:8000", "api_key": KEY},
    ]
    _isolated_config.write_text(json.dumps({"providers": providers}))
    code, out, err = run(capsys, "providers")
    assert code == 0, err
    calls = f"{upstream.url}/v1/chat/completions"
    assert out.count(calls) == 2
    assert "vllm: Added /v1" in out and "full: You pasted the full endpoint" in out
    assert "(unusable base URL)" in out and "broken: Add http:// or https://" in out
    for provider_id in ("vllm", "full"):
        code, out, err = run(capsys, "check", provider_id, "--model", "sim-chat")
        assert code == 0 and "✓" in out, err
    code, out, err = run(capsys, "models", "vllm", "--fetch")
    assert code == 0 and "sim-chat" in out
    code, out, err = run(capsys, "check", "broken")
    assert code != 0 and "Add http:// or https://" in out + err and "Traceback" not in out + err


# ---- named gateway keys ------------------------------------------------------------------


def test_keys_add_list_revoke(capsys, _isolated_config):
    code, out, err = run(capsys, "keys", "add", "claude-code")
    key = out.strip()
    assert code == 0 and key.startswith("cs-sk-") and len(key) - len("cs-sk-") >= 32
    assert "only time it is shown" in err and key not in err
    code, out, _ = run(capsys, "keys", "add", "teammate")
    other = out.strip()
    assert other != key
    saved = json.loads(_isolated_config.read_text())["server"]["keys"]
    assert [(k["name"], k["key"]) for k in saved] == [("claude-code", key), ("teammate", other)]
    assert all(k["created"].endswith("+00:00") for k in saved)

    code, out, _ = run(capsys, "keys", "list")
    assert code == 0 and "claude-code" in out and "teammate" in out
    assert key not in out and other not in out and f"cs-sk-…{key[-4:]}" in out
    code, out, _ = run(capsys, "keys")  # no action: the list
    assert "claude-code" in out

    code, out, _ = run(capsys, "keys", "revoke", "claude-code")
    assert code == 0 and "Revoked gateway key 'claude-code'" in out
    saved = json.loads(_isolated_config.read_text())["server"]["keys"]
    assert [k["name"] for k in saved] == ["teammate"]


def test_keys_refuse_duplicates_unknown_names_and_bad_names(capsys):
    run(capsys, "keys", "add", "script")
    code, out, err = run(capsys, "keys", "add", "script")
    assert code == 2 and out == "" and "named 'script' already exists" in err
    assert "cherry-nb keys revoke script" in err
    code, _, err = run(capsys, "keys", "revoke", "nobody")
    assert code == 2 and "No gateway key named 'nobody' (named keys: script)" in err
    code, _, err = run(capsys, "keys", "add", "two words")
    assert code == 2 and "readable slug" in err
    code, out, _ = run(capsys, "keys", "list")
    assert out.count("script") == 1


def test_keys_list_when_there_are_none(capsys):
    code, out, _ = run(capsys, "keys", "list")
    assert code == 0 and "No named gateway keys" in out and "cherry-nb keys add NAME" in out


# ---- usage ---------------------------------------------------------------------------------


def _seed_usage(config_file: Path) -> None:
    import time

    from cherry_nb.ledger.records import UsageRecord
    from cherry_nb.ledger.sqlite import SQLiteLedger, ledger_path

    now = time.time()
    ledger = SQLiteLedger(ledger_path(config_file))
    for when, key, provider, model, status, tokens, ms in (
        (now - 3 * 86400, "old", "sim", "sim-chat", 200, 1000, 5.0),
        (now - 60, "claude-code", "sim", "sim-chat", 200, 10, 100.0),
        (now - 50, "claude-code", "sim", "sim-fast", 200, 20, 300.0),
        (now - 40, "script", "gem", "gemini-2.5", 429, 0, 20.0),
    ):
        ledger.record(
            UsageRecord(
                when, "/v1/messages", "anthropic", key, provider, model, status,
                input_tokens=tokens, output_tokens=tokens // 2, cached_tokens=tokens // 10,
                duration_ms=ms, ttft_ms=ms / 2,
            )
        )  # fmt: skip
    ledger.close()


def test_usage_table_by_provider_model_and_key(capsys, _isolated_config):
    code, out, _ = run(capsys, "usage")
    assert code == 0 and "No requests recorded since 1d" in out and "does not exist yet" in out
    _seed_usage(_isolated_config)
    code, out, _ = run(capsys, "usage")
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == [
        "PROVIDER", "REQUESTS", "ERRORS", "INPUT", "OUTPUT", "CACHED", "P50", "MS", "P50",
        "TTFT", "MS",
    ]  # fmt: skip
    assert lines[1].split() == ["sim", "2", "0", "30", "15", "3", "200", "100"]
    assert lines[2].split() == ["gem", "1", "1", "0", "0", "0", "20", "10"]
    assert lines[3].split()[:6] == ["total", "3", "1", "30", "15", "3"]
    code, out, _ = run(capsys, "usage", "--since", "7d", "--by", "key")
    assert "old" in out and "claude-code" in out and "script" in out
    code, out, _ = run(capsys, "usage", "--by", "model", "--provider", "sim")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["sim-chat", "sim-fast", "total"]


def test_usage_json_records_and_totals(capsys, _isolated_config):
    _seed_usage(_isolated_config)
    code, out, _ = run(capsys, "usage", "--json")
    records = json.loads(out)
    assert code == 0 and len(records) == 3
    required = {"time", "route", "provider", "model", "key_name", "status", "input_tokens",
                "output_tokens", "cached_tokens", "ttft_ms", "duration_ms"}  # fmt: skip
    assert all(required <= set(r) for r in records)
    assert [r["key_name"] for r in records] == ["claude-code", "claude-code", "script"]
    code, out, _ = run(capsys, "usage", "--json", "--key", "script")
    assert [r["status"] for r in json.loads(out)] == [429]
    code, out, _ = run(capsys, "usage", "--json", "--by", "key", "--since", "30d")
    totals = {t["group"]: t for t in json.loads(out)}
    assert totals["old"]["input_tokens"] == 1000 and totals["claude-code"]["requests"] == 2


def test_usage_bad_since_is_a_diagnosis(capsys):
    code, out, err = run(capsys, "usage", "--since", "yesterday")
    assert code == 2 and out == ""
    assert "Cannot read the time 'yesterday'" in err and "Traceback" not in err


# ---- model groups -------------------------------------------------------------------------


def test_groups_add_list_set_remove(capsys, _isolated_config):
    for name in ("One", "Two"):
        run(capsys, "providers", "add", name, "--base-url", "http://127.0.0.1:9/v1")
    code, out, _ = run(capsys, "groups")
    assert code == 0 and "No model groups" in out
    code, out, _ = run(
        capsys, "groups", "add", "pool", "one:m", "two:m", "--strategy", "least-busy"
    )
    assert code == 0 and "Added group pool (least-busy): one:m, two:m." in out
    assert '"model": "pool"' in out
    code, out, _ = run(capsys, "groups", "set", "pool", "two:m")
    assert code == 0 and "Group pool (least-busy): two:m." in out
    code, out, _ = run(capsys, "groups", "set", "pool", "--strategy", "round-robin")
    assert code == 0 and "Group pool (round-robin): two:m." in out
    saved = json.loads(_isolated_config.read_text())["groups"]
    assert saved == [{"id": "pool", "models": ["two:m"], "strategy": "round-robin"}]
    run(capsys, "providers", "remove", "two")
    code, out, _ = run(capsys, "groups", "list")
    assert code == 0 and "pool" in out and "two:m names no configured provider" in out
    code, out, _ = run(capsys, "groups", "remove", "pool")
    assert code == 0 and "Removed group pool." in out
    assert json.loads(_isolated_config.read_text())["groups"] == []


def test_groups_refusals_exit_nonzero_with_the_reason(capsys, _isolated_config):
    run(capsys, "providers", "add", "One", "--base-url", "http://127.0.0.1:9/v1")
    code, _, err = run(capsys, "groups", "add", "one", "one:m")
    assert code == 2 and "'one' is a provider id" in err
    code, _, err = run(capsys, "groups", "add", "pool", "ghost:m")
    assert code == 2 and "names no configured provider (providers: one)" in err
    code, _, err = run(capsys, "groups", "add", "health", "one:m")
    assert code == 2 and "reserved" in err
    code, _, err = run(capsys, "groups", "remove", "pool")
    assert code == 2 and "No model group 'pool'" in err
    run(capsys, "groups", "add", "pool", "one:m")
    code, _, err = run(capsys, "groups", "set", "pool")
    assert code == 2 and "say what to change" in err
