"""Usage as Prometheus metrics: what `GET /metrics` serves.

Counters of requests, errors and tokens, and histograms of duration and time to
first token, labelled by provider, model, route and status class — fed from the
same `UsageRecord`s as the ledger. Under `cherry-nb serve --workers N` every worker
writes its values into `PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multi-process
mode) and whichever worker answers `/metrics` renders the sum over all of them.
prometheus_client picks its mode when first imported, so the directory must be
set before that: `prepare_multiprocess()` does it in the parent, before spawning.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from .records import UsageRecord

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
LABELS = ("provider", "model", "route", "status_class")
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
TTFT_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
UNKNOWN = "none"  # label value when the request never reached a provider


def multiprocess_mode() -> bool:
    """Whether prometheus_client writes values to PROMETHEUS_MULTIPROC_DIR in this process."""
    return values.ValueClass is not values.MutexValue


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class UsageMetrics:
    """The gateway's metrics in their own registry (so two gateways in one kernel, or
    two tests, never share counters). In multi-process mode use `process_metrics()`:
    one instance per process, as the value files are per process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "cherry_nb_requests", "Requests served, by outcome.", LABELS, registry=r
        )
        self.errors = Counter(
            "cherry_nb_errors",
            "Requests that ended in an error status, by error category.",
            (*LABELS, "category"),
            registry=r,
        )
        self.tokens = Counter(
            "cherry_nb_tokens",
            "Tokens by kind: input (cached ones included), output, cached, reasoning.",
            ("provider", "model", "route", "kind"),
            registry=r,
        )
        self.duration = Histogram(
            "cherry_nb_request_duration_seconds",
            "Time from the request's arrival to its last byte.",
            ("provider", "model", "route"),
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "cherry_nb_time_to_first_token_seconds",
            "Time from the request's arrival to the first streamed token.",
            ("provider", "model", "route"),
            buckets=TTFT_BUCKETS,
            registry=r,
        )
        # The labelled children per (provider, model, route, status class): looking them
        # up by label values costs more than the counting itself (12 -> 4 µs a record).
        self._series: dict[tuple[str, str, str, str], _Series] = {}

    def observe(self, record: UsageRecord) -> None:
        """Count one finished request. The model is labelled only once a provider was
        resolved, so clients cannot mint series with made-up model names."""
        provider = record.provider or UNKNOWN
        model = (record.model or UNKNOWN) if record.provider else UNKNOWN
        key = (provider, model, record.route, status_class(record.status))
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(self, key)
        series.requests.inc()
        if record.status >= 400:
            self.errors.labels(*key, record.error_category or "error").inc()
        if record.input_tokens:
            series.input_tokens.inc(record.input_tokens)
        if record.output_tokens:
            series.output_tokens.inc(record.output_tokens)
        if record.cached_tokens:
            series.cached_tokens.inc(record.cached_tokens)
        if record.reasoning_tokens:
            series.reasoning_tokens.inc(record.reasoning_tokens)
        series.duration.observe(record.duration_ms / 1000)
        if record.ttft_ms is not None:
            series.ttft.observe(record.ttft_ms / 1000)

    def render(self) -> bytes:
        """The text exposition (CONTENT_TYPE): this registry's values, or in multi-process
        mode every worker's, summed."""
        if multiprocess_mode():
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


class _Series:
    """The children one (provider, model, route, status class) records into."""

    __slots__ = (
        "requests",
        "input_tokens",
        "output_tokens",
        "cached_tokens",
        "reasoning_tokens",
        "duration",
        "ttft",
    )

    def __init__(self, metrics: UsageMetrics, key: tuple[str, str, str, str]) -> None:
        provider, model, route, _ = key
        self.requests = metrics.requests.labels(*key)
        self.input_tokens = metrics.tokens.labels(provider, model, route, "input")
        self.output_tokens = metrics.tokens.labels(provider, model, route, "output")
        self.cached_tokens = metrics.tokens.labels(provider, model, route, "cached")
        self.reasoning_tokens = metrics.tokens.labels(provider, model, route, "reasoning")
        self.duration = metrics.duration.labels(provider, model, route)
        self.ttft = metrics.ttft.labels(provider, model, route)


_process_metrics: UsageMetrics | None = None
_lock = threading.Lock()


def process_metrics() -> UsageMetrics:
    """This process's one UsageMetrics (what a served gateway records into)."""
    global _process_metrics
    with _lock:
        if _process_metrics is None:
            _process_metrics = UsageMetrics()
        return _process_metrics


def prepare_multiprocess(directory: Path | None = None) -> Path:
    """Before spawning workers: give them an empty PROMETHEUS_MULTIPROC_DIR.

    Uses the variable's directory when set (emptied of old value files, as
    prometheus_client requires between runs), else a new temporary one removed at exit.
    """
    configured = os.environ.get(MULTIPROC_ENV)
    chosen = directory or (Path(configured) if configured else None)
    if chosen is None:
        chosen = Path(tempfile.mkdtemp(prefix="cherry-nb-metrics-"))
        atexit.register(shutil.rmtree, chosen, True)
    else:
        chosen.mkdir(parents=True, exist_ok=True)
        for stale in chosen.glob("*.db"):
            stale.unlink(missing_ok=True)
    os.environ[MULTIPROC_ENV] = str(chosen)
    return chosen
