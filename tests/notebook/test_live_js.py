"""The live widget's Markdown renderer (static/live_reply.js), run in Node.

What it must get right: the same structure as the final Markdown output (so the
reply does not jump when it is replaced), and no HTML of the model's own ever
reaching the page. Skipped without Node (the browser test runs it in Chromium).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import cherry_nb.notebook
from cherry_nb.notebook.live import compact

MODULE = Path(cherry_nb.notebook.__file__).parent / "static" / "live_reply.js"
NODE = shutil.which("node")


def render(markdowns: list[str], tmp_path: Path) -> list[str]:
    return run_module(f"const inputs = {json.dumps(markdowns)};", "inputs.map(markdown)", tmp_path)


def run_module(setup: str, expression: str, tmp_path: Path) -> Any:
    """The JSON value of `expression`, evaluated after `setup` with the module's
    exports (markdown, revealTo) imported."""
    if NODE is None:
        pytest.skip("node is not installed")
    compacted = tmp_path / "live_reply.mjs"
    compacted.write_text(compact(MODULE.read_text()))  # what the widget really ships
    script = (
        f"import {{ markdown, revealTo }} from {json.dumps(compacted.as_uri())};\n"
        f"{setup}\nconsole.log(JSON.stringify({expression}));\n"
    )
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_markdown_blocks_and_inline(tmp_path: Path):
    (html,) = render(
        [
            "# Title\n\nSome **bold**, *em*, `code <b>` and [a link](https://example.com).\n\n"
            "- one\n- two\n  - nested\n\n1. first\n2. second\n\n"
            "```python\nprint('<hi>')\n```\n\n> quoted\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n---"
        ],
        tmp_path,
    )
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html
    assert "<code>code &lt;b&gt;</code>" in html
    assert (
        '<a href="https://example.com" target="_blank" rel="noopener noreferrer">a link</a>' in html
    )
    assert "<ul><li>one</li><li><p>two</p>\n<ul><li>nested</li></ul></li></ul>" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert '<pre><code class="language-python">print(&#39;&lt;hi&gt;&#39;)</code></pre>' in html
    assert "<blockquote><p>quoted</p></blockquote>" in html
    assert '<th style="text-align:right">b</th>' in html and "<td>1</td>" in html
    assert html.endswith("<hr>")


def test_nothing_the_model_writes_becomes_html(tmp_path: Path):
    outputs = render(
        [
            "<script>alert(1)</script> <img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            '[x](https://e.com/"onmouseover="alert(1))',
            "`<script>`",
        ],
        tmp_path,
    )
    for html in outputs:
        assert (
            "<script" not in html and "<img" not in html and "javascript:" not in html.split("[")[0]
        )
    assert "&lt;script&gt;" in outputs[0]
    assert "<a" not in outputs[1]  # not a safe scheme: left as text
    assert 'onmouseover="' not in outputs[2]


def test_partial_markdown_mid_stream_renders(tmp_path: Path):
    # An unclosed fence or emphasis, as a stream leaves it between two deltas.
    fence, emphasis, table = render(
        ["Here:\n\n```js\nconst a = 1", "some **bold wor", "| a | b |\n|---|"], tmp_path
    )
    assert fence.endswith('<pre><code class="language-js">const a = 1</code></pre>')
    assert "some **bold wor" in emphasis
    assert "<table>" in table


def test_a_batch_is_revealed_in_whole_words(tmp_path: Path):
    # Where the reveal has got to (a fractional character) -> how much is shown.
    text = "one two  three"
    shown = run_module(
        f"const text = {json.dumps(text)};",
        "[0, 0.4, 2.9, 3, 3.2, 8.5, 9, 13.5, 99].map((at) => revealTo(text, at))",
        tmp_path,
    )
    assert [text[:n] for n in shown] == [
        "one",  # the first word at once
        "one",
        "one",
        "one",
        "one two",
        "one two  three",
        "one two  three",
        "one two  three",
        "one two  three",  # never past the end
    ]
