"""Running one %%chat turn: the stream on the background loop, rendering here.

The upstream stream runs as a task on the runtime's loop and pushes events
into a thread-safe queue; the kernel's main thread drains it and renders. An
interrupt (the stop button, Ctrl-C) raises KeyboardInterrupt here: the task is
cancelled — which closes the upstream connection — and the partial reply is
kept, shown and recorded as interrupted.
"""

from __future__ import annotations

import dataclasses
import queue
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import CherryError
from ..config.models import Provider
from ..key_check import diagnose_failure
from ..providers.groups import GroupStream
from ..wire.accumulate import ResponseAccumulator
from ..wire.neutral import ChatRequest, ReasoningDelta, TextDelta, Usage
from .runtime import Runtime
from .turn_usage import turn_record

_DONE = object()
POLL = 0.05  # seconds: how often the main thread wakes to render and notice Ctrl-C


class ChatReply(str):
    """The reply text (a str) with what the footer shows attached."""

    model: str
    usage: Usage | None
    seconds: float
    interrupted: bool
    error: str | None

    def __new__(
        cls,
        text: str,
        *,
        model: str,
        usage: Usage | None = None,
        seconds: float = 0.0,
        interrupted: bool = False,
        error: str | None = None,
    ) -> ChatReply:
        reply = super().__new__(cls, text)
        reply.model, reply.usage, reply.seconds = model, usage, seconds
        reply.interrupted, reply.error = interrupted, error
        return reply


@dataclass(slots=True)
class Outcome:
    """How a stream ended, as seen from the main thread."""

    text: str
    usage: Usage | None
    seconds: float
    interrupted: bool = False
    error: CherryError | None = None


#: Who answers a turn: one provider, or a model group's first member to start answering.
Source = Provider | GroupStream


def run_stream(
    runtime: Runtime,
    provider: Source,
    request: ChatRequest,
    on_text: Callable[[str], None],
    tick: Callable[[], None],
) -> Outcome:
    """Stream one request; call `on_text` per delta and `tick` often, on this thread."""
    (outcome,) = run_streams(runtime, [(provider, request)], lambda _, text: on_text(text), tick)
    return outcome


def run_streams(
    runtime: Runtime,
    jobs: Sequence[tuple[Source, ChatRequest]],
    on_text: Callable[[int, str], None],
    tick: Callable[[], None],
) -> list[Outcome]:
    """Stream several requests at once (a comparison); one queue, tagged by job."""
    events: queue.Queue[tuple[int, Any]] = queue.Queue()
    started, started_at = time.monotonic(), time.time()
    first_token: list[float | None] = [None] * len(jobs)  # seconds from the start

    async def produce(index: int, source: Source, request: ChatRequest) -> None:
        try:
            stream = _events(runtime, source, request)
            try:
                async for event in stream:
                    events.put((index, event))
            finally:
                await stream.aclose()
        except CherryError as error:
            events.put((index, error))
        finally:
            events.put((index, _DONE))

    futures = [runtime.submit(produce(i, p, r)) for i, (p, r) in enumerate(jobs)]
    accumulators = [ResponseAccumulator() for _ in jobs]
    errors: list[CherryError | None] = [None] * len(jobs)
    ended = [0.0] * len(jobs)  # seconds from the start; 0.0 while running

    def take(index: int, item: Any) -> bool:
        """Fold one queued item into its job's state; True when it ends the job."""
        if item is _DONE:
            ended[index] = time.monotonic() - started
            return True
        if isinstance(item, CherryError):
            errors[index] = item
        else:
            accumulators[index].add(item)
            if first_token[index] is None and isinstance(item, TextDelta | ReasoningDelta):
                first_token[index] = time.monotonic() - started
            if isinstance(item, TextDelta):
                on_text(index, item.text)
        return False

    running = len(jobs)
    cut_short = [False] * len(jobs)
    try:
        while running:
            try:
                index, item = events.get(timeout=POLL)
            except queue.Empty:
                tick()
                continue
            running -= take(index, item)
            tick()
    except KeyboardInterrupt:
        cut_short = [not seconds for seconds in ended]
        for future in futures:
            future.cancel()
        _wait_for_done(events, running, take)
    now = time.monotonic() - started
    outcomes = [
        Outcome(
            acc.text,
            acc.usage,
            now if cut_short[i] else ended[i],
            interrupted=cut_short[i],
            error=errors[i],
        )
        for i, acc in enumerate(accumulators)
    ]
    for (source, job_request), outcome, ttft in zip(jobs, outcomes, first_token, strict=True):
        provider, request = answered_by(source, job_request)
        runtime.recorder.record(
            turn_record(
                provider,
                request,
                started=started_at,
                seconds=outcome.seconds,
                ttft=ttft,
                usage=outcome.usage,
                interrupted=outcome.interrupted,
                error=outcome.error,
            )
        )
    return outcomes


def _events(runtime: Runtime, source: Source, request: ChatRequest) -> AsyncGenerator[Any, None]:
    if isinstance(source, GroupStream):
        return source.events(runtime.pool, request)
    return runtime.pool.adapter(source).stream(request)


def answered_by(source: Source, request: ChatRequest) -> tuple[Provider, ChatRequest]:
    """The provider and request that answered (for a group, the member that did or
    was tried last): what a usage record and a diagnosis name."""
    if not isinstance(source, GroupStream):
        return source, request
    target = source.answered or source.targets[0]
    return target.provider, dataclasses.replace(request, model=target.model)


def _wait_for_done(
    events: queue.Queue[Any],
    running: int,
    take: Callable[[int, Any], bool],
    timeout: float = 2.0,
) -> None:
    """Wait for each cancelled producer's last word, so upstream connections are
    closed before the cell finishes (a cancelled future reports at once, before
    the task has run its cleanup). What arrives meanwhile is still kept."""
    deadline = time.monotonic() + timeout
    while running and (left := deadline - time.monotonic()) > 0:
        try:
            index, item = events.get(timeout=left)
        except queue.Empty:
            return
        running -= take(index, item)


def describe_error(runtime: Runtime, error: CherryError, provider: Provider) -> tuple[str, str]:
    """(message, hint) for an error panel, with the core's diagnosis; for an unknown
    model the hint names the closest models the provider lists (one request)."""
    _, hint = runtime.run(diagnose_failure(error, provider, runtime.pool))
    return error.message, hint
