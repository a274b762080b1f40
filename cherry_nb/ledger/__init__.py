"""The usage ledger — what was spent where: one record per gateway request or `%%chat` turn.

`UsageRecord` is the shape; `Ledger` the store's interface (`SQLiteLedger` the embedded
default, next to the config file); `UsageMetrics` the Prometheus view; `Recorder` the
one object callers hand a finished record to. sqlite3 and prometheus_client load only
when their modules are imported, so `import cherry_nb` stays cheap.
"""

from __future__ import annotations

from .base import Ledger
from .query import UsageSummary
from .records import UsageRecord

__all__ = ["Ledger", "UsageRecord", "UsageSummary"]
