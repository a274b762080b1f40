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

from .._exceptions import CherryError, NetworkError
from ..config.models import Provider
from ..key_check import diagnose_failure
from ..providers.groups import GroupStream
from ..wire.accumulate import ResponseAccumulator
from ..wire.neutral import ChatRequest, ChatResponse, ReasoningDelta, TextDelta, Usage
from .runtime import SIMULATOR_ID, Runtime
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
    thinking: str = ""
    first_token_seconds: float | None = None
    response: ChatResponse | None = None  # the whole reply (tool calls included) when complete


#: Who answers a turn: one provider, or a model group's first member to start answering.
Source = Provider | GroupStream


def run_stream(
    runtime: Runtime,
    provider: Source,
    request: ChatRequest,
    on_text: Callable[[str], None],
    tick: Callable[[], None],
    on_thinking: Callable[[str], None] | None = None,
) -> Outcome:
    """Stream one request; call `on_text` (and `on_thinking`) per delta and `tick`
    often, on this thread."""
    thinking = None if on_thinking is None else (lambda _, text: on_thinking(text))
    (outcome,) = run_streams(
        runtime, [(provider, request)], lambda _, text: on_text(text), tick, thinking
    )
    return outcome


def run_streams(
    runtime: Runtime,
    jobs: Sequence[tuple[Source, ChatRequest]],
    on_text: Callable[[int, str], None],
    tick: Callable[[], None],
    on_thinking: Callable[[int, str], None] | None = None,
    on_error: Callable[[int, CherryError], None] | None = None,
) -> list[Outcome]:
    """Stream several requests at once (a comparison); one queue, tagged by job.
    `on_error` hears of a job's failure as soon as it happens."""
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
    thoughts: list[list[str]] = [[] for _ in jobs]

    def take(index: int, item: Any) -> bool:
        """Fold one queued item into its job's state; True when it ends the job."""
        if item is _DONE:
            ended[index] = time.monotonic() - started
            return True
        if isinstance(item, CherryError):
            errors[index] = item
            if on_error is not None:
                on_error(index, item)
        else:
            accumulators[index].add(item)
            if isinstance(item, TextDelta | ReasoningDelta) and first_token[index] is None:
                first_token[index] = time.monotonic() - started
            if isinstance(item, TextDelta):
                on_text(index, item.text)
            elif isinstance(item, ReasoningDelta):
                thoughts[index].append(item.text)
                if on_thinking is not None:
                    on_thinking(index, item.text)
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
            thinking="".join(thoughts[i]),
            first_token_seconds=first_token[i],
            response=_response(acc) if errors[i] is None and not cut_short[i] else None,
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


def _response(accumulator: ResponseAccumulator) -> ChatResponse | None:
    """The complete reply; None when its tool-call arguments are not valid JSON."""
    try:
        return accumulator.response()
    except CherryError:
        return None


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


def provider_of(source: Source) -> Provider:
    """The provider that answered (a group's member that did, or was tried last)."""
    if not isinstance(source, GroupStream):
        return source
    return (source.answered or source.targets[0]).provider


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


SIMULATOR_GONE = (
    "The offline simulator of another notebook has stopped — run `%chat simulator` "
    "to start this notebook's own."
)
NO_SIMULATOR = (
    "No offline simulator runs in this notebook: run `%chat simulator` to start its own "
    "(another notebook's simulator is not shared)."
)
SIMULATOR_HINT = (
    "Each kernel runs its own simulator, which lives as long as the kernel and is never "
    "saved to the config file."
)


def describe_error(runtime: Runtime, error: CherryError, provider: Provider) -> tuple[str, str]:
    """(message, hint) for an error panel, with the core's diagnosis; for an unknown
    model the hint names the closest models the provider lists (one request).

    A `simulator` provider read from the config file (an older version saved it
    there) that no longer answers is another kernel's simulator, long gone: say so
    rather than hint at proxies and servers the user never started."""
    if (
        isinstance(error, NetworkError)
        and provider.id == SIMULATOR_ID
        and not runtime.registry.is_ephemeral(SIMULATOR_ID)
    ):
        return SIMULATOR_GONE, SIMULATOR_HINT
    _, hint = runtime.run(diagnose_failure(error, provider, runtime.pool))
    return error.message, hint
