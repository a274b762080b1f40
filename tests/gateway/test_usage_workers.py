"""`cherry-nb serve --workers 2`: every request is recorded once in the shared ledger, and
any worker's /metrics counts them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.ledger.sqlite import SQLiteLedger, ledger_path
from cherry_nb.simulator import SimulatorThread

from .conftest import SIM_KEY

KEY = "cs-sk-ledger-workers-0123456789"
BATCH = 20  # requests sent at once, on 8 connections


def _children(pid: int) -> set[int]:
    """The processes `pid` started (Hypercorn's workers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _recording(metrics_dir: Path) -> list[Path]:
    """One counter file per worker that has counted a request (prometheus_client's
    multi-process mode writes `counter_PID.db` when a worker first counts)."""
    return list(metrics_dir.glob("counter_*.db"))


def _one(url: str, index: int) -> int:
    """One request on a connection of its own, so the workers share them out."""
    body = {
        "model": "wk-openai:sim-chat",
        "messages": [{"role": "user", "content": f"request {index}"}],
        "stream": index % 2 == 0,
        "stream_options": {"include_usage": True} if index % 2 == 0 else None,
    }
    body = {k: v for k, v in body.items() if v is not None}
    with httpx.Client(timeout=30, headers={"x-api-key": KEY}) as client:
        reply = client.post(f"{url}/v1/chat/completions", json=body)
        assert reply.status_code == 200, reply.text
        return reply.status_code


def test_two_workers_record_every_request_once(tmp_path: Path) -> None:
    upstream = SimulatorThread(api_key=SIM_KEY)
    upstream.start()
    config = tmp_path / "config.json"
    metrics_dir = tmp_path / "metrics"
    registry = ProviderRegistry(config)
    registry.add(
        id="wk-openai",
        name="Workers",
        type="openai",
        base_url=upstream.base_url("openai"),
        api_key=SIM_KEY,
        models=["sim-chat"],
    )
    env = {
        **os.environ,
        "CHERRY_NB_CONFIG": str(config),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    command = [sys.executable, "-m", "cherry_nb", "serve", "--port", "0", "--workers", "2"]
    proc = subprocess.Popen(
        [*command, "--api-key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().removeprefix("Listening on ")
        assert httpx.get(f"{url}/health", timeout=30).status_code == 200
        assert len(_children(proc.pid)) >= 2  # two workers (and spawn's helper, if any)
        # The kernel shares the connections out between the workers' accept loops: send
        # batches until both have recorded some (each worker's metrics file says so).
        sent = 0
        with ThreadPoolExecutor(8) as pool:
            while sent < BATCH * 10 and (sent == 0 or len(_recording(metrics_dir)) < 2):
                statuses = list(pool.map(lambda i: _one(url, i), range(sent, sent + BATCH)))
                assert statuses == [200] * BATCH
                sent += BATCH
        assert len(_recording(metrics_dir)) == 2
        metrics = httpx.get(f"{url}/metrics", headers={"x-api-key": KEY})
        counted = sum(
            sample.value
            for family in text_string_to_metric_families(metrics.text)
            for sample in family.samples
            if sample.name == "cherry_nb_requests_total"
            and sample.labels.get("provider") == "wk-openai"
        )
        assert counted == sent
    finally:
        proc.send_signal(signal.SIGTERM)  # workers stop serving and flush their ledgers
        _, stderr = proc.communicate(timeout=60)
        upstream.stop()
    assert "Traceback" not in stderr
    rows = SQLiteLedger(ledger_path(config)).query(filters={"provider": "wk-openai"})
    assert len(rows) == sent
    assert sum(row.stream for row in rows) == sent // 2
    assert {row.status for row in rows} == {200} and {row.key_name for row in rows} == {"default"}
    assert all(row.input_tokens > 0 and row.output_tokens > 0 for row in rows)
