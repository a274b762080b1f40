"""`Recorder`: the one object the gateway and the notebook hand a finished UsageRecord to.

It feeds the ledger (durable, queryable) and the metrics (Prometheus), and keeps
a small live tally per provider for the gateway panel. Recording never raises:
usage bookkeeping must not fail a request that was otherwise served.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .base import Ledger
from .records import UsageRecord

if TYPE_CHECKING:  # prometheus_client loads only when metrics are asked for
    from .metrics import UsageMetrics

log = logging.getLogger("cherry_nb.ledger")


@dataclass(slots=True)
class LiveTotals:
    """Running totals of one provider since the recorder started (for the panel)."""

    requests: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    duration_ms: float = 0.0  # summed; divide by requests for the mean

    @property
    def mean_ms(self) -> float:
        return self.duration_ms / self.requests if self.requests else 0.0


class Recorder:
    """Feeds every finished record to the ledger, the metrics and the live totals."""

    def __init__(self, ledger: Ledger | None = None, metrics: UsageMetrics | None = None) -> None:
        self.ledger = ledger
        self.metrics = metrics
        self._live: dict[str, LiveTotals] = {}
        self._live_lock = threading.Lock()

    @classmethod
    def open(cls, config_file: Path, *, metrics: bool = True) -> Recorder:
        """A recorder writing `usage.sqlite` beside `config_file`, with this process's metrics."""
        from .sqlite import SQLiteLedger, ledger_path

        process = None
        if metrics:
            from .metrics import process_metrics

            process = process_metrics()
        return cls(SQLiteLedger(ledger_path(config_file)), process)

    def record(self, record: UsageRecord) -> None:
        """Record one finished request or turn; cheap, non-blocking, never raises."""
        try:
            if self.ledger is not None:
                self.ledger.record(record)
            if self.metrics is not None:
                self.metrics.observe(record)
            self._tally(record)
        except Exception:  # bookkeeping must never fail the request it describes
            log.exception("cherry_nb: could not record usage")

    def _tally(self, record: UsageRecord) -> None:
        with self._live_lock:
            totals = self._live.get(record.provider or "none")
            if totals is None:
                totals = self._live[record.provider or "none"] = LiveTotals()
            totals.requests += 1
            totals.errors += record.status >= 400
            totals.input_tokens += record.input_tokens
            totals.output_tokens += record.output_tokens
            totals.cached_tokens += record.cached_tokens
            totals.duration_ms += record.duration_ms

    def live(self) -> dict[str, LiveTotals]:
        """A copy of the running totals per provider."""
        with self._live_lock:
            return {name: replace(totals) for name, totals in self._live.items()}

    def close(self) -> None:
        if self.ledger is not None:
            self.ledger.close()
