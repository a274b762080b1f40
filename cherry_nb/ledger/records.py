"""The usage record: what the ledger stores, `cherry-nb usage --json` prints and
`/metrics` counts. One shape, written by the gateway's gate and the notebook's turns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


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
