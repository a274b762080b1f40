"""The notebook layer's pure pieces: interpolation, conversation, update batching."""

from __future__ import annotations

import io

import pytest

from cherry_nb.notebook import render
from cherry_nb.notebook.conversation import Conversation, Sessions, usage_line
from cherry_nb.notebook.interpolate import interpolate
from cherry_nb.notebook.render import MAX_WAIT, MIN_BATCH, PLAIN_LIMIT, ColumnsView, ReplyView
from cherry_nb.wire.neutral import Usage


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi {name}!", "Hi Ada!"),
        ("{{name}} is literal", "{name} is literal"),
        ("{{ {name} }}", "{ Ada }"),
        ("{missing} stays", "{missing} stays"),
        ("{n} items", "3 items"),
        ("no {expr + 1} evaluation", "no {expr + 1} evaluation"),
        ("{__import__} {_private}", "{__import__} {_private}"),
        ('json {"a": 1}', 'json {"a": 1}'),
    ],
)
def test_interpolate(text, expected):
    assert interpolate(text, {"name": "Ada", "n": 3, "_private": "x", "expr": 1}) == expected


def test_interpolate_never_executes():
    class Loud:
        def __format__(self, spec: str) -> str:  # pragma: no cover - must not be called
            raise AssertionError("formatted")

        def __str__(self) -> str:
            return "quiet"

    assert interpolate("{obj} {obj.attr} {obj()}", {"obj": Loud()}) == "quiet {obj.attr} {obj()}"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_first_delta_goes_out_at_once_then_batches():
    clock, out = Clock(), io.StringIO()
    view = ReplyView(out=out, clock=clock)
    view.add("Hel")
    view.tick()
    assert out.getvalue() == "Hel"
    clock.now += 0.5
    view.add("lo")
    view.tick()
    assert out.getvalue() == "Hel"  # small and fresh: waits for more
    view.add("x" * MIN_BATCH)
    view.tick()
    assert out.getvalue() == "Hello" + "x" * MIN_BATCH


def test_rate_limit_and_staleness():
    clock, out = Clock(), io.StringIO()
    view = ReplyView(out=out, clock=clock)
    view.add("a")
    view.tick()
    view.add("b" * 1000)
    view.tick()
    assert out.getvalue() == "a"  # under 100 ms since the last update
    clock.now += 0.15
    view.tick()
    assert out.getvalue().endswith("b" * 1000)
    view.add("c")
    clock.now += MAX_WAIT - 0.01
    view.tick()
    assert out.getvalue().endswith("b")  # one small delta waits ...
    clock.now += 0.01
    view.tick()
    assert out.getvalue().endswith("c")  # ... at most MAX_WAIT: a slow stream still moves


