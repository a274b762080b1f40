"""Import cost, measured in fresh interpreters: `import cherry_nb` and `%load_ext cherry_nb`.

Interpreter start-up is not counted; IPython's own import is not counted for
`%load_ext` (a notebook kernel has it already). Each run also reports which heavy
packages the import pulled in: the gateway's (quart, hypercorn, httpx) should load
only when the gateway starts.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from procs import with_bytecode_cache

HEAVY = ("quart", "hypercorn", "httpx", "pydantic", "werkzeug", "ipywidgets", "IPython")

_IMPORT = """
import json, sys, time
start = time.perf_counter()
import cherry_nb
elapsed = time.perf_counter() - start
heavy = [m for m in {heavy!r} if m in sys.modules]
print(json.dumps({{"seconds": elapsed, "heavy": heavy, "ok": True}}))
"""

_LOAD_EXT = """
import json, sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
before = set(sys.modules)
start = time.perf_counter()
outcome = shell.extension_manager.load_extension("cherry_nb")
elapsed = time.perf_counter() - start
heavy = [m for m in {heavy!r} if m in sys.modules and m not in before]
print(json.dumps({{"seconds": elapsed, "heavy": heavy, "ok": outcome is None}}))
"""


@dataclass(frozen=True)
class ImportCost:
    seconds: float | None  # median; None when it could not be measured
    heavy: tuple[str, ...]  # heavy packages the import loaded
    note: str = ""


def measure(
    kind: str, runs: int, source: Path | None = None, pycache: Path | None = None
) -> ImportCost:
    """Median import cost over `runs` fresh interpreters, after one that fills the
    bytecode cache `pycache` (as an installed package has one); kind: "import" or
    "load_ext"."""
    code = (_IMPORT if kind == "import" else _LOAD_EXT).format(heavy=HEAVY)
    env = dict(os.environ)
    if pycache is not None:
        env = with_bytecode_cache(env, pycache)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    times, heavy = [], ()
    for turn in range(runs + (pycache is not None)):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=source,  # `python -c` puts the working directory first on sys.path
            check=False,
        )
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            return ImportCost(None, (), _last_line(done.stderr))
        result = json.loads(lines[-1])
        if not result["ok"]:
            return ImportCost(None, (), "cherry_nb is not an IPython extension (yet)")
        if pycache is not None and turn == 0:
            continue  # the run that wrote the bytecode cache
        times.append(result["seconds"])
        heavy = tuple(result["heavy"])
    return ImportCost(statistics.median(times), heavy)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "failed"
