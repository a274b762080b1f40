"""What a %%chat cell shows, and how it is sent to the front end.

A streamed reply is sent as it grows, but only what is new: to the live reply
widget (live.py), whose front end renders the Markdown as it arrives, or — where
there is no kernel with widgets — as plain-text `stream` messages. Either way the
deltas are batched by bytes as well as time (ReplyView.tick says how and why), so
each update's envelope is paid for by the text it carries. When the reply is
finished, the cell output is replaced (clear_output(wait=True), so nothing
flickers) by the reply as Markdown, its provenance in the display metadata, and a
one-line footer. Its text/plain twin (terminals, `jupyter console`, front ends
without Markdown) holds the reply only up to PLAIN_LIMIT characters, then says how
much more there is and where it is — as pandas gives a full text/html table and a
truncated text/plain repr: a long reply is not paid for twice.

Bytes to the front end, measured in a real kernel (tests/notebook/test_chat_magic.py):
a fast stream costs ~1.1x the reply, one at a hosted model's pace (~32 words/s)
~2.8x over 15 s and ~2.5x over a minute, besides the widget's module once per reply
and ~1 KB of footer and provenance — instead of the 30-40x of re-sending the whole
reply ten times a second.

Side-by-side comparisons cannot append to columns, so they re-render the whole
table, but only when the replies have doubled in length since the last render
(or at the end): a geometric series that also stays within a few times the
text.

All of this runs on the kernel's main thread: display calls from other threads
land in the wrong cell.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from IPython.display import clear_output, display

from .live import LiveSink, live_available
from .markup import inline_html

MIN_INTERVAL = 0.1  # seconds between front-end updates (10 a second at most)
MIN_BATCH = 256  # bytes of new text worth an update of their own
MAX_WAIT = 1.0  # seconds a smaller batch may wait (measured from the last update)
PLAIN_LIMIT = 1000  # characters of the reply its text/plain twin holds
PROVENANCE_KEY = "cherry_nb"  # the display metadata key that says what produced a reply


def _show(bundle: dict[str, str], **kwargs: Any) -> Any:
    return display(bundle, raw=True, **kwargs)


class ReplyView:
    """One streamed reply in the current cell: live rendered Markdown in a kernel
    with widgets, plain `stream` text otherwise (or when `out` is given)."""

    def __init__(
        self,
        title: str = "",
        *,
        out: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float = MIN_INTERVAL,
        live: bool | None = None,
    ) -> None:
        self._out = out
        self._clock = clock
        self._interval = interval
        self._pending: list[str] = []
        self._thinking: list[str] = []
        self._pending_bytes = 0  # UTF-8 bytes of the two above
        self._last = 0.0
        self.sent_any = False
        if live is None:
            live = out is None and live_available()
        self._title = title
        self._live = LiveSink(streaming_header(title), reveal=MAX_WAIT) if live else None

    def add(self, text: str) -> None:
        self._pending.append(text)
        self._pending_bytes += len(text.encode())

    def add_thinking(self, text: str) -> None:
        """Reasoning (thinking, summaries, thoughts): shown collapsed above the reply.
        It is batched with the reply's text and counts the same."""
        self._thinking.append(text)
        self._pending_bytes += len(text.encode())

    def tick(self) -> None:
        """Send what is pending if it is worth an update.

        The first text goes at once (the first token shows as soon as it comes).
        After that, an update goes when MIN_INTERVAL has passed since the last one
        and MIN_BATCH bytes are pending, or when MAX_WAIT has passed, whatever is
        pending. Why these numbers: an update's comm envelope (comm id, method) is
        ~95 bytes of JSON, so 256 bytes of text keep it under ~40% of what the update
        carries. A hosted model's ~32 words/s (~210 bytes/s) fills no batch, so it
        updates once a second carrying ~210 bytes; measured in a real kernel, that
        costs ~2.8x the reply's bytes over 15 s (the final Markdown 1x, the updates
        ~1.5x, the text/plain twin's 1,000 characters 0.3x) and ~2.5x over a minute,
        where MAX_WAIT = 0.5 s costs 3.3x. A
        faster stream sends >= 256 bytes an update, at most 10 a second. A very slow
        one (a few words a second) still moves once a second: its cost is then mostly
        envelopes, ~95 bytes a second (240 words over a minute: ~7x the reply). The
        front end reveals each batch word by word over the time to the next
        (static/live_reply.js), so one-second batches do not look jumpy."""
        if not self._pending_bytes:
            return
        since = self._clock() - self._last
        if since < self._interval:
            return
        if not self.sent_any or since >= MAX_WAIT or self._pending_bytes >= MIN_BATCH:
            self._send()

    def _send(self) -> None:
        text, thinking = "".join(self._pending), "".join(self._thinking)
        if self._live is not None:
            self._live.send(text, thinking)
        elif text:
            out = self._out or sys.stdout
            out.write(text)
            out.flush()
        self._pending.clear()
        self._thinking.clear()
        self._pending_bytes = 0
        self._last = self._clock()
        self.sent_any = True

    def clear(self) -> None:
        """Remove whatever was streamed (before an error panel or the result takes
        its place)."""
        self._pending.clear()
        self._thinking.clear()
        if self.sent_any or self._live is not None:
            clear_output(wait=True)

    def finish(
        self,
        text: str,
        footer: str,
        *,
        interrupted: bool = False,
        thinking: str = "",
        provenance: Mapping[str, Any] | None = None,
    ) -> None:
        """Replace the streamed reply by the rendered one, its footer and provenance."""
        self.clear()
        metadata = {PROVENANCE_KEY: dict(provenance)} if provenance else {}
        if text or thinking:
            _show(reply_bundle(text, thinking), metadata=metadata)
        elif not interrupted:
            bundle = {"text/markdown": "_(empty reply)_", "text/plain": "(empty reply)"}
            _show(bundle, metadata=metadata)
        _show(footer_bundle(footer))
        self.close()

    def close(self) -> None:
        """Close the live widget (its view is gone once the output is replaced)."""
        if self._live is not None:
            self._live.close()
            self._live = None


