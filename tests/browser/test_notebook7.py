"""Notebook 7 in a real browser: a %%chat reply streams into the live widget as rendered
Markdown and ends as plain rendered Markdown.

Notebook 7 is its own server application (`jupyter notebook`) with its own shell
around JupyterLab's components: the file browser at /tree, one notebook a page at
/notebooks/NAME. The live widget's module must load and render there as in
JupyterLab. The server, browser and page are set up as in test_jupyterlab.py (a
temporary config, no provider key, Debian's Chromium driven by Playwright); artifacts
go to test-artifacts/notebook7/.

Without Chromium, Playwright or Notebook 7 the test skips locally, and fails under
CI=true. VS Code's Jupyter extension cannot be installed here (it is on neither PyPI, npm nor
Debian), so it is not tested; anywidget supports it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The same browser fixtures as JupyterLab's tests (the test functions below name them as
# parameters, hence F811).
from .test_jupyterlab import (  # noqa: F401
    LONG_PROMPT,
    PAGE_LOAD_MS,
    REPO,
    Lab,
    _run_all,
    _serve,
    _unavailable,
    _wait_kernel_idle,
    _write_notebook,
    browser,
    chromium,
    page,
)

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "test-artifacts" / "notebook7"


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory, chromium: Path) -> Iterator[Lab]:  # noqa: F811
    """`jupyter notebook` (Notebook 7) on 127.0.0.1, a free port, a fixed token."""
    try:
        import notebook
    except ImportError:
        _unavailable("notebook (7) is not installed (pip install -e '.[test,lab]')")
    if int(notebook.__version__.split(".")[0]) < 7:
        _unavailable(f"notebook {notebook.__version__} is installed, not Notebook 7")
    base = tmp_path_factory.mktemp("notebook7")
    root = base / "notebooks"
    root.mkdir()
    yield from _serve("notebook", base, root, ARTIFACTS)


def _open(tab: Any, server: Lab, name: str) -> None:
    """Find `name` in Notebook 7's file browser (/tree), open its page
    (/notebooks/NAME), and wait for its kernel to be idle."""
    tab.goto(f"{server.url}tree?token={server.token}", timeout=PAGE_LOAD_MS)
    tab.locator(".jp-DirListing-item", has_text=name).wait_for(timeout=PAGE_LOAD_MS)
    tab.screenshot(path=ARTIFACTS / "01-tree.png")
    tab.goto(f"{server.url}notebooks/{name}", timeout=PAGE_LOAD_MS)
    tab.locator(".jp-NotebookPanel .jp-CodeCell").first.wait_for(timeout=PAGE_LOAD_MS)
    _wait_kernel_idle(server, name)


def test_replies_render_live_as_markdown_in_notebook7(notebook7: Lab, page: Any) -> None:  # noqa: F811
    name = _write_notebook(
        notebook7,
        "live.ipynb",
        "%load_ext cherry_nb\n%chat simulator",
        f"%%chat\n{LONG_PROMPT}",
    )
    _open(page, notebook7, name)
    seen: dict[str, Any] = {}
    lengths: list[int] = []  # the live reply's text length at each poll, as it grows

    def watch(cells: list[list[str]]) -> None:
        if cells[-1][0].strip() != "[*]:":
            return
        live = page.locator(".jp-OutputArea-output .cherry-live")
        if not live.count():
            return
        with contextlib.suppress(Exception):  # the widget may go between two reads
            lengths.append(len(live.locator(".cherry-live-body").inner_text()))
            if not seen and live.locator(".cherry-live-body strong").count():
                seen["head"] = live.locator(".cherry-live-head").inner_text()
                seen["bold"] = live.locator(".cherry-live-body strong").first.inner_text()
                seen["cursor"] = live.locator(".cherry-live-cursor").count()
                page.screenshot(path=ARTIFACTS / "02-live-streaming.png")

    _run_all(page, watch)
    print(f"live reply lengths seen while streaming: {sorted(set(lengths))}")
    assert seen, "the live widget never rendered Markdown while the reply streamed"
    assert seen["head"] == "simulator:sim-chat · streaming…"
    assert seen["bold"] == "sim-chat"  # **sim-chat** rendered before the reply ended
    assert seen["cursor"] == 1
    # At the end: the reply as plain rendered Markdown and its footer, the widget gone.
    output = page.locator(".jp-OutputArea-output.jp-RenderedMarkdown").filter(has_text="word50")
    output.first.wait_for()
    assert output.first.locator("strong", has_text="sim-chat").count() == 1
    page.get_by_text(re.compile(r"simulator:sim-chat · \d+ in / \d+ out tokens")).wait_for()
    assert page.locator(".cherry-live").count() == 0
    for broken in ("Error displaying widget", "Loading widget..."):
        assert page.get_by_text(broken).count() == 0, broken
    page.screenshot(path=ARTIFACTS / "03-live-finished.png")
