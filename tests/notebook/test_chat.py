"""run_streams on the main thread, with fake adapters on a real background loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from cherry_nb._exceptions import UpstreamError
from cherry_nb.config.models import Provider
from cherry_nb.ledger.recorder import Recorder
from cherry_nb.ledger.sqlite import SQLiteLedger
from cherry_nb.notebook.chat import run_streams
from cherry_nb.notebook.runtime import BackgroundLoop
from cherry_nb.wire.neutral import ChatRequest, Message, Text, TextDelta


class FakeRuntime:
    """What run_streams uses of a Runtime: `submit`, `pool.adapter(p).stream(r)` and
    `recorder` (a real one, over a ledger in the test's directory)."""

    def __init__(self, streams: dict[str, Any], ledger_file: Path) -> None:
        self.background = BackgroundLoop(name="test-chat-loop")
        self.recorder = Recorder(SQLiteLedger(ledger_file))
        self.futures: list[concurrent.futures.Future[Any]] = []
        self._streams = streams
        self.pool = self

    def adapter(self, provider: Provider) -> Any:
        return self

    def submit(self, coro: Any) -> concurrent.futures.Future[Any]:
        future = self.background.submit(coro)
        self.futures.append(future)
        return future

    def stream(self, request: ChatRequest) -> AsyncIterator[Any]:
        return self._streams[request.model](self)


@pytest.fixture
def make_runtime(tmp_path: Path) -> Iterator[Any]:
    runtimes: list[FakeRuntime] = []

    def make(streams: dict[str, Any]) -> FakeRuntime:
        runtimes.append(FakeRuntime(streams, tmp_path / f"usage-{len(runtimes)}.sqlite"))
        return runtimes[-1]

    yield make
    for runtime in runtimes:
        runtime.background.close()
        runtime.recorder.close()


def _job(model: str) -> tuple[Provider, ChatRequest]:
    provider = Provider(id=model, base_url="http://127.0.0.1:9/v1")
    return provider, ChatRequest(model=model, messages=[Message("user", [Text("hi")])])


async def _fails(runtime: FakeRuntime) -> AsyncIterator[Any]:
    raise UpstreamError("the upstream broke", status=500)
    yield  # an async generator


async def _streams_until_cancelled(runtime: FakeRuntime) -> AsyncIterator[Any]:
    # Only once the failing job has fully reported (error, then done), so the main
    # thread has taken the failure in before the interrupt.
    while not runtime.futures[0].done():
        await asyncio.sleep(0.005)
    yield TextDelta("partial")
    await asyncio.sleep(3600)


def test_interrupt_keeps_a_failed_columns_error(make_runtime):
    runtime = make_runtime({"bad": _fails, "slow": _streams_until_cancelled})
    texts: list[tuple[int, str]] = []

    def tick() -> None:
        if texts:
            raise KeyboardInterrupt

    failed, cut = run_streams(
        runtime, [_job("bad"), _job("slow")], lambda i, t: texts.append((i, t)), tick
    )
    assert isinstance(failed.error, UpstreamError) and failed.text == ""
    assert not failed.interrupted  # it had ended before the interrupt
    assert cut.interrupted and cut.text == "partial" and cut.error is None
    assert cut.seconds >= failed.seconds
    assert all(future.done() for future in runtime.futures)  # cancelled and cleaned up
    assert runtime.recorder.ledger is not None
    bad, slow = sorted(runtime.recorder.ledger.query(), key=lambda r: r.provider or "")
    assert (bad.status, bad.error_category) == (500, "upstream_error")
    assert (slow.status, slow.error_category) == (499, "interrupted")
    assert slow.ttft_ms is not None and slow.ttft_ms <= slow.duration_ms


def test_outcomes_without_interrupt(make_runtime):
    async def answers(runtime: FakeRuntime) -> AsyncIterator[Any]:
        yield TextDelta("all of it")

    runtime = make_runtime({"bad": _fails, "good": answers})
    failed, good = run_streams(
        runtime, [_job("bad"), _job("good")], lambda i, t: None, lambda: None
    )
    assert isinstance(failed.error, UpstreamError) and not failed.interrupted
    assert good.text == "all of it" and good.error is None and not good.interrupted
    assert runtime.recorder.ledger is not None
    records = {r.model: r for r in runtime.recorder.ledger.query()}
    assert records["good"].status == 200 and records["good"].error_category is None
    assert records["good"].route == "%%chat" and records["good"].client_format == "notebook"
    assert records["bad"].status == 500 and records["bad"].ttft_ms is None


def test_reasoning_is_passed_apart_and_kept(make_runtime):
    from cherry_nb.wire.neutral import ReasoningDelta

    async def thinks(runtime: FakeRuntime) -> AsyncIterator[Any]:
        yield ReasoningDelta("Let me see. ")
        yield ReasoningDelta("Two.")
        yield TextDelta("The answer is 2.")

    runtime = make_runtime({"think": thinks})
    texts: list[str] = []
    thoughts: list[str] = []
    (outcome,) = run_streams(
        runtime,
        [_job("think")],
        lambda i, t: texts.append(t),
        lambda: None,
        lambda i, t: thoughts.append(t),
    )
    assert texts == ["The answer is 2."] and thoughts == ["Let me see. ", "Two."]
    assert outcome.thinking == "Let me see. Two." and outcome.text == "The answer is 2."
    assert outcome.first_token_seconds is not None
    assert outcome.response is not None and outcome.response.content[0].text == "Let me see. Two."
