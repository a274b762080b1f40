"""The Binder environment, rebuilt the way repo2docker builds it, runs every notebook.

repo2docker copies the repository into the image and, from its root, runs
`pip install -r binder/requirements.txt` in the kernel's environment. This test does
the same in a fresh virtual environment (python -m venv) on a copy of the files the
install and the notebooks need, then executes every notebooks/*.ipynb with nbclient
*inside* that environment, offline: no provider key in the environment, and a
CHERRY_NB_CONFIG of its own. Executed notebooks are kept in test-artifacts/binder/.

It costs a full pip install; pip's cache and --prefer-binary keep a warm run at about
a minute. CI runs it (see .ci/run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "binder"

# What repo2docker would see that matters here: the project, binder/ and the notebooks.
# (Copying the whole working tree would drag in local caches and benchmark data.)
COPIED = ["pyproject.toml", "README.md", "cherry_nb", "binder", "notebooks"]
IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "*.egg-info", "build", "dist", ".ipynb_checkpoints"
)

# Anything that could make a notebook reach a real service, or leak the outer venv in.
SCRUBBED = [
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
]

PIP_TIMEOUT = 900
RUN_TIMEOUT = 900
CELL_TIMEOUT = 300

# Runs under the Binder venv's python: argv = out_dir, workdir, notebook paths.
RUNNER = """
import json, sys, time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

out_dir, workdir, cell_timeout, *paths = sys.argv[1:]
spec = KernelSpecManager().get_kernel_spec("python3")
report = {"kernel_argv": spec.argv, "notebooks": {}}

probe = nbformat.v4.new_notebook()
probe.cells = [nbformat.v4.new_code_cell(
    "import sys, cherry_nb, ipywidgets, jupyter_server_proxy, openai, anthropic\\n"
    "print(sys.prefix); print(cherry_nb.__file__)"
)]
NotebookClient(probe, timeout=120, kernel_name="python3").execute()
report["kernel_prefix"], report["cherry_nb_file"] = probe.cells[0].outputs[0]["text"].split()

for path in paths:
    nb = nbformat.read(path, as_version=4)
    started = time.monotonic()
    client = NotebookClient(
        nb, timeout=int(cell_timeout), kernel_name="python3",
        resources={"metadata": {"path": workdir}},
    )
    try:
        client.execute()
    finally:
        nbformat.write(nb, str(Path(out_dir) / Path(path).name))
    report["notebooks"][Path(path).name] = round(time.monotonic() - started, 1)

print("REPORT " + json.dumps(report))
"""


def _run(cmd: list[str | Path], *, timeout: float, both: bool = False, **kwargs: object) -> str:
    """Run a command and return its stdout (and stderr if `both`); fail the test if it fails."""
    try:
        done = subprocess.run(
            [str(part) for part in cmd],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **kwargs,  # type: ignore[arg-type]
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"timed out after {timeout} s: {cmd}\n{exc.stdout}\n{exc.stderr}")
    if done.returncode != 0:
        pytest.fail(
            f"exit {done.returncode}: {' '.join(map(str, cmd))}\n"
            f"--- stdout ---\n{done.stdout[-6000:]}\n--- stderr ---\n{done.stderr[-6000:]}"
        )
    return done.stdout + done.stderr if both else done.stdout


def _texts(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            parts.append(output["text"])
        for key in ("text/markdown", "text/plain", "text/html"):
            if key in output.get("data", {}):
                parts.append(output["data"][key])
    return "\n".join(parts)


@pytest.mark.slow
def test_binder_requirements_install_and_every_notebook_runs(tmp_path: Path) -> None:
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert notebooks, "no notebooks/*.ipynb to run"
    assert (REPO / "binder" / "requirements.txt").is_file()

    # The repository, as repo2docker copies it into the image.
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=IGNORED)
        else:
            shutil.copy2(source, repo / name)
    for licence in REPO.glob("LICEN[CS]E*"):
        shutil.copy2(licence, repo / licence.name)

    home = tmp_path / "jupyter"
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(
        CHERRY_NB_CONFIG=str(tmp_path / "cherry-nb" / "config.json"),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTER_PLATFORM_DIRS="1",
        IPYTHONDIR=str(home / "ipython"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONNOUSERSITE="1",
    )

    timings: dict[str, float] = {}
    started = time.monotonic()
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], timeout=120, env=env)
    python = venv / "bin" / "python"
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    timings["venv"] = time.monotonic() - started

    started = time.monotonic()
    _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "--prefer-binary",
            "-r",
            "binder/requirements.txt",
        ],
        timeout=PIP_TIMEOUT,
        cwd=repo,
        env=env,
    )
    timings["pip install"] = time.monotonic() - started

    # JupyterLab can show widgets, and the server proxies to the kernel's gateway.
    jupyter = venv / "bin" / "jupyter"
    labextensions = _run([jupyter, "labextension", "list"], timeout=120, env=env, both=True)
    assert "@jupyter-widgets/jupyterlab-manager" in labextensions, labextensions
    server_ext = _run([jupyter, "server", "extension", "list"], timeout=120, env=env, both=True)
    assert "jupyter_server_proxy" in server_ext, server_ext
    proxy_line = next(line for line in server_ext.splitlines() if "jupyter_server_proxy" in line)
    assert "enabled" in proxy_line and "disabled" not in proxy_line, server_ext

    # Every notebook, executed by that environment's own kernel.
    out_dir = tmp_path / "executed"
    out_dir.mkdir()
    runner = tmp_path / "run_notebooks.py"
    runner.write_text(RUNNER)
    workdir = repo / "notebooks"
    started = time.monotonic()
    try:
        stdout = _run(
            [
                python,
                runner,
                out_dir,
                workdir,
                CELL_TIMEOUT,
                *(workdir / nb.name for nb in notebooks),
            ],
            timeout=RUN_TIMEOUT,
            cwd=workdir,
            env=env,
        )
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for executed in out_dir.glob("*.ipynb"):
            shutil.copy2(executed, ARTIFACTS / executed.name)
    timings["notebooks"] = time.monotonic() - started
    report = json.loads(stdout.split("REPORT ", 1)[1])
    print(f"binder env timings (s): { {k: round(v, 1) for k, v in timings.items()} }")
    print(f"per notebook (s): {report['notebooks']}")

    # The kernel was the Binder venv's, with cherry_nb installed into it (not the copy).
    assert Path(report["kernel_prefix"]).resolve() == venv.resolve(), report
    assert Path(report["cherry_nb_file"]).resolve().is_relative_to(venv.resolve()), report
    assert set(report["notebooks"]) == {nb.name for nb in notebooks}

    for notebook in notebooks:
        executed = nbformat.read(out_dir / notebook.name, as_version=4)
        for cell in executed.cells:
            for output in cell.get("outputs", []):
                assert output["output_type"] != "error", (notebook.name, cell.source, output)
                if output.get("name") == "stderr":
                    assert "Traceback" not in output["text"], (notebook.name, output["text"])

    quickstart = nbformat.read(out_dir / "01_quickstart.ipynb", as_version=4)
    code = [cell for cell in quickstart.cells if cell.cell_type == "code"]
    everything = "\n".join(_texts(cell) for cell in code)
    assert "received 1 message" in everything and "You said" in everything, everything[:2000]
    setup = next(cell for cell in code if cell.source.strip() == "%chat setup")
    assert any(
        "application/vnd.jupyter.widget-view+json" in output.get("data", {})
        for output in setup.outputs
    ), setup.outputs
