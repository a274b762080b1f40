"""The gateway panel's live usage: requests, errors, tokens and latency per provider,
with a sparkline of requests per refresh, redrawn as the gateway serves.

Built from the gateway recorder's live totals (`Recorder.live()`); the HTML is made
by pure functions (an inline SVG, no front-end code), so it renders in JupyterLab,
Notebook 7, VS Code and a saved notebook alike.
"""

from __future__ import annotations

import html
from collections import deque
from collections.abc import Mapping, Sequence

import ipywidgets as w

from ...ledger.recorder import LiveTotals
from ._common import MUTED_COLOUR

HISTORY = 60  # refreshes the sparkline spans (about two minutes at the panel's 2 s)
LINE_COLOUR = "#0969da"
ERROR_COLOUR = "#cf222e"
_CELL = 'style="padding:1px 8px;text-align:{}"'
NO_USAGE = "No requests recorded since the gateway started."


def sparkline_svg(values: Sequence[int], width: int = 240, height: int = 36) -> str:
    """An inline SVG polyline of `values` (requests per refresh), scaled to its maximum."""
    if len(values) < 2:
        return ""
    top = max(max(values), 1)
    step = width / (len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return (
        f'<svg width="{width}" height="{height}" role="img" '
        f'aria-label="requests per refresh, last {len(values)}">'
        f'<polyline fill="none" stroke="{LINE_COLOUR}" stroke-width="1.5" points="{points}"/>'
        "</svg>"
    )


def usage_html(totals: Mapping[str, LiveTotals], history: Sequence[int]) -> str:
    """A table of the totals per provider (busiest first) under the request sparkline."""
    if not totals:
        return f'<div style="color:{MUTED_COLOUR}">{NO_USAGE}</div>'
    heads = ("provider", "requests", "errors", "input tok", "output tok", "cached tok", "mean ms")
    head = "".join(
        f"<th {_CELL.format('left' if i == 0 else 'right')}>{h}</th>" for i, h in enumerate(heads)
    )
    rows = []
    for name, t in sorted(totals.items(), key=lambda item: (-item[1].requests, item[0])):
        errors = f'<span style="color:{ERROR_COLOUR}">{t.errors:,}</span>' if t.errors else "0"
        cells = (
            html.escape(name),
            f"{t.requests:,}",
            errors,
            f"{t.input_tokens:,}",
            f"{t.output_tokens:,}",
            f"{t.cached_tokens:,}",
            f"{t.mean_ms:,.0f}",
        )
        rows.append(
            "<tr>"
            + "".join(
                f"<td {_CELL.format('left' if i == 0 else 'right')}>{c}</td>"
                for i, c in enumerate(cells)
            )
            + "</tr>"
        )
    return (
        f"<div>{sparkline_svg(history)}</div>"
        f'<table style="border-collapse:collapse;font-size:90%"><tr>{head}</tr>'
        + "".join(rows)
        + "</table>"
    )


class UsageChart:
    """The live usage view: call `update` with the recorder's totals at each refresh."""

    def __init__(self, history: int = HISTORY) -> None:
        self.view = w.HTML()
        self.history: deque[int] = deque(maxlen=history)
        self._last_total: int | None = None
        self.update({})

    def update(self, totals: Mapping[str, LiveTotals]) -> None:
        total = sum(t.requests for t in totals.values())
        if self._last_total is not None:
            self.history.append(max(total - self._last_total, 0))
        self._last_total = total
        self.view.value = usage_html(totals, list(self.history))

    def reset(self) -> None:
        """Forget the sparkline (a new gateway counts from zero)."""
        self.history.clear()
        self._last_total = None
