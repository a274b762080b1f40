"""JupyterLab in a real browser: the quickstart notebook runs and renders.

A JupyterLab server (this interpreter's, on 127.0.0.1, a free port, a fixed token) serves
a temporary copy of notebooks/ with CHERRY_NB_CONFIG pointing at a temporary file and no
provider key in the environment. Headless Chromium (Debian's /usr/bin/chromium, driven
by Playwright; no browser download) opens 01_quickstart.ipynb, runs Run > Run All Cells,
and checks that the streamed reply and the `%chat setup` provider widget render.
A second test checks that jupyter-server-proxy reaches a gateway the way Binder users do.

Screenshots, the browser console and the server log go to test-artifacts/jupyterlab/.

Without Chromium or Playwright the tests skip locally, and fail under CI=true.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "jupyterlab"
CHROMIUM = Path(os.environ.get("CHERRY_NB_CHROMIUM", "/usr/bin/chromium"))
# No background traffic: everything stays on 127.0.0.1.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
SCRUBBED = [
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
]

SERVER_START_S = 120
PAGE_LOAD_MS = 120_000
KERNEL_READY_MS = 120_000
RUN_ALL_MS = 180_000
STEP_MS = 30_000


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} -- CI=true, so the browser test must run (.ci/run installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        _unavailable(f"{CHROMIUM} not found (apt-get install -y chromium)")
    for module in ("playwright.sync_api", "jupyterlab", "jupyter_server_proxy"):
        try:
            __import__(module)
        except ImportError:
            _unavailable(f"{module} is not installed (pip install -e '.[test,lab]')")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    jupyter = base / "jupyter"
    env.update(
        CHERRY_NB_CONFIG=str(base / "cherry-nb" / "config.json"),
        JUPYTER_CONFIG_DIR=str(jupyter / "config"),
        JUPYTER_DATA_DIR=str(jupyter / "data"),
        JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
        JUPYTER_PLATFORM_DIRS="1",
        IPYTHONDIR=str(jupyter / "ipython"),
    )
    return env


@dataclass
class Lab:
    url: str  # http://127.0.0.1:PORT/
    token: str
    root: Path
    env: dict[str, str]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}


def _write_lab_settings(config_dir: Path) -> None:
    """No news or update checks (no network), no notification toasts over the notebook."""
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab"
    notification = settings / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def _stop_lab(proc: subprocess.Popen[bytes], lab: Lab) -> None:
    """Shut kernels down through the API (they run in their own sessions), then the server."""
    with contextlib.suppress(Exception):
        kernels = httpx.get(f"{lab.url}api/kernels", headers=lab.auth, timeout=5).json()
        for kernel in kernels:
            httpx.delete(f"{lab.url}api/kernels/{kernel['id']}", headers=lab.auth, timeout=20)
    with contextlib.suppress(Exception):
        httpx.post(f"{lab.url}api/shutdown", headers=lab.auth, timeout=5)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


#: JupyterLab's own options besides the server's: no news, no update checks (no network).
LAB_ARGS = (
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, chromium: Path) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in root.glob("*.ipynb"):  # start clean, so "every prompt numbered" means "ran"
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, path)
    yield from _serve("jupyterlab", base, root, ARTIFACTS, LAB_ARGS)


def _serve(
    module: str, base: Path, root: Path, artifacts: Path, extra: Sequence[str] = ()
) -> Iterator[Lab]:
    """`python -m MODULE` (a Jupyter server application) serving `root` on 127.0.0.1, a
    free port and a fixed token, with the test's own config dirs; yielded once
    `/api/status` answers, stopped (kernels first) after, its log kept in `artifacts`."""
    env = _env(base)
    _write_lab_settings(Path(env["JUPYTER_CONFIG_DIR"]))
    port, token = _free_port(), secrets.token_hex(16)
    lab = Lab(url=f"http://127.0.0.1:{port}/", token=token, root=root, env=env)
    cmd = [
        sys.executable,
        "-m",
        module,
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        *extra,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = base / f"{module}.log"
    artifacts.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=root
        )
        try:
            deadline = time.monotonic() + SERVER_START_S
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"{module} exited ({proc.returncode}):\n{log_path.read_text()}")
                with contextlib.suppress(httpx.HTTPError):
                    response = httpx.get(f"{lab.url}api/status", headers=lab.auth, timeout=2)
                    if response.status_code == 200:
                        break
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"{module} not ready in {SERVER_START_S} s:\n{log_path.read_text()}"
                    )
                time.sleep(0.25)
            yield lab
        finally:
            _stop_lab(proc, lab)
            shutil.copy2(log_path, artifacts / log_path.name)


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page; its console is saved, and a screenshot is taken if the test fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(STEP_MS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"[{message.type}] {message.text}"))
    page.on("pageerror", lambda error: console.append(f"[pageerror] {error}"))
    name = request.node.name
    try:
        yield page
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is None or failed.failed:
            with contextlib.suppress(Exception):
                page.screenshot(path=ARTIFACTS / f"{name}-failure.png", full_page=True)
        (ARTIFACTS / f"{name}-console.log").write_text("\n".join(console) + "\n")
        context.close()


# [prompt, source, output text] of every code cell of the open notebook, in one round trip.
_CELLS_JS = """() => [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell')].map(cell => [
    cell.querySelector('.jp-InputPrompt')?.textContent ?? '',
    cell.querySelector('.jp-InputArea-editor')?.textContent ?? '',
    cell.querySelector('.jp-OutputArea')?.textContent ?? '',
])"""
STORY = "Tell me a long story"


def test_quickstart_runs_and_renders_in_jupyterlab(lab: Lab, page: Any) -> None:
    page.goto(f"{lab.url}lab/tree/01_quickstart.ipynb?token={lab.token}", timeout=PAGE_LOAD_MS)
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=PAGE_LOAD_MS)
    # The kernel is up: the status bar reads "Python 3 (ipykernel) | Idle".
    page.locator(".jp-StatusBar-Item", has_text=re.compile(r"ipykernel\) \| Idle")).wait_for(
        timeout=KERNEL_READY_MS
    )
    page.locator(".jp-NotebookPanel .jp-CodeCell").first.wait_for()
    page.screenshot(path=ARTIFACTS / "01-opened.png")

    # Run > Run All Cells.
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(
        ".lm-Menu-item .lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")
    ).click()

    # Every code cell ran: a number in every prompt, none busy. Meanwhile, watch the long
    # story cell: its reply must grow in the page while the cell is still running.
    partial_lengths: set[int] = set()
    deadline = time.monotonic() + RUN_ALL_MS / 1000
    while True:
        cells = page.evaluate(_CELLS_JS)
        prompts = [prompt.strip() for prompt, _, _ in cells]
        if prompts and all(re.fullmatch(r"\[\d+\]:", prompt) for prompt in prompts):
            break
        for prompt, source, output in cells:
            if STORY in source and prompt.strip() == "[*]:" and output.strip():
                partial_lengths.add(len(output))
        if time.monotonic() > deadline:
            pytest.fail(f"cells still pending after Run All: {prompts}")
        time.sleep(0.05)
    print(f"long story: {len(partial_lengths)} partial renders seen while running")
    assert len(partial_lengths) >= 2, f"no streaming seen, partial lengths {partial_lengths}"

    outputs = page.locator(".jp-OutputArea-output")
    reply = outputs.filter(has_text="received 1 message").first
    reply.wait_for(state="attached")
    assert "You said" in (reply.text_content() or "")  # inner_text is empty off screen

    # The provider widget (ipywidgets, rendered by the JupyterLab widget manager).
    add_button = page.locator(".jp-OutputArea-output .widget-button", has_text="Add provider")
    add_button.wait_for(state="visible")
    widget = outputs.filter(has=page.locator(".widget-button", has_text="Add provider")).first
    widget.scroll_into_view_if_needed()
    assert page.locator(
        ".jp-OutputArea-output .widget-button", has_text="Detect local servers"
    ).count()
    for broken in ("Error displaying widget", "Loading widget..."):
        assert page.get_by_text(broken).count() == 0, broken
    page.screenshot(path=ARTIFACTS / "02-provider-widget.png")
    widget.screenshot(path=ARTIFACTS / "03-provider-widget-element.png")

    reply.evaluate("element => element.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)  # cells off screen are painted lazily (content-visibility)
    page.screenshot(path=ARTIFACTS / "04-streamed-reply.png")
    # No cell shows a Python traceback.
    assert (
        page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        .filter(has_text="Traceback")
        .count()
        == 0
    )


@pytest.fixture
def gateway(lab: Lab, tmp_path: Path) -> Iterator[tuple[int, str]]:
    """`cherry-nb serve` on a free port, as a kernel's gateway would listen on 127.0.0.1."""
    key = f"cs-sk-test-{secrets.token_hex(8)}"
    cmd = [sys.executable, "-m", "cherry_nb", "serve", "--port", "0", "--api-key", key]
    cmd += ["--config", str(tmp_path / "gateway.json")]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=lab.env,
        text=True,
    )
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # ends if the process exits
            seen.append(line)
            match = re.search(r"Listening on http://127\.0\.0\.1:(\d+)", line)
            if match:
                break
        else:
            pytest.fail(f"cherry-nb serve exited ({proc.wait()}):\n{''.join(seen)}")
        yield int(match.group(1)), key
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_gateway_is_reachable_through_jupyter_server_proxy(
    lab: Lab, gateway: tuple[int, str], page: Any
) -> None:
    """What Binder users get: {prefix}proxy/PORT/ forwards to the gateway on 127.0.0.1."""
    port, key = gateway
    proxied = f"{lab.url}proxy/{port}/"
    health = httpx.get(f"{proxied}health", headers=lab.auth, timeout=30)
    assert health.status_code == 200, health.text
    # Jupyter's own auth rides in the query; the gateway's key in X-API-Key.
    models = httpx.get(
        f"{proxied}v1/models", params={"token": lab.token}, headers={"X-API-Key": key}, timeout=30
    )
    assert models.status_code == 200, models.text
    assert models.json()["object"] == "list"
    refused = httpx.get(f"{proxied}v1/models", params={"token": lab.token}, timeout=30)
    assert refused.status_code == 401, refused.text


