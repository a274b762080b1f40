"""Defect 5: several processes changing one config file never lose each other's changes.

Each process does read-modify-write; without a cross-process lock two of them read the
same version and the later save drops the other's provider, while both report success.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cherry_nb.config.registry import ProviderRegistry

# Each worker waits for the start file, so the writers really overlap.
_API_WORKER = """
import os, sys, time
from pathlib import Path
from cherry_nb.config.registry import ProviderRegistry
start, prefix, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
while not start.exists():
    time.sleep(0.005)
registry = ProviderRegistry()
for i in range(count):
    registry.add(id=f"{prefix}-{i}", name=f"{prefix} {i}", base_url="http://127.0.0.1:9/v1")
"""

_CLI_WORKER = """
import sys, time
from pathlib import Path
from cherry_nb.cli import main
start, prefix, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
while not start.exists():
    time.sleep(0.005)
for i in range(count):
    code = main(["providers", "add", f"{prefix} {i}", "--base-url", "http://127.0.0.1:9/v1"])
    if code != 0:
        sys.exit(code)
"""


def _run_together(tmp_path: Path, script: str, prefixes: list[str], count: int) -> Path:
    """Run one worker per prefix, released at once; returns the config path."""
    config = tmp_path / "config.json"
    start = tmp_path / "start"
    env = {**os.environ, "CHERRY_NB_CONFIG": str(config)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(start), prefix, str(count)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for prefix in prefixes
    ]
    start.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    return config


def test_two_processes_adding_50_providers_each_keep_all_100(tmp_path: Path) -> None:
    config = _run_together(tmp_path, _API_WORKER, ["left", "right"], 50)
    ids = {p["id"] for p in json.loads(config.read_text())["providers"]}
    expected = {f"{side}-{i}" for side in ("left", "right") for i in range(50)}
    assert ids == expected
    assert len(ProviderRegistry(config).config.providers) == 100


def test_eight_parallel_cli_adds_keep_every_provider(tmp_path: Path) -> None:
    prefixes = [f"w{n}" for n in range(8)]
    config = _run_together(tmp_path, _CLI_WORKER, prefixes, 3)
    ids = {p["id"] for p in json.loads(config.read_text())["providers"]}
    assert ids == {f"w{n}-{i}" for n in range(8) for i in range(3)}
