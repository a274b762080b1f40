"""The `Ledger` interface: what the gateway, the notebook and the CLI need of a usage store.

The embedded default is `SQLiteLedger`; a server database could stand behind the
same four methods later without its callers changing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from .query import UsageSummary, group_field, summarize
from .records import UsageRecord


class Ledger(ABC):
    """Where usage records go. `record` is called on the request path: it must not block."""

    @abstractmethod
    def record(self, record: UsageRecord) -> None:
        """Accept one finished record; written later, off the caller's path."""

    @abstractmethod
    def query(
        self,
        since: float | None = None,
        until: float | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> list[UsageRecord]:
        """Records with `since <= time < until` whose fields equal `filters`, oldest first.

        Records this process handed to `record` are included (pending ones are flushed).
        """

    def summarize(
        self,
        by: str,
        since: float | None = None,
        until: float | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> list[UsageSummary]:
        """Totals per provider, model or key over the same selection as `query`."""
        group_field(by)  # refuse a bad grouping before reading anything
        return summarize(self.query(since, until, filters), by)

    @abstractmethod
    def flush(self, timeout: float | None = None) -> bool:
        """Write what is pending; False if that did not finish within `timeout`."""

    @abstractmethod
    def close(self) -> None:
        """Flush and release the store; `record` after close is ignored."""