def test_api_docs_render_through_jupyter_server_proxy(
    lab: Lab, gateway: tuple[int, str], page: Any
) -> None:
    """The Swagger UI, opened in the browser through the proxy, as under Binder."""
    port, _ = gateway
    proxied = f"{lab.url}proxy/{port}/"
    page.goto(f"{proxied}api-docs?token={lab.token}", timeout=PAGE_LOAD_MS)
    page.locator(".swagger-ui .info .title").wait_for(timeout=10_000)
    page.locator(".swagger-ui .opblock").first.wait_for(timeout=10_000)
    page.screenshot(path=ARTIFACTS / "05-api-docs-through-proxy.png")


# ---- round two: live rendering, per-kernel simulators, the manager's Check, tools -----------


def _write_notebook(lab: Lab, name: str, *sources: str) -> str:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, lab.root / name)
    return name


def _wait_kernel_idle(lab: Lab, name: str) -> None:
    """Wait until the kernel of notebook `name` (started when its page opened) is idle."""
    deadline = time.monotonic() + KERNEL_READY_MS / 1000
    while True:
        with contextlib.suppress(StopIteration, httpx.HTTPError):
            kernel = _kernel_of(lab, name)
            state = httpx.get(f"{lab.url}api/kernels/{kernel}", headers=lab.auth, timeout=10)
            if state.json().get("execution_state") == "idle":
                return
        if time.monotonic() > deadline:
            pytest.fail(f"the kernel of {name} is not ready")
        time.sleep(0.2)


