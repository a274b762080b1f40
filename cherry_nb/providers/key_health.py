"""Which of a provider's keys to use next, from what the upstream said about each.

A key the upstream rate limits (429) or fails on (5xx) cools down for a while, so
the retry goes at once to another key instead of waiting out a backoff; a key it
rejects (401/403) is skipped until the config changes or a check passes; a key out
of quota or credit (402, `insufficient_quota`, billing wording, Gemini's
RESOURCE_EXHAUSTED with quota wording) cools down for longer.

State lives in one process-wide table keyed by provider id and a fingerprint of
the key and the address it is sent to (a digest, never the key), so the gateway's
adapters, the notebook's and a check all see the same health, and an edited
provider (another key or another address) starts afresh. When no key is healthy
the least bad is still used: a request is never refused here, only ordered.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from enum import StrEnum

from .._exceptions import AuthenticationError, ProviderError

#: A 429 without Retry-After: long enough for a per-minute window to move on.
RATE_LIMIT_COOLDOWN = 20.0
#: A 5xx or 529: the upstream is struggling, perhaps only for this key's shard.
SERVER_ERROR_COOLDOWN = 5.0
#: Out of quota or credit: not coming back within a retry, often not for hours.
QUOTA_COOLDOWN = 600.0
#: The longest any Retry-After may bench a key.
MAX_COOLDOWN = 3600.0

_QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})
_QUOTA_WORDS = ("billing", "quota", "credit balance", "insufficient balance")
_SERVER_STATUSES = frozenset({500, 502, 503, 504, 529})


class KeyState(StrEnum):
    HEALTHY = "healthy"
    COOLING = "cooling"
    BAD = "bad"


@dataclass(slots=True)
class _Health:
    cool_until: float = 0.0
    bad: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one upstream error means for the key that drew it."""

    bad: bool = False
    cooldown: float = 0.0
    reason: str = ""

    @property
    def counts(self) -> bool:
        """Whether the error was about the key (so another key may fare better)."""
        return self.bad or self.cooldown > 0


NO_VERDICT = Verdict()


def verdict(error: ProviderError, retry_after: float | None = None) -> Verdict:
    """The key's fate after `error`; NO_VERDICT when the error is not the key's
    (a bad request, an unknown model)."""
    status = error.status
    if isinstance(error, AuthenticationError):
        return Verdict(bad=True, reason=f"{status or ''} rejected".strip())
    lowered = error.message.lower()
    code = (error.upstream_type or "").lower()
    quota = code in _QUOTA_CODES or any(word in lowered for word in _QUOTA_WORDS)
    if status == 402 or (status == 429 and quota):
        return Verdict(cooldown=max(QUOTA_COOLDOWN, retry_after or 0.0), reason="out of quota")
    if status == 429:
        wait = RATE_LIMIT_COOLDOWN if retry_after is None else retry_after
        return Verdict(cooldown=max(wait, 0.001), reason="rate limited")
    if status in _SERVER_STATUSES:
        return Verdict(cooldown=max(SERVER_ERROR_COOLDOWN, retry_after or 0.0), reason=f"{status}")
    return NO_VERDICT


class HealthTable:
    """Every key's health in this process; thread-safe (the gateway's loop and the
    notebook's share it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Health] = {}

    def state(self, provider_id: str, fingerprint: str, now: float) -> tuple[KeyState, float]:
        """The key's state and, when cooling, when it is usable again (monotonic)."""
        entry = self._entries.get((provider_id, fingerprint))
        if entry is None:
            return KeyState.HEALTHY, 0.0
        if entry.bad:
            return KeyState.BAD, 0.0
        if entry.cool_until > now:
            return KeyState.COOLING, entry.cool_until
        return KeyState.HEALTHY, 0.0

    def reason(self, provider_id: str, fingerprint: str) -> str:
        entry = self._entries.get((provider_id, fingerprint))
        return entry.reason if entry is not None else ""

    def record(self, provider_id: str, fingerprint: str, outcome: Verdict, now: float) -> None:
        if not outcome.counts:
            return
        with self._lock:
            entry = self._entries.setdefault((provider_id, fingerprint), _Health())
            entry.reason = outcome.reason
            if outcome.bad:
                entry.bad = True
            else:
                until = now + min(outcome.cooldown, MAX_COOLDOWN)
                entry.cool_until = max(entry.cool_until, until)

    def clear(self, provider_id: str, fingerprint: str) -> None:
        """The key just worked: forget any mark (a success outranks old news)."""
        if (provider_id, fingerprint) not in self._entries:
            return
        with self._lock:
            self._entries.pop((provider_id, fingerprint), None)

    def reset(self) -> None:
        """Forget everything (tests; a config reload needs nothing: fingerprints change)."""
        with self._lock:
            self._entries.clear()


