"""Pure pieces of a usage query: time bounds, filters, and the per-group summary.

Every ledger backend answers the same questions, so the vocabulary (which fields
may be filtered, what `--by key` means, how `--since 1d` is read) and the
summary's arithmetic live here once, away from any storage.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from .._exceptions import LedgerError
from .records import UsageRecord

FIELDS: tuple[str, ...] = tuple(f.name for f in fields(UsageRecord))
# What `--by` accepts, and the record field each groups on.
GROUPS: dict[str, str] = {"provider": "provider", "model": "model", "key": "key_name"}
# Fields a query may filter on (equality).
FILTERABLE = frozenset(
    {"route", "client_format", "key_name", "provider", "model", "status", "stream"}
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*$", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
NO_GROUP = "(none)"


def parse_time(text: str | float | datetime | None, now: float) -> float | None:
    """A bound as Unix seconds: a duration ago (`30m`, `12h`, `1d`, `2w`), an ISO date
    or time (`2026-12-01`, `2026-12-01T08:00`), a datetime or Unix seconds."""
    if text is None or isinstance(text, int | float):
        return None if text is None else float(text)
    if isinstance(text, datetime):
        return text.timestamp()
    match = _DURATION.match(text)
    if match:
        return now - float(match.group(1)) * _SECONDS[match.group(2).lower()]
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise LedgerError(
            f"Cannot read the time {text!r}: write a duration such as 30m, 12h, 1d or 2w, "
            "or a date such as 2026-12-01 (optionally with a time, 2026-12-01T08:00)."
        ) from None


def check_filters(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The filters as a dict, refusing fields a query cannot filter on."""
    chosen = dict(filters or {})
    unknown = sorted(set(chosen) - FILTERABLE)
    if unknown:
        raise LedgerError(
            f"Usage cannot be filtered by {unknown[0]!r}; "
            f"filter by one of: {', '.join(sorted(FILTERABLE))}."
        )
    return chosen


def group_field(by: str) -> str:
    """The record field behind `--by` (`key` is the gateway key's name)."""
    try:
        return GROUPS[by]
    except KeyError:
        raise LedgerError(
            f"Usage cannot be grouped by {by!r}; group by one of: {', '.join(GROUPS)}."
        ) from None


@dataclass(slots=True)
class UsageSummary:
    """The totals of one group: what `cherry-nb usage` prints per row."""

    group: str
    requests: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    p50_ms: float | None = None  # median duration
    p50_ttft_ms: float | None = None  # median time to first token, streams only

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(records: Iterable[UsageRecord], by: str) -> list[UsageSummary]:
    """Totals per group, busiest first; records without a value fall in `(none)`."""
    attribute = group_field(by)
    groups: dict[str, UsageSummary] = {}
    durations: dict[str, list[float]] = {}
    ttfts: dict[str, list[float]] = {}
    for record in records:
        name = getattr(record, attribute) or NO_GROUP
        summary = groups.get(name)
        if summary is None:
            summary = groups[name] = UsageSummary(name)
            durations[name], ttfts[name] = [], []
        summary.requests += 1
        summary.errors += record.status >= 400
        summary.input_tokens += record.input_tokens
        summary.output_tokens += record.output_tokens
        summary.cached_tokens += record.cached_tokens
        summary.reasoning_tokens += record.reasoning_tokens
        durations[name].append(record.duration_ms)
        if record.ttft_ms is not None:
            ttfts[name].append(record.ttft_ms)
    for name, summary in groups.items():
        summary.p50_ms = statistics.median(durations[name]) if durations[name] else None
        summary.p50_ttft_ms = statistics.median(ttfts[name]) if ttfts[name] else None
    return sorted(groups.values(), key=lambda s: (-s.requests, s.group))
