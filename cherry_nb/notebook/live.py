"""The live reply: a widget whose front end renders Markdown as the deltas arrive.

Why a widget: `stream` messages show raw Markdown in monospace, and re-sending the
rendered reply ten times a second costs O(reply²) bytes. The widget is sent only
what is new, as custom comm messages, and renders it in the browser
(static/live_reply.js, an anywidget ES module shipped in the package) with
JupyterLab's own Markdown classes, so the streaming reply already looks like the
finished one. When the reply is complete, the cell output is replaced by plain
Markdown (render.ReplyView.finish) — what the saved notebook, nbconvert and front
ends without the widget's JavaScript show — and the widget is closed.

The ES module is compacted (comments and indentation dropped) when loaded: every
reply's widget carries it once, so its size is a fixed cost per reply.
"""

from __future__ import annotations

import re
import uuid
from functools import cache
from importlib import resources
from typing import Any

from IPython.display import display

_COMMENT_LINE = re.compile(r"^\s*//.*\n", re.MULTILINE)
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/\s*", re.DOTALL)
_INDENT = re.compile(r"^\s+", re.MULTILINE)


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def compact(source: str) -> str:
    """JavaScript or CSS without comments and indentation (neither file has a
    multi-line string literal, nor `/*` outside a CSS comment)."""
    source = _COMMENT_LINE.sub("", source)
    source = _BLOCK_COMMENT.sub("", source)
    return _INDENT.sub("", source)


@cache
def live_available() -> bool:
    """Whether replies can stream into the widget: inside a kernel (which has comms
    to a front end) with anywidget installed."""
    try:
        import anywidget  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


@cache
def _widget_class() -> type[Any]:
    """LiveReply, defined on first use so importing cherry_nb does not load anywidget."""
    import anywidget
    import traitlets

    class LiveReply(anywidget.AnyWidget):
        """One streaming reply; text arrives as `send({"t": ..., "r": ...})`."""

        _esm = compact(_asset("live_reply.js"))
        _css = compact(_asset("live_reply.css"))
        key = traitlets.Unicode("").tag(sync=True)
        header = traitlets.Unicode("").tag(sync=True)
        # The longest the front end spreads one batch's reveal over (seconds): the
        # longest the kernel waits between updates.
        reveal = traitlets.Float(1.0).tag(sync=True)

        def __repr__(self) -> str:  # the text/plain shown where widgets cannot be
            return str(self.header)

    return LiveReply


class LiveSink:
    """A displayed LiveReply widget that deltas are sent to."""

    def __init__(self, header: str, reveal: float = 1.0) -> None:
        self.widget = _widget_class()(key=uuid.uuid4().hex, header=header, reveal=reveal)
        display(self.widget)

    def send(self, text: str, thinking: str) -> None:
        message = {"t": text} if text else {}
        if thinking:
            message["r"] = thinking
        if message:
            self.widget.send(message)

    def set_header(self, header: str) -> None:
        self.widget.header = header

    def close(self) -> None:
        self.widget.close()
