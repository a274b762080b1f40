"""A chat request to a model group: its members tried in the strategy's order.

The relay (gateway/relay.py) returns only once the upstream has answered (a passthrough's
status and headers, a translation's first events), so until then nothing has reached the
client and a member's failure can still move the request on (providers/groups.py says
which failures do). After that the reply is the member's: a stream that fails later ends
with the protocol's error event, as for a single model.

Each member is a plain ChatCall: a member of another format than the client's is
translated as usual. The member's requests in flight are counted until its reply is
sent whole (least-busy).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable
from typing import Any

from .._exceptions import CherryError
from ..config.resolve import Resolution, Target
from ..providers.groups import MEMBERS, MemberTable, healthy_in, moves_on, retry_policy, tried_note
from ..providers.pool import AdapterPool
from ..providers.transport import RetryPolicy
from .relay import ChatCall, relay_chat
from .reply import Reply, StreamReply

log = logging.getLogger("cherry_nb.gateway")

#: Builds the call for one member (its adapter, model and retry policy).
CallFor = Callable[[Target, RetryPolicy | None], ChatCall]


async def relay_group(
    pool: AdapterPool,
    resolution: Resolution,
    call_for: CallFor,
    table: MemberTable = MEMBERS,
) -> tuple[Target, Reply | StreamReply]:
    """The member that answered and its reply; the last member's error (naming what the
    others said) when none did."""
    group = resolution.group
    assert group is not None
    order = table.order(group, resolution.targets, healthy_in(pool))
    failures: list[tuple[Target, CherryError]] = []
    for index, target in enumerate(order):
        table.begin(target)
        try:
            reply = await relay_chat(call_for(target, retry_policy(index, len(order))))
        except CherryError as error:
            table.end(target)
            if index == len(order) - 1 or not moves_on(error):
                error.message += tried_note(group, failures)
                raise
            log.info("group %s: %s failed before answering (%s)", group.id, target.ref, error)
            failures.append((target, error))
            continue
        except BaseException:
            table.end(target)
            raise
        if isinstance(reply, StreamReply):
            reply.chunks = _Counted(reply.chunks, table, target)
        else:
            table.end(target)
        return target, reply
    raise AssertionError("a resolved group has at least one member")  # pragma: no cover


class _Counted(AsyncGenerator[bytes, None]):
    """A stream's chunks, with the member counted busy until the stream is over or
    closed (an async generator's `finally` would not run if it never started)."""

    def __init__(
        self, inner: AsyncGenerator[bytes, None], table: MemberTable, target: Target
    ) -> None:
        self._inner = inner
        self._table = table
        self._target: Target | None = target

    def _end(self) -> None:
        if self._target is not None:
            self._table.end(self._target)
            self._target = None

    async def __anext__(self) -> bytes:
        try:
            return await self._inner.__anext__()
        except BaseException:
            self._end()
            raise

    async def asend(self, value: None) -> bytes:
        return await self.__anext__()

    async def athrow(self, *args: Any) -> bytes:
        try:
            return await self._inner.athrow(*args)
        finally:
            self._end()

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._end()
