"""The usage record: what the ledger stores, `cherry-nb usage --json` prints and
`/metrics` counts. One shape, written by the gateway's gate and the notebook's turns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..wire.neutral import Usage


@dataclass(slots=True)
class UsageRecord:
    """One request through the gateway, or one `%%chat` turn.

    `key_name` is the gateway key's name (never the key); `route` the path template
    (e.g. `/v1/messages`); `client_format` the wire format the client spoke
    (`openai`, `anthropic`, `responses`, or `notebook` for a cell).
    """

    time: float  # Unix seconds, when the request arrived
    route: str
    client_format: str
    key_name: str | None
    provider: str | None
    model: str | None
    status: int
    error_category: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    ttft_ms: float | None = None
    duration_ms: float = 0.0
    stream: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def token_counts(usage: Usage | None) -> dict[str, int]:
    """A reply's usage as a record's token fields (0 where it said nothing)."""
    if usage is None:
        return {"input_tokens": 0, "output_tokens": 0, "cached_tokens": 0, "reasoning_tokens": 0}
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cached_tokens": usage.cache_read_tokens or 0,
        "reasoning_tokens": usage.reasoning_tokens or 0,
    }
