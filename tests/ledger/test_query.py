"""The query vocabulary: time bounds in the forms people type."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cherry_nb._exceptions import LedgerError
from cherry_nb.ledger.query import parse_time

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("text", "ago"),
    [("45s", 45), ("30m", 1800), ("30min", 1800), ("12h", 43200), ("1d", 86400),
     ("1.5d", 129600), ("2w", 1209600), (" 3D ", 259200)],
)  # fmt: skip
def test_durations_count_back_from_now(text: str, ago: float) -> None:
    assert parse_time(text, NOW) == NOW - ago


def test_dates_times_and_numbers() -> None:
    assert (
        parse_time("2026-12-01T08:00+00:00", NOW)
        == datetime(2026, 12, 1, 8, tzinfo=UTC).timestamp()
    )
    assert parse_time("2026-12-01", NOW) == datetime(2026, 12, 1).timestamp()  # local midnight
    assert parse_time(1234.5, NOW) == 1234.5
    assert parse_time(None, NOW) is None


@pytest.mark.parametrize("text", ["yesterday", "3x", "-1d", ""])
def test_anything_else_says_what_to_write(text: str) -> None:
    with pytest.raises(LedgerError, match="write a duration such as 30m, 12h, 1d or 2w"):
        parse_time(text, NOW)
