"""Choosing among a model group's members, and when a failure moves on to the next.

The gateway (gateway/group_relay.py) and `%%chat -m GROUP` (notebook) both go
through here, so a group behaves the same in both: the strategy orders the
members, members whose every key is cooling down or rejected go last, and an
error that is the member's (it is down, slow, rate limited, out of credit, its
key or address is wrong, it does not serve the model, it cannot carry the
request) moves the request on, while an error that is the request's (400, 413,
422: the next member would refuse it too) does not.

Requests in flight are counted per member in one process-wide table, like key
health, so `least-busy` sees the gateway's and the notebook's requests alike.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass

from .._exceptions import CherryError, ConfigError, ProviderError, UntranslatableError
from ..config.models import ModelGroup
from ..config.resolve import Target
from ..wire.neutral import ChatRequest, StreamEvent
from .pool import AdapterPool
from .transport import NO_RETRY, RetryPolicy

# Upstream statuses that say something about the member, not about the request.
_MEMBER_STATUSES = frozenset({401, 402, 403, 404, 408, 429})


def moves_on(error: CherryError) -> bool:
    """Whether `error`, raised before the first byte, sends a group's request to the
    next member: the member is at fault, so another may answer."""
    if isinstance(error, UntranslatableError):
        return True  # this member's format cannot carry it; another's may
    if isinstance(error, ConfigError):
        return True  # e.g. the member's key comes from an unset environment variable
    if not isinstance(error, ProviderError):
        return False
    status = error.status
    return status is None or status >= 500 or status in _MEMBER_STATUSES


def retry_policy(index: int, count: int) -> RetryPolicy | None:
    """A member before the last gets one attempt (its other healthy keys still count):
    the next member is a better retry than a backoff. The last keeps the usual retries."""
    return NO_RETRY if index < count - 1 else None


def tried_note(group: ModelGroup, failures: Sequence[tuple[Target, CherryError]]) -> str:
    """What the earlier members said, appended to the last member's error."""
    if not failures:
        return ""
    tried = "; ".join(f"{target.ref}: {error.message}" for target, error in failures)
    return f" (model group {group.id!r} tried before: {tried})"


class MemberTable:
    """Per-group turns (round-robin) and per-member requests in flight (least-busy);
    thread-safe: the gateway's loop and the notebook's share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._turns: dict[str, int] = {}
        self._busy: dict[str, int] = {}

    def order(
        self,
        group: ModelGroup,
        targets: Sequence[Target],
        usable: Callable[[Target], bool] = lambda _: True,
    ) -> list[Target]:
        """The members in the order to try them, by the group's strategy; those that
        are not `usable` (no healthy key) after the rest, still in that order."""
        members = list(targets)
        with self._lock:
            if group.strategy == "round-robin" and members:
                turn = self._turns.get(group.id, 0)
                self._turns[group.id] = turn + 1
                start = turn % len(members)
                members = members[start:] + members[:start]
            elif group.strategy == "least-busy":
                members.sort(key=lambda t: self._busy.get(t.ref, 0))  # stable: ties keep order
        ready = [t for t in members if usable(t)]
        return ready + [t for t in members if t not in ready]

    def begin(self, target: Target) -> None:
        with self._lock:
            self._busy[target.ref] = self._busy.get(target.ref, 0) + 1

    def end(self, target: Target) -> None:
        with self._lock:
            left = self._busy.get(target.ref, 0) - 1
            if left > 0:
                self._busy[target.ref] = left
            else:
                self._busy.pop(target.ref, None)

    def busy(self, target: Target) -> int:
        return self._busy.get(target.ref, 0)

    def reset(self) -> None:
        """Forget turns and counts (tests)."""
        with self._lock:
            self._turns.clear()
            self._busy.clear()


#: The process's table.
MEMBERS = MemberTable()


def healthy_in(pool: AdapterPool) -> Callable[[Target], bool]:
    """`usable` for `MemberTable.order`: the member has a key not cooling or rejected."""

    def usable(target: Target) -> bool:
        try:
            return pool.adapter(target.provider).keys.any_healthy()
        except CherryError:
            return False

    return usable


@dataclass(slots=True)
class GroupStream:
    """Neutral stream events from the first member of a group that starts answering.

    `answered` is the member that did, or the last one tried when none did (what a
    usage record and a diagnosis name); before the first
    event a failure that `moves_on` tries the next member; after it, the error is the
    stream's, as for a single model.
    """

    group: ModelGroup
    targets: Sequence[Target]
    table: MemberTable = MEMBERS
    answered: Target | None = None

    async def events(
        self, pool: AdapterPool, request: ChatRequest
    ) -> AsyncGenerator[StreamEvent, None]:
        order = self.table.order(self.group, self.targets, healthy_in(pool))
        failures: list[tuple[Target, CherryError]] = []
        for index, target in enumerate(order):
            member_request = dataclasses.replace(request, model=target.model)
            self.answered = target
            self.table.begin(target)
            stream: AsyncGenerator[StreamEvent, None] | None = None
            try:
                try:
                    stream = pool.adapter(target.provider).stream(
                        member_request, policy=retry_policy(index, len(order))
                    )
                    first = await anext(stream)
                except StopAsyncIteration:
                    return
                except CherryError as error:
                    if stream is not None:
                        await stream.aclose()
                    if index == len(order) - 1 or not moves_on(error):
                        error.message += tried_note(self.group, failures)
                        raise
                    failures.append((target, error))
                    continue
                try:
                    yield first
                    async for event in stream:
                        yield event
                finally:
                    await stream.aclose()
                return
            finally:
                self.table.end(target)
