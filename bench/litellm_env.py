"""LiteLLM's proxy in its own virtual environment (bench/.venv-litellm, gitignored).

Installed on first use with `pip install 'litellm[proxy]'`; never a dependency of
cherry_nb and never imported here: the proxy runs as a separate process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

VENV = Path(__file__).resolve().parent / ".venv-litellm"
_INSTALL_TIMEOUT = 1800.0


def ensure(venv: Path = VENV) -> Path:
    """The venv with LiteLLM's proxy, created and installed if missing."""
    if not (venv / "bin" / "litellm").exists():
        print(f"Installing litellm[proxy] into {venv} (once) ...", file=sys.stderr, flush=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=120)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "litellm[proxy]"], check=True, timeout=_INSTALL_TIMEOUT)
    return venv


def version(venv: Path = VENV) -> str:
    code = "import importlib.metadata as m; print(m.version('litellm'))"
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout.strip() or "unknown"
