"""Anthropic's Messages API (and relays that speak it)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..config.models import ModelEntry
from ..wire.formats import ANTHROPIC, WireFormat
from .base import Adapter

ANTHROPIC_VERSION = "2023-06-01"


class AnthropicAdapter(Adapter):
    wire: ClassVar[WireFormat] = ANTHROPIC
    auth_header: ClassVar[str] = "x-api-key"

    def chat_url(self, model: str, *, stream: bool) -> str:
        return f"{self.base}/v1/messages"

    def models_url(self) -> str:
        return f"{self.base}/v1/models?limit=1000"

    def count_tokens_url(self) -> str:
        return f"{self.base}/v1/messages/count_tokens"

    def protocol_headers(self) -> dict[str, str]:
        return {"anthropic-version": ANTHROPIC_VERSION}

    def parse_models(self, body: Any) -> list[ModelEntry]:
        return [
            ModelEntry(id=m["id"], name=m.get("display_name"))
            for m in body.get("data", [])
            if m.get("id")
        ]
