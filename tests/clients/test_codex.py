"""The Codex CLI (`@openai/codex`, `codex exec` with a custom model provider pointed at the
gateway, `wire_api = "responses"`, offline and without login) answering through every
upstream kind, and running a tool the simulator asks for."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import (
    GATEWAY_KEY,
    ClientStack,
    NodeClients,
    record_fixture,
    routed,
    run_client,
    simulator_answered,
)

pytestmark = pytest.mark.slow

# Features that would reach outside hosts (plugins, apps, updates, a background daemon).
CODEX_FEATURES_OFF = (
    "apps",
    "plugins",
    "remote_plugin",
    "plugin_sharing",
    "in_app_updates",
    "daemon_auto_start",
    "browser_use",
    "browser_use_external",
    "computer_use",
)


def codex_home(base: Path, gateway_url: str, model: str) -> Path:
    home = base / "codex"
    home.mkdir(parents=True)
    features = "\n".join(f"{name} = false" for name in CODEX_FEATURES_OFF)
    (home / "config.toml").write_text(
        f'model = "{model}"\n'
        'model_provider = "cherry"\n'
        "check_for_update_on_startup = false\n"
        "\n[model_providers.cherry]\n"
        'name = "cherry-nb gateway"\n'
        f'base_url = "{gateway_url}/v1"\n'
        'wire_api = "responses"\n'
        'env_key = "CHERRY_NB_GATEWAY_KEY"\n'
        "\n[analytics]\nenabled = false\n"
        f"\n[features]\n{features}\n"
    )
    return home


def run_codex(
    stack: ClientStack, node: NodeClients, tmp_path: Path, model: str, prompt: str
) -> str:
    home = codex_home(tmp_path, stack.url, model)
    work = tmp_path / "work"
    work.mkdir()
    run = run_client(
        [
            node.bin("codex"),
            "exec",
            "--skip-git-repo-check",
            "--ephemeral",
            "--sandbox",
            "read-only",
            "-c",
            'approval_policy="never"',
            prompt,
        ],
        home=tmp_path / "home",
        cwd=work,
        env={"CODEX_HOME": str(home), "CHERRY_NB_GATEWAY_KEY": GATEWAY_KEY},
    )
    return run.ok()


def test_codex_exec(stack: ClientStack, node_clients: NodeClients, upstream, tmp_path):
    out = run_codex(stack, node_clients, tmp_path, routed(upstream), f"say hi via {upstream}")
    assert simulator_answered(out), out
    assert stack.upstream_saw(upstream, f"say hi via {upstream}")
    sent = [r for r in stack.proxy.requests if r.method == "POST"]
    # Only the gateway was called, only on the Responses route, and nothing was refused.
    assert sent and all(r.path.startswith("/v1/responses") for r in sent)
    assert not stack.proxy.refused()
    if upstream == "openai":
        record_fixture(f"codex-{node_clients.version('@openai/codex')}_exec_request", sent[0])


def test_codex_runs_a_tool(stack: ClientStack, node_clients: NodeClients, upstream, tmp_path):
    """The simulator calls exec_command (cmd "example"); Codex runs it in its sandbox and
    sends the output back; the simulator's next reply quotes it."""
    out = run_codex(
        stack, node_clients, tmp_path, routed(upstream), f"Please use exec_command ({upstream})"
    )
    assert "Tool exec_command returned:" in out and "example: command not found" in out, out
    assert not stack.proxy.refused()
    turns = [r.json for r in stack.proxy.taken("/v1/responses") if r.method == "POST"]
    assert any(i.get("type") == "function_call_output" for i in turns[-1]["input"])