#: The process's table.
HEALTH = HealthTable()


def fingerprint(key: str, address: str) -> str:
    """A short digest naming a key at an address: stable, useless to an attacker."""
    return hashlib.sha256(f"{address}\n{key}".encode()).hexdigest()[:16]


class KeyRing:
    """One adapter's keys in rotation order, skipping cooling and bad ones.

    `choose` prefers a healthy key (round-robin among them); else the cooling key
    that recovers first; else a bad one (so the upstream's own refusal is what the
    caller sees, and a key repaired upstream is found again).
    """

    def __init__(
        self,
        provider_id: str,
        address: str,
        keys: list[str],
        table: HealthTable = HEALTH,
    ) -> None:
        self.provider_id = provider_id
        self._keys = list(keys)
        self._prints = [fingerprint(key, address) for key in keys]
        self._table = table
        self._turn = 0

    def __repr__(self) -> str:
        return f"<KeyRing {self.provider_id} {len(self._keys)} keys>"

    def __len__(self) -> int:
        return len(self._keys)

    def choose(self) -> str:
        """The key for the next attempt ("" when the provider needs none)."""
        count = len(self._keys)
        if count <= 1:
            return self._keys[0] if count else ""
        now = time.monotonic()
        start = self._turn
        soonest: tuple[float, int] | None = None
        fallback: int | None = None
        for step in range(count):
            index = (start + step) % count
            state, until = self._table.state(self.provider_id, self._prints[index], now)
            if state is KeyState.HEALTHY:
                self._turn = index + 1
                return self._keys[index]
            if state is KeyState.COOLING and (soonest is None or until < soonest[0]):
                soonest = (until, index)
            elif state is KeyState.BAD and fallback is None:
                fallback = index
        index = soonest[1] if soonest is not None else fallback if fallback is not None else start
        self._turn = index + 1
        return self._keys[index % count]

    def any_healthy(self) -> bool:
        """Whether some key is neither cooling nor rejected (a provider without keys is)."""
        if not self._keys:
            return True
        now = time.monotonic()
        return any(
            self._table.state(self.provider_id, mark, now)[0] is KeyState.HEALTHY
            for mark in self._prints
        )

    def position(self, key: str) -> int:
        """`key`'s 1-based place in the configured order (how logs and checks name it)."""
        return self._keys.index(key) + 1 if key in self._keys else 0

    def healthy_other_than(self, key: str) -> bool:
        """Whether a key besides `key` is healthy right now (worth an immediate retry)."""
        now = time.monotonic()
        return any(
            other != key and self._table.state(self.provider_id, mark, now)[0] is KeyState.HEALTHY
            for other, mark in zip(self._keys, self._prints, strict=True)
        )

    def failed(self, key: str, outcome: Verdict) -> None:
        if outcome.counts and key in self._keys:
            mark = self._prints[self._keys.index(key)]
            self._table.record(self.provider_id, mark, outcome, time.monotonic())

    def succeeded(self, key: str) -> None:
        if key in self._keys:
            self._table.clear(self.provider_id, self._prints[self._keys.index(key)])

    def states(self) -> list[tuple[KeyState, str]]:
        """Each key's state and last reason, in configured order (for display)."""
        now = time.monotonic()
        return [
            (
                self._table.state(self.provider_id, mark, now)[0],
                self._table.reason(self.provider_id, mark),
            )
            for mark in self._prints
        ]
