"""Usage as Prometheus metrics, rendered and parsed back with prometheus_client's parser;
multi-process mode across real processes; the Recorder feeding ledger and metrics."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cherry_nb.ledger.metrics import MULTIPROC_ENV, UsageMetrics, prepare_multiprocess
from cherry_nb.ledger.recorder import Recorder
from cherry_nb.ledger.records import UsageRecord
from cherry_nb.ledger.sqlite import SQLiteLedger


def rec(**changes: object) -> UsageRecord:
    fields: dict[str, object] = {
        "time": time.time(),
        "route": "/v1/chat/completions",
        "client_format": "openai",
        "key_name": "script",
        "provider": "sim",
        "model": "sim-chat",
        "status": 200,
    }
    fields.update(changes)
    return UsageRecord(**fields)  # type: ignore[arg-type]


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def labels(**pairs: str) -> frozenset[tuple[str, str]]:
    return frozenset(pairs.items())


def test_records_become_counters_and_histograms() -> None:
    metrics = UsageMetrics()
    metrics.observe(rec(input_tokens=10, output_tokens=4, cached_tokens=6, duration_ms=300))
    metrics.observe(rec(input_tokens=5, output_tokens=1, ttft_ms=80, duration_ms=900, stream=True))
    metrics.observe(rec(status=429, error_category="rate_limited", duration_ms=20))
    metrics.observe(rec(provider=None, model="made-up-by-a-client", status=400, duration_ms=1))
    got = samples(metrics.render().decode())
    ok = dict(provider="sim", model="sim-chat", route="/v1/chat/completions")
    assert got["cherry_nb_requests_total", labels(**ok, status_class="2xx")] == 2
    assert got["cherry_nb_requests_total", labels(**ok, status_class="4xx")] == 1
    assert got["cherry_nb_errors_total", labels(**ok, status_class="4xx", category="rate_limited")]
    assert got["cherry_nb_tokens_total", labels(**ok, kind="input")] == 15
    assert got["cherry_nb_tokens_total", labels(**ok, kind="output")] == 5
    assert got["cherry_nb_tokens_total", labels(**ok, kind="cached")] == 6
    assert got["cherry_nb_request_duration_seconds_count", labels(**ok)] == 3
    assert got["cherry_nb_request_duration_seconds_sum", labels(**ok)] == pytest.approx(1.22)
    assert got["cherry_nb_request_duration_seconds_bucket", labels(**ok, le="0.5")] == 2
    assert got["cherry_nb_time_to_first_token_seconds_count", labels(**ok)] == 1
    assert got["cherry_nb_time_to_first_token_seconds_bucket", labels(**ok, le="0.1")] == 1
    # A request that never reached a provider does not label its (client-chosen) model.
    refused = labels(provider="none", model="none", route="/v1/chat/completions")
    assert got["cherry_nb_requests_total", refused | labels(status_class="4xx")] == 1
    assert not any("made-up" in str(key) for key in got)


def test_each_metrics_object_counts_on_its_own() -> None:
    first, second = UsageMetrics(), UsageMetrics()
    first.observe(rec())
    assert "cherry_nb_requests_total{" in first.render().decode()
    assert "cherry_nb_requests_total{" not in second.render().decode()


WORKER = """
import sys, time
from cherry_nb.ledger.metrics import process_metrics, multiprocess_mode
from cherry_nb.ledger.records import UsageRecord

assert multiprocess_mode()
for i in range(int(sys.argv[1])):
    process_metrics().observe(UsageRecord(time.time(), "/v1/messages", "anthropic", None,
                                          "sim", "sim-chat", 200, output_tokens=2,
                                          duration_ms=50))
if len(sys.argv) > 2:
    sys.stdout.write(process_metrics().render().decode())
"""


def test_multiprocess_mode_sums_every_worker(tmp_path: Path, monkeypatch) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_999.db").write_bytes(b"stale")  # from an earlier run
    monkeypatch.setenv(MULTIPROC_ENV, str(directory))
    assert prepare_multiprocess() == directory and not (directory / "counter_999.db").exists()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    for count in (3, 4):
        subprocess.run([sys.executable, "-c", WORKER, str(count)], env=env, check=True)
    shown = subprocess.run(
        [sys.executable, "-c", WORKER, "5", "render"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    got = samples(shown)
    ok = dict(provider="sim", model="sim-chat", route="/v1/messages")
    assert got["cherry_nb_requests_total", labels(**ok, status_class="2xx")] == 12
    assert got["cherry_nb_tokens_total", labels(**ok, kind="output")] == 24
    assert got["cherry_nb_request_duration_seconds_count", labels(**ok)] == 12


def test_prepare_multiprocess_makes_a_directory_when_none_is_set(monkeypatch) -> None:
    monkeypatch.setenv(MULTIPROC_ENV, "")  # unset for prepare_multiprocess; restored after
    directory = prepare_multiprocess()
    assert directory.is_dir() and os.environ[MULTIPROC_ENV] == str(directory)


def test_recorder_feeds_ledger_metrics_and_live_totals(tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "usage.sqlite")
    recorder = Recorder(ledger, UsageMetrics())
    recorder.record(rec(input_tokens=3, duration_ms=10))
    recorder.record(rec(status=502, error_category="network", duration_ms=30))
    recorder.record(rec(provider="other", model="x"))
    assert [r.status for r in ledger.query()] == [200, 502, 200]
    assert recorder.metrics is not None
    got = samples(recorder.metrics.render().decode())
    ok = dict(provider="sim", model="sim-chat", route="/v1/chat/completions")
    assert got["cherry_nb_requests_total", labels(**ok, status_class="5xx")] == 1
    live = recorder.live()
    assert (live["sim"].requests, live["sim"].errors, live["sim"].input_tokens) == (2, 1, 3)
    assert live["sim"].mean_ms == 20 and live["other"].requests == 1
    recorder.close()


def test_recording_never_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Broken(SQLiteLedger):
        def record(self, record: UsageRecord) -> None:
            raise RuntimeError("disk on fire")

    recorder = Recorder(Broken(tmp_path / "usage.sqlite"))
    recorder.record(rec())  # logged, not raised at the request it describes
    assert "could not record usage" in caplog.text
