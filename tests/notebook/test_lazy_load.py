"""`%load_ext cherry_nb` loads only what registering the magics needs; the first
`%%chat` loads the rest (providers, config models, httpx) and still answers.

Each test runs a fresh interpreter: whether a module is imported is only
meaningful in a process that has not imported it yet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

#: What `%load_ext` must not import: the gateway's server stack, the HTTP client,
#: pydantic (the config models), the widgets, metrics, and cherry_nb's own providers.
HEAVY = (
    "httpx",
    "pydantic",
    "quart",
    "hypercorn",
    "werkzeug",
    "flask",
    "anywidget",
    "ipywidgets",
    "prometheus_client",
    "cherry_nb.config.models",
    "cherry_nb.providers",
    "cherry_nb.gateway",
    "cherry_nb.simulator",
)

SCRIPT = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell

heavy = {heavy!r}
shell = InteractiveShell.instance()
before = [m for m in heavy if m in sys.modules]
shell.run_line_magic("load_ext", "cherry_nb")
after_load = [m for m in heavy if m in sys.modules]
shell.run_line_magic("chat", "simulator")
shell.run_cell("%%chat\\nhello from a lazy kernel")
reply = shell.user_ns.get("_chat")
shell.run_line_magic("chat", "simulator stop")
print(json.dumps({{
    "before": before,
    "after_load": after_load,
    "reply": None if reply is None else str(reply),
    "model": getattr(reply, "model", None),
    "error": getattr(reply, "error", None),
    "after_chat": [m for m in heavy if m in sys.modules],
}}))
"""


def _run(tmp_path: Path) -> dict[str, object]:
    env = {**os.environ, "CHERRY_NB_CONFIG": str(tmp_path / "config.json")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(heavy=HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_load_ext_imports_nothing_heavy_and_the_first_chat_still_answers(tmp_path: Path):
    result = _run(tmp_path)
    assert result["before"] == []  # IPython itself loads none of them
    assert result["after_load"] == []
    assert result["error"] is None and result["model"] == "simulator:sim-chat"
    assert "You said: “hello from a lazy kernel”" in str(result["reply"])
    # The first %%chat is what loads the client side: the guard above is not vacuous.
    assert {"httpx", "pydantic", "cherry_nb.providers"} <= set(result["after_chat"])
