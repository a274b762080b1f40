"""The real Codex CLI (`@openai/codex` from npm), which speaks only the Responses API,
through the gateway to an upstream of every type: a plain answer and a function-tool
round trip (Codex runs the command the simulator asks for and sends its output back).

Offline and without login: a custom model provider points Codex at the gateway, with
its key in an environment variable and analytics off."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import GATEWAY_KEY, TYPES, Stack

pytestmark = pytest.mark.slow

CODEX_PACKAGE = "@openai/codex"


@pytest.fixture(scope="module")
def codex(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The codex executable, installed from npm into a temporary prefix."""
    npm = shutil.which("npm")
    assert npm, "npm is needed to install the Codex CLI for this test"
    prefix = tmp_path_factory.mktemp("codex-npm")
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), CODEX_PACKAGE],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return prefix / "node_modules" / ".bin" / "codex"


@pytest.fixture(scope="module")
def codex_home(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("codex-home")
    (home / "config.toml").write_text(
        'model_provider = "cherry"\n'
        "[model_providers.cherry]\n"
        'name = "cherry-nb gateway"\n'
        f'base_url = "{stack.url}/v1"\n'
        'env_key = "CHERRY_NB_GATEWAY_KEY"\n'
        'wire_api = "responses"\n'
        "[analytics]\n"
        "enabled = false\n",
        encoding="utf-8",
    )
    return home


def run_codex(codex: Path, home: Path, workdir: Path, model: str, prompt: str) -> str:
    env = {**os.environ, "CODEX_HOME": str(home), "CHERRY_NB_GATEWAY_KEY": GATEWAY_KEY}
    env.pop("OPENAI_API_KEY", None)
    done = subprocess.run(
        [
            str(codex),
            "exec",
            "--skip-git-repo-check",
            "--ephemeral",
            "--sandbox",
            "read-only",
            "-c",
            'approval_policy="never"',
            "-c",
            f'model="{model}"',
            prompt,
        ],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("upstream", TYPES)
def test_codex_answers_through_every_upstream_type(
    codex: Path, codex_home: Path, tmp_path: Path, upstream: str
) -> None:
    out = run_codex(codex, codex_home, tmp_path, f"up-{upstream}:sim-chat", "Say hello")
    # The simulator describes what arrived: Codex's instructions as the system prompt,
    # and the user's turn (its environment context first, so the prompt may be cut off).
    assert "**sim-chat** received" in out
    assert "System: “You are a coding agent" in out
    assert "You said: “" in out


@pytest.mark.parametrize("upstream", ["openai-response", "anthropic", "gemini"])
def test_codex_runs_a_tool_and_sends_back_its_output(
    codex: Path, codex_home: Path, tmp_path: Path, upstream: str
) -> None:
    out = run_codex(
        codex, codex_home, tmp_path, f"up-{upstream}:sim-chat", "Please use exec_command"
    )
    # The simulator calls exec_command with cmd "example"; Codex runs it, the shell says
    # it is not a command, and the simulator's next reply quotes that output.
    assert "Tool exec_command returned:" in out
    assert "example: command not found" in out