def test_batches_count_bytes_and_thinking():
    clock, out = Clock(), io.StringIO()
    view = ReplyView(out=out, clock=clock)
    view.add("a")
    view.tick()
    clock.now += 0.2
    half = "é" * (MIN_BATCH // 2 - 1) + "e"  # half as many characters as bytes
    view.add(half)  # one byte short of a batch
    view.tick()
    assert out.getvalue() == "a"
    view.add_thinking("x")  # reasoning fills the batch as text does
    view.tick()
    assert out.getvalue() == "a" + half
    view.add_thinking("y")  # nothing of the reply pending: waits its turn ...
    clock.now += 0.2
    view.tick()
    clock.now += MAX_WAIT
    view.add("z")
    view.tick()
    assert out.getvalue().endswith("z")  # ... and goes with the next batch


def test_plain_text_twin_holds_a_short_reply_and_the_start_of_a_long_one():
    short = "word " * (PLAIN_LIMIT // 5)
    assert render.reply_bundle(short)["text/plain"] == short
    long = "word " * 1000
    bundle = render.reply_bundle(long)
    assert bundle["text/markdown"] == long  # the Markdown is whole
    plain = bundle["text/plain"]
    head, note = plain.split(" …\n\n")
    assert long.startswith(head + " ") and len(head) <= PLAIN_LIMIT  # cut between words
    more = len(long) - len(head) - 1
    assert note == (
        f"[{more:,} more characters: the whole reply is this output's Markdown "
        "(text/markdown), and `_chat` until the next %%chat cell]"
    )
    unbroken = "x" * (PLAIN_LIMIT * 2)  # no break to cut at: cut at the limit
    assert render.plain_reply(unbroken).startswith("x" * PLAIN_LIMIT + " …")


def test_comparison_columns_cut_their_plain_text_twins_as_a_single_reply():
    long, short = "word " * 1000, "brief answer"
    bundle = render.columns_bundle(
        [render.Column("sim:a", long), render.Column("sim:b", short, note="0.1 s")]
    )
    assert long in bundle["text/markdown"] and short in bundle["text/markdown"]  # whole
    plain = bundle["text/plain"]
    assert len(plain) < PLAIN_LIMIT + 300  # the long column cut, not carried twice
    assert "and `_chat['sim:a']` until the next %%chat cell]" in plain
    assert "== sim:b ==\nbrief answer\n— 0.1 s" in plain  # a short one whole


class Shown:
    """Stands in for IPython's display: the bundles shown, then updated, in order."""

    def __init__(self) -> None:
        self.bundles: list[dict[str, str]] = []

    def __call__(self, bundle: dict[str, str], **kwargs: object) -> Shown:
        self.bundles.append(bundle)
        return self

    def update(self, bundle: dict[str, str], raw: bool) -> None:
        self.bundles.append(bundle)


def test_columns_render_at_once_then_when_doubled_in_one_layout(monkeypatch):
    shown, clock = Shown(), Clock()
    monkeypatch.setattr(render, "_show", shown)
    view = ColumnsView(["a:m", "b:m"], clock=clock)
    view.add(0, "Hel")
    view.tick()
    assert len(shown.bundles) == 1 and "Hel" in shown.bundles[0]["text/markdown"]
    assert shown.bundles[0]["text/markdown"].count("· streaming…") == 2
    clock.now += 1
    for _ in range(10):
        view.add(0, "ll")
        view.add(1, "<o>")
    view.tick()
    assert len(shown.bundles) == 1  # 53 characters: under the floor of 64
    view.add(1, "!" * 50)
    view.tick()
    assert len(shown.bundles) == 2 and "<o>" * 10 + "!" * 50 in shown.bundles[1]["text/markdown"]
    view.add(0, "x" * 150)
    view.tick()
    assert len(shown.bundles) == 2  # twice the 103 sent, but under 100 ms since
    clock.now += 0.2
    view.tick()
    assert len(shown.bundles) == 3
    view.add(0, "y" * 10)
    clock.now += 1
    view.tick()
    assert len(shown.bundles) == 3  # 263 characters: not twice the 253 sent
    view.note(1, "b:m · 1.0 s")
    view.finish()
    assert len(shown.bundles) == 4
    assert view.texts == ["Hel" + "l" * 20 + "x" * 150 + "y" * 10, "<o>" * 10 + "!" * 50]
    final = shown.bundles[-1]["text/plain"]
    assert final.startswith("== a:m ==\nHel" + "l" * 20 + "x" * 150 + "y" * 10 + "\n\n== b:m")
    assert final.endswith("<o>" * 10 + "!" * 50 + "\n— b:m · 1.0 s")
    # The same table from the first render to the last: only the text changes.
    layouts = [b["text/markdown"].split("<tr>")[0] for b in shown.bundles]
    assert len(set(layouts)) == 1 and "streaming" not in shown.bundles[-1]["text/markdown"]


def test_a_failed_column_shows_its_panel_at_once_and_cut_code_stays_in_its_cell(monkeypatch):
    shown, clock = Shown(), Clock()
    monkeypatch.setattr(render, "_show", shown)
    view = ColumnsView(["a:m", "b:m"], clock=clock)
    view.add(0, "```python\nprint(1)")
    view.tick()
    assert "print(1)\n```\n\n</td>" in shown.bundles[0]["text/markdown"]
    clock.now += 1
    view.fail(1, "b:m failed", "No such model `x`.", "Try `b:y`.")
    view.tick()
    assert len(shown.bundles) == 2  # not waiting for the others to double
    assert "<code>x</code>" in shown.bundles[1]["text/markdown"]
    assert "Try <code>b:y</code>." in shown.bundles[1]["text/markdown"]
    assert "a:m <small" in shown.bundles[1]["text/markdown"]  # a:m still streaming, b:m not
    assert "b:m <small" not in shown.bundles[1]["text/markdown"]
    view.finish()
    assert "b:m failed\nNo such model `x`.\nTry `b:y`." in shown.bundles[-1]["text/plain"]


def test_error_panels_render_code_and_keep_the_listing():
    bundle = render.error_bundle("Oops", "Run `%chat simulator` <now>.", "", "a  b\nc  d\n")
    assert "Run <code>%chat simulator</code> &lt;now&gt;." in bundle["text/html"]
    assert "<pre" in bundle["text/html"] and "a  b\nc  d</pre>" in bundle["text/html"]
    assert bundle["text/plain"] == "Oops\nRun `%chat simulator` <now>.\na  b\nc  d"


def test_conversation_records_partial_and_errors():
    conversation = Conversation(system="Be kind")
    conversation.record("p:m", "hi", "hello")
    conversation.record("p:m", "more", "par", interrupted=True)
    conversation.record_error("p:m", "again", "boom")
    assert [m.role for m in conversation.ask("next")] == ["user", "assistant"] * 2 + ["user"]
    transcript = conversation.transcript()
    assert (
        "Be kind" in transcript and "_(interrupted)_" in transcript and "failed: boom" in transcript
    )


def test_reset_of_a_session_resets_its_comparison_threads():
    sessions = Sessions()
    for name in ("default", "side", "side|x"):
        sessions.get(name).record("a:m", "hi", "hello")
        for ref in ("a:m", "b:m"):
            sessions.thread(name, ref).record(ref, "hi", "hello")
    sessions.reset("side")
    assert not sessions.get("side").messages
    assert not sessions.thread("side", "a:m").messages
    assert not sessions.thread("side", "b:m").messages
    # Other sessions keep theirs, even one whose name starts with "side|".
    assert sessions.get("default").messages and sessions.thread("default", "a:m").messages
    assert sessions.get("side|x").messages and sessions.thread("side|x", "b:m").messages
    sessions.reset()
    assert not sessions.get("default").messages
    assert not sessions.thread("side|x", "b:m").messages


def test_usage_line():
    assert usage_line("p:m", Usage(12, 34), 1.26, False) == "p:m · 12 in / 34 out tokens · 1.3 s"
    assert usage_line("p:m", None, 0.5, True) == "p:m · 0.5 s · interrupted"


def test_the_final_reply_keeps_reasoning_collapsed_above_it_in_markdown_only():
    bundle = render.reply_bundle("The answer.", "I thought **hard**.")
    assert bundle["text/markdown"] == (
        "<details><summary>Thinking</summary>\n\nI thought **hard**.\n\n</details>\n\nThe answer."
    )
    assert bundle["text/plain"] == "The answer."
    assert render.reply_bundle("Just this.") == {
        "text/markdown": "Just this.",
        "text/plain": "Just this.",
    }


def test_tool_schemas_from_signatures_and_docstrings():
    from cherry_nb._exceptions import ConfigError
    from cherry_nb.notebook.tools import call_line, python_tool

    def search(query: str, limit: int = 3, tags: list[str] | None = None) -> list[str]:
        """Search the notes.

        :param query: What to look for.
        :param limit: How many results.
        """
        return [query] * limit

    tool = python_tool(search)
    assert tool.description == "Search the notes."
    assert tool.parameters["required"] == ["query"]
    assert tool.parameters["properties"]["limit"] == {
        "default": 3,
        "type": "integer",
        "description": "How many results.",
    }
    assert tool.call({"query": "x", "limit": "2"}) == ('["x", "x"]', False)  # coerced
    text, failed = tool.call({"limit": 2})
    assert failed and "query" in text and "Missing" in text
    assert call_line("search", {"query": "x"}, "a`b", False) == "`search(query='x')` → `aʼb`"
    with pytest.raises(ConfigError, match="not a function"):
        python_tool(42, "answer")  # type: ignore[arg-type]
