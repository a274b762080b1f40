"""A `%%chat` turn as a UsageRecord, so notebook use shows in the same ledger as the gateway's."""

from __future__ import annotations

from .._exceptions import CherryError, ProviderError
from ..config.models import Provider
from ..diagnosis import Category, category_of
from ..ledger.records import UsageRecord, token_counts
from ..wire.neutral import ChatRequest, Usage

ROUTE = "%%chat"
INTERRUPTED = 499  # nginx's "client closed request": the user stopped the cell


def turn_record(
    provider: Provider,
    request: ChatRequest,
    *,
    started: float,
    seconds: float,
    ttft: float | None,
    usage: Usage | None,
    interrupted: bool,
    error: CherryError | None,
) -> UsageRecord:
    """One turn's record; `started` is Unix seconds, `seconds`/`ttft` from the start."""
    status, category = 200, None
    if error is not None:
        status = error.status if isinstance(error, ProviderError) and error.status else 502
        category = category_of(error).value
    elif interrupted:
        status, category = INTERRUPTED, Category.INTERRUPTED.value
    return UsageRecord(
        time=started,
        route=ROUTE,
        client_format="notebook",
        key_name=None,
        provider=provider.id,
        model=request.model,
        status=status,
        error_category=category,
        **token_counts(usage),
        ttft_ms=None if ttft is None else ttft * 1000,
        duration_ms=seconds * 1000,
        stream=bool(request.stream),
    )