def streaming_header(title: str) -> str:
    return f"{title} · streaming…" if title else "streaming…"


def reply_bundle(text: str, thinking: str = "") -> dict[str, str]:
    """The finished reply: Markdown (the reasoning, if any, in a collapsed section
    above it), and the reply alone as plain text, up to PLAIN_LIMIT characters."""
    markdown = text
    if thinking:
        markdown = (
            f"<details><summary>Thinking</summary>\n\n{thinking.strip()}\n\n</details>\n\n{text}"
        )
    return {"text/markdown": markdown, "text/plain": plain_reply(text)}


def plain_reply(text: str, limit: int = PLAIN_LIMIT, variable: str = "_chat") -> str:
    """The reply for plain-text front ends: whole when short; else its first `limit`
    characters (cut at a line or word break) and a line saying how much more there
    is and where the whole reply is (the Markdown, and `variable` in the namespace)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = max(head.rfind("\n"), head.rfind(" "))
    if cut < limit // 2:  # no break near the end: cut mid-word rather than lose half
        cut = limit
    more = len(text[cut:].lstrip())
    return (
        f"{text[:cut].rstrip()} …\n\n[{more:,} more characters: the whole reply is this "
        f"output's Markdown (text/markdown), and `{variable}` until the next %%chat cell]"
    )


def footer_bundle(footer: str) -> dict[str, str]:
    return {
        "text/html": (
            f'<div style="color:#6e7781;font-size:0.85em;margin-top:0.3em">'
            f"{html.escape(footer)}</div>"
        ),
        "text/plain": f"— {footer}",
    }


def error_bundle(title: str, message: str, hint: str = "", listing: str = "") -> dict[str, str]:
    """A short readable panel: what failed, why, what to do (and, e.g. for the help,
    a preformatted `listing`). Never a traceback; `code` spans become <code>."""
    body = f"<b>{inline_html(title)}</b><br>{inline_html(message)}"
    if hint:
        body += f'<div style="opacity:0.85;margin-top:0.3em">{inline_html(hint)}</div>'
    if listing:
        body += f'<pre style="margin:0.4em 0 0">{html.escape(listing.rstrip())}</pre>'
    plain = "\n".join(part for part in (title, message, hint, listing.rstrip()) if part)
    return {"text/html": f'<div style="{PANEL_STYLE}">{body}</div>', "text/plain": plain}


PANEL_STYLE = "border-left:4px solid #cf222e;padding:0.4em 0.8em;background:rgba(207,34,46,0.08)"


def show_error(title: str, message: str, hint: str = "", listing: str = "") -> None:
    _show(error_bundle(title, message, hint, listing))


def show_markdown(text: str) -> None:
    _show({"text/markdown": text, "text/plain": text})


class ColumnsView:
    """Several replies streaming side by side, re-rendered geometrically.

    The columns are one layout from the first render to the last — a table of
    Markdown cells, each under its model's name — so the end changes the text
    inside them, never the layout. A failed column shows the same error panel as
    a single reply, as soon as it fails.

    Deltas are kept as per-column lists of chunks and joined only to render (a
    `str +=` per delta copies the whole column each time: quadratic in a long
    reply); a running total length decides when to render.
    """

    def __init__(
        self,
        titles: Sequence[str],
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = MIN_INTERVAL,
        growth: float = 2.0,
    ) -> None:
        self.titles = list(titles)
        self.notes = [""] * len(titles)
        self.errors: list[tuple[str, str, str] | None] = [None] * len(titles)
        self.done = [False] * len(titles)
        self._chunks: list[list[str]] = [[] for _ in titles]
        self._length = 0  # characters in all columns
        self._clock = clock
        self._interval = interval
        self._growth = growth
        self._last = 0.0
        self._sent_length = 0
        self._dirty = False  # something besides text changed: render at the next tick
        self._handle: Any = None

    @property
    def texts(self) -> list[str]:
        """Each column's text so far."""
        texts = ["".join(chunks) for chunks in self._chunks]
        for chunks, text in zip(self._chunks, texts, strict=True):
            chunks[:] = [text] if text else []  # joined once, not again at the next render
        return texts

    def add(self, column: int, text: str) -> None:
        self._chunks[column].append(text)
        self._length += len(text)

    def note(self, column: int, text: str) -> None:
        self.notes[column] = text
        self.done[column] = True

    def fail(self, column: int, title: str, message: str, hint: str = "") -> None:
        """Show an error panel in the column (at the next tick, or at the end)."""
        self.errors[column] = (title, message, hint)
        self.done[column] = True
        self._dirty = True

    def tick(self) -> None:
        if self._clock() - self._last < self._interval:
            return
        grown = self._length > max(64, self._sent_length * self._growth)
        if grown or self._dirty or self._handle is None:
            self._render(final=False)

    def finish(self) -> None:
        self.done = [True] * len(self.titles)
        self._render(final=True)

    def _render(self, *, final: bool) -> None:
        columns = [
            Column(title, text, note, error, streaming=not (final or done))
            for title, text, note, error, done in zip(
                self.titles, self.texts, self.notes, self.errors, self.done, strict=True
            )
        ]
        bundle = columns_bundle(columns)
        if self._handle is None:
            self._handle = _show(bundle, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
        self._last = self._clock()
        self._sent_length = self._length
        self._dirty = False


@dataclass(slots=True)
class Column:
    title: str
    text: str
    note: str = ""
    error: tuple[str, str, str] | None = None  # title, message, hint
    streaming: bool = False


def columns_bundle(columns: Sequence[Column]) -> dict[str, str]:
    """Columns as one table of Markdown cells (Markdown between blank lines inside
    HTML blocks is rendered by JupyterLab, Notebook and VS Code), the same while
    streaming and at the end, with a text/plain twin."""
    width = f"{100 / max(len(columns), 1):.2f}%"
    head = "".join(
        f'<th style="text-align:left;width:{width}">{html.escape(column.title)}'
        + (' <small style="opacity:0.7">· streaming…</small>' if column.streaming else "")
        + "</th>"
        for column in columns
    )
    cells = "".join(
        f'<td style="vertical-align:top;text-align:left">\n\n{_cell_markdown(column)}\n\n</td>'
        for column in columns
    )
    plain = "\n\n".join(_cell_plain(column) for column in columns)
    return {
        "text/markdown": (
            f'<table style="width:100%;table-layout:fixed"><tr>{head}</tr><tr>{cells}</tr></table>'
        ),
        "text/plain": plain,
    }


def _cell_markdown(column: Column) -> str:
    parts = [_closed_fences(column.text)] if column.text else []
    if column.error is not None:
        parts.append(error_bundle(*column.error)["text/html"])
    if column.note:
        parts.append(f"<small>{html.escape(column.note)}</small>")
    return "\n\n".join(parts)


def _cell_plain(column: Column) -> str:
    # Each column's text as a single reply's twin: cut past PLAIN_LIMIT, so the table,
    # re-sent as it grows, does not carry every reply twice.
    text = plain_reply(column.text, variable=f"_chat[{column.title!r}]")
    out = f"== {column.title} ==\n{text}"
    if column.error is not None:
        out += ("\n" if column.text else "") + error_bundle(*column.error)["text/plain"]
    if column.note:
        out += f"\n— {column.note}"
    return out


def _closed_fences(text: str) -> str:
    """A reply cut mid code block (it is still streaming) with the block closed, so
    the rest of the table is not swallowed into it."""
    fences = sum(1 for line in text.splitlines() if line.lstrip().startswith("```"))
    return text + "\n```" if fences % 2 else text
