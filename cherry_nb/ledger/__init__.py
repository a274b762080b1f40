"""The usage ledger — what was spent where: one record per gateway request or `%%chat` turn."""

from __future__ import annotations

from .records import UsageRecord

__all__ = ["UsageRecord"]
