"""Check that a provider's key, address and model work, with a diagnosis when not.

Like Cherry Studio's Check button: the cheapest real request that proves all
three — a tiny streamed message abandoned after the first chunk, or, with no
model named, a model listing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx

from ._exceptions import CherryError, ModelNotFoundError, NotFoundError
from .config.models import Provider
from .diagnosis import Category, diagnose
from .providers.base import Adapter
from .providers.pool import AdapterPool
from .providers.transport import NO_RETRY
from .wire.neutral import ChatRequest, Message, Text

CHECK_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=5.0)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of a check; `str()` gives the one paragraph to show a person."""

    provider_id: str
    ok: bool
    category: Category
    latency_ms: float
    message: str
    hint: str = ""
    model: str | None = None
    status: int | None = None
    models: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        if self.ok:
            return self.message
        return f"{self.message}\n{self.hint}" if self.hint else self.message


async def check(
    provider: Provider,
    model: str | None = None,
    *,
    timeout: httpx.Timeout = CHECK_TIMEOUT,
) -> CheckResult:
    """Prove the key, address and (when given, else listing works) the model."""
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
        category, hint = await diagnose_failure(error, provider, pool)
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
    finally:
        await pool.aclose()


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
