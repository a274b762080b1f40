"""What recording usage costs a gateway process, per request: a micro-benchmark.

    .venv/bin/python bench/ledger.py [--records 50000] [--rounds 5]

Three figures per recording path, medians over rounds:
- caller µs/record: wall time of the `record()` calls on the calling thread (what a
  request waits for), while the writer thread runs alongside as it would in the gateway;
- CPU µs/record: the process's CPU time (every thread: the caller, the SQLite writer)
  from the first `record()` until everything is on disk, divided by the records — the
  cost that competes with serving requests;
- records/s the writer puts on disk.
Paths: `SQLiteLedger.record` alone, `UsageMetrics.observe` alone, and `Recorder.record`
(ledger + metrics + live totals: what the gateway will call once per request).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cherry_nb.ledger.metrics import UsageMetrics  # noqa: E402
from cherry_nb.ledger.recorder import Recorder  # noqa: E402
from cherry_nb.ledger.records import UsageRecord  # noqa: E402
from cherry_nb.ledger.sqlite import SQLiteLedger  # noqa: E402

PROVIDERS = ("sim", "ant", "gem")
MODELS = ("sim-chat", "sim-fast")


def records(count: int) -> list[UsageRecord]:
    now = time.time()
    return [
        UsageRecord(
            now + i * 1e-4,
            "/v1/messages" if i % 2 else "/v1/chat/completions",
            "anthropic" if i % 2 else "openai",
            "claude-code",
            PROVIDERS[i % 3],
            MODELS[i % 2],
            200 if i % 50 else 429,
            input_tokens=120,
            output_tokens=40,
            cached_tokens=64,
            ttft_ms=30.0 if i % 3 else None,
            duration_ms=120.0,
            stream=bool(i % 3),
        )
        for i in range(count)
    ]


def measure(
    make: Callable[[Path], tuple[Callable[[UsageRecord], None], Callable[[], None]]],
    batch: list[UsageRecord],
    directory: Path,
) -> tuple[float, float, float]:
    """(caller µs/record, CPU µs/record, records/s to disk) for one round."""
    record, finish = make(directory)
    cpu, wall = time.process_time(), time.perf_counter()
    for item in batch:
        record(item)
    caller = time.perf_counter() - wall
    finish()  # flush: until every record is on disk
    elapsed, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = len(batch)
    return caller / n * 1e6, cpu / n * 1e6, n / elapsed


def ledger_only(directory: Path) -> tuple[Callable[[UsageRecord], None], Callable[[], None]]:
    ledger = SQLiteLedger(directory / "usage.sqlite")
    return ledger.record, ledger.close


def metrics_only(directory: Path) -> tuple[Callable[[UsageRecord], None], Callable[[], None]]:
    return UsageMetrics().observe, lambda: None


def recorder(directory: Path) -> tuple[Callable[[UsageRecord], None], Callable[[], None]]:
    rec = Recorder(SQLiteLedger(directory / "usage.sqlite"), UsageMetrics())
    return rec.record, rec.close


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    batch = records(args.records)
    print(f"{args.records} records per round, {args.rounds} rounds, medians\n")
    print("| path | caller µs/record | CPU µs/record (all threads) | records/s on disk |")
    print("|---|---:|---:|---:|")
    for name, make in (
        ("SQLiteLedger.record", ledger_only),
        ("UsageMetrics.observe", metrics_only),
        ("Recorder.record (both + live totals)", recorder),
    ):
        rounds = []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                rounds.append(measure(make, batch, Path(tmp)))
        caller, cpu, rate = (statistics.median(r[i] for r in rounds) for i in range(3))
        shown = "—" if make is metrics_only else f"{rate:,.0f}"
        print(f"| {name} | {caller:.2f} | {cpu:.2f} | {shown} |")


if __name__ == "__main__":
    main()
