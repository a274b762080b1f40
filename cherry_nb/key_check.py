"""Check that a provider's key, address and model work, with a diagnosis when not.

Like Cherry Studio's Check button: the cheapest real request that proves all
three — a tiny streamed message abandoned after the first chunk, or, with no
model named, a model listing. A provider with several keys has each key checked
(a rotation hides a bad key until its turn comes), and the result says which
failed, masked. A passing check clears a key's "rejected" mark (key_health).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace

import httpx

from ._exceptions import CherryError, ModelNotFoundError, NotFoundError
from ._secrets import mask_key
from .config.models import Provider
from .diagnosis import Category, diagnose, short_label
from .providers.base import Adapter
from .providers.pool import AdapterPool
from .providers.transport import NO_RETRY
from .wire.neutral import ChatRequest, Message, Text

CHECK_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=5.0)


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """One key's outcome, masked: `str()` is a line such as "key 2 sk-…wxyz ✗ 401 invalid key"."""

    index: int  # 1-based, in the configured order
    masked: str
    ok: bool
    category: Category
    status: int | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"key {self.index} {self.masked} ✓"
        status = f"{self.status} " if self.status else ""
        return f"key {self.index} {self.masked} ✗ {status}{short_label(self.category)}"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of a check; `str()` gives the one paragraph to show a person
    (with a line per key when the provider has several)."""

    provider_id: str
    ok: bool
    category: Category
    latency_ms: float
    message: str
    hint: str = ""
    model: str | None = None
    status: int | None = None
    models: tuple[str, ...] = field(default=())
    keys: tuple[KeyCheck, ...] = field(default=())

    @property
    def key_lines(self) -> list[str]:
        """A line per key, when there are several (one key is the whole result)."""
        return [str(key) for key in self.keys] if len(self.keys) > 1 else []

    def __str__(self) -> str:
        parts = [self.message, *self.key_lines]
        if not self.ok and self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


async def check(
    provider: Provider,
    model: str | None = None,
    *,
    timeout: httpx.Timeout = CHECK_TIMEOUT,
) -> CheckResult:
    """Prove the key, address and (when given, else listing works) the model, for
    every key of the provider."""
    started = time.perf_counter()
    try:
        keys = provider.api_keys()
    except CherryError as error:
        return await _failed(error, provider, model, started, AdapterPool(policy=NO_RETRY))
    if len(keys) <= 1:
        result = await _check_one(provider, model, timeout)
        return _with_keys(result, [(provider, result)], keys)
    # One provider per key (same id and address, so health marks are the real keys').
    singles = [provider.model_copy(update={"api_key": key}) for key in keys]
    results = await asyncio.gather(*(_check_one(one, model, timeout) for one in singles))
    return _combine(provider, keys, list(zip(singles, results, strict=True)), started)


async def _check_one(provider: Provider, model: str | None, timeout: httpx.Timeout) -> CheckResult:
    pool = AdapterPool(policy=NO_RETRY, timeout=timeout)
    started = time.perf_counter()
    try:
        adapter = pool.adapter(provider)
        try:
            return await _probe(adapter, model, started)
        except NotFoundError:
            if model is not None or not provider.models:
                raise
            # Some relays have no model list; a chat with a configured model still proves it.
            model = provider.models[0].id
            return await _probe(adapter, model, started)
    except CherryError as error:
        return await _failed(error, provider, model, started, pool)
    finally:
        await pool.aclose()


async def _failed(
    error: CherryError, provider: Provider, model: str | None, started: float, pool: AdapterPool
) -> CheckResult:
    try:
        category, hint = await diagnose_failure(error, provider, pool)
    finally:
        await pool.aclose()
    return CheckResult(
        provider_id=provider.id,
        ok=False,
        category=category,
        latency_ms=_ms(started),
        message=f"✗ {provider.name}: {error.message}",
        hint=hint,
        model=model,
        status=getattr(error, "status", None),
    )


def _with_keys(
    result: CheckResult, outcomes: list[tuple[Provider, CheckResult]], keys: list[str]
) -> CheckResult:
    if not keys:
        return result
    checks = tuple(
        KeyCheck(i, mask_key(key), one.ok, one.category, None if one.ok else one.status)
        for i, (key, (_, one)) in enumerate(zip(keys, outcomes, strict=True), start=1)
    )
    return replace(result, keys=checks)


def _combine(
    provider: Provider,
    keys: list[str],
    outcomes: list[tuple[Provider, CheckResult]],
    started: float,
) -> CheckResult:
    """One result for several keys: ok only when every key is; the headline and hint
    are the first failure's, naming the keys that failed."""
    results = [one for _, one in outcomes]
    latency = _ms(started)
    failures = [(i, one) for i, one in enumerate(results, start=1) if not one.ok]
    if not failures:
        first = results[0]
        what = first.message.split(": ", 1)[-1].rsplit(" (", 1)[0]
        combined = replace(
            first,
            latency_ms=latency,
            message=f"✓ {provider.name}: all {len(keys)} keys work; {what} ({latency:.0f} ms).",
        )
        return _with_keys(combined, outcomes, keys)
    index, first_failure = failures[0]
    which = ", ".join(f"key {i} ({mask_key(keys[i - 1])})" for i, _ in failures)
    count = f"{len(failures)} of {len(keys)} keys fail" if len(failures) > 1 else "1 key fails"
    reason = first_failure.message.split(": ", 1)[-1]
    combined = replace(
        first_failure,
        provider_id=provider.id,
        latency_ms=latency,
        message=f"✗ {provider.name}: {count}: {which}. Key {index}: {reason}",
        models=next((one.models for one in results if one.ok), ()),
    )
    return _with_keys(combined, outcomes, keys)


async def _probe(adapter: Adapter, model: str | None, started: float) -> CheckResult:
    provider = adapter.provider
    if model is None:
        models = tuple(m.id for m in await adapter.list_models())
        return _ok(provider, None, started, f"{len(models)} models listed", models)
    request = ChatRequest(
        model=model, messages=[Message("user", [Text("hi")])], max_tokens=16, stream=True
    )
    stream = adapter.stream(request)
    try:
        await anext(stream)
    finally:
        await stream.aclose()  # abandon the rest: the check costs one chunk
    return _ok(provider, model, started, f"model {model} answered")


async def diagnose_failure(
    error: CherryError, provider: Provider, pool: AdapterPool
) -> tuple[Category, str]:
    """`diagnose(error)`; for an unknown model, with the models the provider lists (or,
    when listing fails too, those configured), so the hint can name the closest."""
    available = None
    if isinstance(error, ModelNotFoundError):
        try:
            available = [m.id for m in await pool.adapter(provider).list_models()]
        except CherryError:
            available = provider.model_ids()
    return diagnose(error, provider, available_models=available)


def _ok(
    provider: Provider, model: str | None, started: float, what: str, models: tuple[str, ...] = ()
) -> CheckResult:
    latency = _ms(started)
    return CheckResult(
        provider_id=provider.id,
        ok=True,
        category=Category.OK,
        latency_ms=latency,
        message=f"✓ {provider.name}: {what} ({latency:.0f} ms).",
        model=model,
        models=models,
    )


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
