"""Reading usage for people: the selection `cherry-nb usage` and `cherry_nb.usage()` share,
the CLI's table, and the pandas DataFrame (pandas only when asked for or installed)."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from .._exceptions import LedgerError
from .query import UsageSummary, parse_time
from .records import UsageRecord


def time_range(
    since: str | float | None, until: str | float | None = None
) -> tuple[float | None, float | None]:
    """[since, until) as Unix seconds: durations ago (`1d`), ISO dates or Unix seconds."""
    now = time.time()
    return parse_time(since, now), parse_time(until, now)


def as_dicts(rows: Sequence[UsageRecord | UsageSummary]) -> list[dict[str, Any]]:
    return [row.as_dict() for row in rows]


def wants_frame(dataframe: bool | None) -> bool:
    """True: a DataFrame (pandas must be installed); None: one if pandas is installed."""
    if dataframe is None:
        return importlib.util.find_spec("pandas") is not None
    if dataframe and importlib.util.find_spec("pandas") is None:
        raise LedgerError(
            "A DataFrame needs pandas, which is not installed: `pip install pandas`, "
            "or call usage(dataframe=False) for a list of records."
        )
    return dataframe


def to_frame(rows: Sequence[UsageRecord | UsageSummary], kind: type) -> Any:
    """A pandas DataFrame of `rows` (columns in the record's order even when empty);
    record times become timezone-aware datetimes."""
    import pandas as pd

    frame = pd.DataFrame(as_dicts(rows), columns=[f.name for f in fields(kind)])
    if "time" in frame.columns:
        frame["time"] = pd.to_datetime(frame["time"], unit="s", utc=True)
    return frame


_COLUMNS = (
    ("requests", "REQUESTS"),
    ("errors", "ERRORS"),
    ("input_tokens", "INPUT"),
    ("output_tokens", "OUTPUT"),
    ("cached_tokens", "CACHED"),
    ("p50_ms", "P50 MS"),
    ("p50_ttft_ms", "P50 TTFT MS"),
)


def usage_table(summaries: Sequence[UsageSummary], by: str) -> str:
    """The totals as an aligned text table with a total row."""
    header = (by.upper(), *(title for _, title in _COLUMNS))
    rows = [_row(s) for s in summaries]
    if len(summaries) > 1:
        total = UsageSummary("total")
        for s in summaries:
            total.requests += s.requests
            total.errors += s.errors
            total.input_tokens += s.input_tokens
            total.output_tokens += s.output_tokens
            total.cached_tokens += s.cached_tokens
        rows.append(_row(total))
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in table
    ]
    return "\n".join(lines)


def _row(summary: UsageSummary) -> tuple[str, ...]:
    cells = [summary.group]
    for name, _ in _COLUMNS:
        value = getattr(summary, name)
        if value is None:
            cells.append("-")
        elif isinstance(value, float):
            cells.append(f"{value:.0f}")
        else:
            cells.append(f"{value:,}")
    return tuple(cells)