def _open(page: Any, lab: Lab, name: str) -> None:
    """Open `name` alone (?reset: no tabs restored from an earlier test), and wait for
    its own kernel to be idle."""
    page.goto(f"{lab.url}lab/tree/{name}?reset&token={lab.token}", timeout=PAGE_LOAD_MS)
    page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=PAGE_LOAD_MS)
    _wait_kernel_idle(lab, name)
    page.locator(".jp-StatusBar-Item", has_text=re.compile(r"ipykernel\) \| Idle")).wait_for(
        timeout=KERNEL_READY_MS
    )


def _run_all(page: Any, watch: Any = None) -> list[list[str]]:
    """Run > Run All Cells, wait until every prompt is numbered; `watch(cells)` is
    called on every poll meanwhile. Returns the cells as _CELLS_JS reads them."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(
        ".lm-Menu-item .lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")
    ).click()
    page.wait_for_timeout(300)  # the prompts turn to [*] first
    deadline = time.monotonic() + RUN_ALL_MS / 1000
    while True:
        cells = page.evaluate(_CELLS_JS)
        if watch is not None:
            watch(cells)
        prompts = [prompt.strip() for prompt, _, _ in cells]
        if prompts and all(re.fullmatch(r"\[\d+\]:", prompt) for prompt in prompts):
            return cells
        if time.monotonic() > deadline:
            pytest.fail(f"cells still pending after Run All: {prompts}")
        time.sleep(0.05)


def _shows(page: Any, cell: int, text: str) -> str:
    """Wait until code cell `cell`'s output shows `text` (Markdown renders a moment
    after the cell's prompt is numbered); returns the output's text."""
    output = page.locator(".jp-NotebookPanel .jp-CodeCell").nth(cell).locator(".jp-OutputArea")
    output.filter(has_text=text).wait_for(state="attached")
    return str(output.text_content())


def _kernel_of(lab: Lab, name: str) -> str:
    sessions = httpx.get(f"{lab.url}api/sessions", headers=lab.auth, timeout=10).json()
    return next(s["kernel"]["id"] for s in sessions if s["path"].endswith(name))


LONG_PROMPT = " ".join(f"word{i}" for i in range(60)) + " [[sim:delay=0.05]]"


def test_replies_render_live_as_markdown_and_end_as_plain_markdown(lab: Lab, page: Any) -> None:
    name = _write_notebook(
        lab,
        "live.ipynb",
        "%load_ext cherry_nb\n%chat simulator",
        f"%%chat\n{LONG_PROMPT}",
    )
    _open(page, lab, name)
    seen: dict[str, Any] = {}

    def watch(cells: list[list[str]]) -> None:
        if seen or cells[-1][0].strip() != "[*]:":
            return
        live = page.locator(".jp-OutputArea-output .cherry-live")
        if live.count() and "word1" in live.first.inner_text():
            seen["head"] = live.locator(".cherry-live-head").inner_text()
            seen["bold"] = live.locator(".cherry-live-body strong").first.inner_text()
            seen["cursor"] = live.locator(".cherry-live-cursor").count()
            seen["classes"] = live.locator(".cherry-live-body").get_attribute("class")
            page.screenshot(path=ARTIFACTS / "06-live-streaming.png")

    _run_all(page, watch)
    assert seen, "the live widget never showed the reply while it streamed"
    assert seen["head"] == "simulator:sim-chat · streaming…"
    assert seen["bold"] == "sim-chat"  # **sim-chat** rendered while streaming
    assert seen["cursor"] == 1 and "jp-RenderedMarkdown" in seen["classes"]
    # At the end: plain rendered Markdown, the widget gone.
    output = page.locator(".jp-OutputArea-output.jp-RenderedMarkdown").filter(has_text="word50")
    output.first.wait_for()
    assert output.first.locator("strong", has_text="sim-chat").count() == 1
    assert page.locator(".cherry-live").count() == 0
    page.screenshot(path=ARTIFACTS / "07-live-finished.png")


def test_a_stopped_simulator_in_one_kernel_does_not_break_another(lab: Lab, page: Any) -> None:
    config = Path(lab.env["CHERRY_NB_CONFIG"])
    before = config.read_bytes() if config.exists() else None
    first = _write_notebook(
        lab, "kernel_a.ipynb", "%load_ext cherry_nb\n%chat simulator", "%%chat\nhello from A"
    )
    second = _write_notebook(
        lab,
        "kernel_b.ipynb",
        "%load_ext cherry_nb",
        "%%chat -m simulator:sim-chat\nbefore starting my own",
        "%chat simulator",
        "%%chat\nhello from B",
    )
    _open(page, lab, first)
    _run_all(page)
    _shows(page, 1, "received 1 message")
    _open(page, lab, second)
    _run_all(page)
    stopped = _shows(page, 1, "No offline simulator runs in this notebook")
    assert "%chat simulator" in stopped and "proxy" not in stopped.lower()
    _shows(page, 3, "received 1 message")
    # Stop A's kernel (its simulator goes with it); B carries on with its own.
    kernel = _kernel_of(lab, first)
    httpx.delete(f"{lab.url}api/kernels/{kernel}", headers=lab.auth, timeout=30)
    page.locator(".jp-NotebookPanel .jp-CodeCell").nth(3).locator(".jp-OutputArea").evaluate(
        "element => { element.textContent = '' }"  # so the next check sees the new output
    )
    _run_all(page)
    _shows(page, 3, "received 5 messages")  # the conversation went on, on B's simulator
    after = config.read_bytes() if config.exists() else None
    assert after == before  # no simulator was ever written to the shared config


def test_the_managers_check_tests_unsaved_values_and_saves_nothing(lab: Lab, page: Any) -> None:
    from cherry_nb.simulator import SimulatorThread

    config = Path(lab.env["CHERRY_NB_CONFIG"])
    before = config.read_bytes() if config.exists() else None
    name = _write_notebook(lab, "setup.ipynb", "%load_ext cherry_nb\n%chat setup")
    with SimulatorThread() as upstream:
        _open(page, lab, name)
        _run_all(page)
        page.locator(".widget-button", has_text="Add provider").click()

        def field(label: str) -> Any:
            return page.locator(".widget-text", has=page.get_by_text(label, exact=True)).locator(
                "input"
            )

        field("Name").fill("Unsaved upstream")
        field("API address").fill(upstream.base_url("openai"))
        page.locator(".widget-button", has_text=re.compile(r"^\s*Check\s*$")).click()
        result = page.locator(".widget-html", has_text="not saved yet")
        result.wait_for()
        assert "✓" in result.inner_text() and "models listed" in result.inner_text()
        assert "press Add" in result.inner_text()
        page.screenshot(path=ARTIFACTS / "08-check-unsaved.png")
    after = config.read_bytes() if config.exists() else None
    assert after == before  # Check never saves


def test_a_notebook_function_is_called_from_a_chat_cell(lab: Lab, page: Any) -> None:
    name = _write_notebook(
        lab,
        "tools.ipynb",
        "%load_ext cherry_nb\n%chat simulator",
        "calls = []\n\n"
        "def get_weather(city: str) -> str:\n"
        '    """The weather in a city."""\n'
        "    calls.append(city)\n"
        '    return f"21 C in {city}"',
        "%%chat --tools get_weather\nUse get_weather for Paris.",
        "print('calls:', calls)",
    )
    _open(page, lab, name)
    _run_all(page)
    _shows(page, 2, "1 tool call")
    _shows(page, 3, "calls: ['example']")  # it ran in the kernel
    output = page.locator(".jp-OutputArea-output.jp-RenderedMarkdown").filter(
        has_text="Tool get_weather returned"
    )
    output.first.wait_for()
    call = output.first.locator("code", has_text="get_weather(city='example')")
    assert call.count() == 1  # shown compactly, as code
    output.first.screenshot(path=ARTIFACTS / "09-tool-call.png")
