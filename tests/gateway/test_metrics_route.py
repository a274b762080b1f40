"""GET /metrics over real HTTP: behind the key, Prometheus' text format, parsed back."""

from __future__ import annotations

import time
import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from cherry_nb.ledger.metrics import process_metrics
from cherry_nb.ledger.records import UsageRecord

from .conftest import GATEWAY_KEY, Stack


def test_metrics_need_the_key(stack: Stack) -> None:
    reply = httpx.get(f"{stack.url}/metrics")
    assert reply.status_code == 401
    assert reply.json()["error"]["type"] == "authentication_error"


def test_metrics_show_this_process_usage(stack: Stack) -> None:
    provider = f"metrics-{uuid.uuid4().hex[:8]}"  # a series no other test touches
    process_metrics().observe(
        UsageRecord(
            time.time(), "/v1/messages", "anthropic", "claude-code", provider, "sim-chat", 200,
            input_tokens=12, output_tokens=5, ttft_ms=40, duration_ms=250, stream=True,
        )
    )  # fmt: skip
    reply = httpx.get(f"{stack.url}/metrics", headers={"authorization": f"Bearer {GATEWAY_KEY}"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    found = {
        (sample.name, sample.labels.get("kind")): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
        if sample.labels.get("provider") == provider
    }
    assert found[("cherry_nb_requests_total", None)] == 1
    assert found[("cherry_nb_tokens_total", "input")] == 12
    assert found[("cherry_nb_tokens_total", "output")] == 5
    assert found[("cherry_nb_request_duration_seconds_count", None)] == 1
    assert found[("cherry_nb_time_to_first_token_seconds_count", None)] == 1
