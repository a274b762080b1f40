"""What a %%chat cell shows, and how it is sent to the front end.

A streamed reply is sent as it grows, but only what is new: to the live reply
widget (live.py), whose front end renders the Markdown as it arrives, or — where
there is no kernel with widgets — as plain-text `stream` messages. Either way
the deltas are coalesced to at most ~10 messages a second and, after the first,
to batches of at least MIN_BATCH characters (or MAX_STALE seconds' worth), so a
message's envelope stays small beside its text on a slow stream. When the reply
is finished, the cell output is replaced (clear_output(wait=True), so nothing
flickers) by the reply as Markdown, with a text/plain twin for terminals, VS Code
and nbconvert, its provenance in the display metadata, and a one-line footer.
Bytes to the front end: the deltas (about 1x the reply) plus the final bundle
(2x), plus the widget's module once per reply, instead of the 30-40x of
re-sending the whole reply ten times a second.

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
from typing import Any, TextIO

from IPython.display import clear_output, display

from .live import LiveSink, live_available

MIN_INTERVAL = 0.1  # seconds between front-end updates (~10 Hz at most)
MIN_BATCH = 128  # characters worth a message of their own
MAX_STALE = 2.0  # seconds a smaller batch may wait
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
        self._last = 0.0
        self.sent_any = False
        if live is None:
            live = out is None and live_available()
        self._title = title
        self._live = LiveSink(streaming_header(title)) if live else None

    def add(self, text: str) -> None:
        self._pending.append(text)

    def add_thinking(self, text: str) -> None:
        """Reasoning (thinking, summaries, thoughts): shown collapsed above the reply."""
        self._thinking.append(text)

    def tick(self) -> None:
        """Send what is pending when it is old enough and big enough to be worth it."""
        if not (self._pending or self._thinking):
            return
        age = self._clock() - self._last
        if age < self._interval:
            return
        size = sum(map(len, self._pending)) + sum(map(len, self._thinking))
        if not self.sent_any or age >= MAX_STALE or size >= MIN_BATCH:
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
    above it) and the reply alone as plain text."""
    markdown = text
    if thinking:
        markdown = (
            f"<details><summary>Thinking</summary>\n\n{thinking.strip()}\n\n</details>\n\n{text}"
        )
    return {"text/markdown": markdown, "text/plain": text}


def footer_bundle(footer: str) -> dict[str, str]:
    return {
        "text/html": (
            f'<div style="color:#6e7781;font-size:0.85em;margin-top:0.3em">'
            f"{html.escape(footer)}</div>"
        ),
        "text/plain": f"— {footer}",
    }


def error_bundle(title: str, message: str, hint: str = "") -> dict[str, str]:
    """A short readable panel: what failed, why, what to do. Never a traceback."""
    body = f"<b>{html.escape(title)}</b><br>{html.escape(message)}"
    if hint:
        body += f'<br><span style="opacity:0.85">{html.escape(hint)}</span>'
    plain = f"{title}\n{message}" + (f"\n{hint}" if hint else "")
    return {
        "text/html": (
            '<div style="border-left:4px solid #cf222e;padding:0.4em 0.8em;'
            f'background:rgba(207,34,46,0.08)">{body}</div>'
        ),
        "text/plain": plain,
    }


def show_error(title: str, message: str, hint: str = "") -> None:
    _show(error_bundle(title, message, hint))


def show_markdown(text: str) -> None:
    _show({"text/markdown": text, "text/plain": text})


class ColumnsView:
    """Several replies streaming side by side, re-rendered geometrically.

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
        self._chunks: list[list[str]] = [[] for _ in titles]
        self._length = 0  # characters in all columns
        self._clock = clock
        self._interval = interval
        self._growth = growth
        self._last = 0.0
        self._sent_length = 0
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

    def tick(self) -> None:
        if self._clock() - self._last < self._interval:
            return
        if self._length > max(64, self._sent_length * self._growth) or self._handle is None:
            self._render(final=False)

    def finish(self) -> None:
        self._render(final=True)

    def _render(self, *, final: bool) -> None:
        rows = list(zip(self.titles, self.texts, self.notes, strict=True))
        bundle = _columns_markdown(rows) if final else _columns_html(rows)
        if self._handle is None:
            self._handle = _show(bundle, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
        self._last = self._clock()
        self._sent_length = self._length


def _columns_html(rows: list[tuple[str, str, str]]) -> dict[str, str]:
    """Interim columns: escaped text, re-sent as it grows."""
    cells = "".join(
        '<div style="flex:1;min-width:0;padding:0 0.6em;border-left:2px solid #d0d7de">'
        f"<b>{html.escape(title)}</b>"
        f'<div style="white-space:pre-wrap;margin-top:0.3em">{html.escape(text)}</div>'
        "</div>"
        for title, text, _ in rows
    )
    return {"text/html": f'<div style="display:flex;gap:0.4em">{cells}</div>'}


def _columns_markdown(rows: list[tuple[str, str, str]]) -> dict[str, str]:
    """Final columns: each reply rendered as Markdown inside a table cell (Markdown
    between blank lines inside HTML blocks is rendered by JupyterLab and VS Code)."""
    head = "".join(f"<th>{html.escape(title)}</th>" for title, _, _ in rows)
    cells = "".join(
        f'<td style="vertical-align:top;text-align:left">\n\n{text}\n\n'
        + (f"<small>{html.escape(note)}</small>\n\n" if note else "")
        + "</td>"
        for _, text, note in rows
    )
    plain = "\n\n".join(
        f"== {title} ==\n{text}" + (f"\n— {note}" if note else "") for title, text, note in rows
    )
    return {
        "text/markdown": f'<table style="width:100%"><tr>{head}</tr><tr>{cells}</tr></table>',
        "text/plain": plain,
    }
