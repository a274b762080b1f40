"""Anthropic's Messages API (and relays that speak it).

URLs, the `x-api-key` header and the models list come from the `anthropic` kind.
"""

from __future__ import annotations

from .base import Adapter

ANTHROPIC_VERSION = "2023-06-01"


class AnthropicAdapter(Adapter):
    def protocol_headers(self) -> dict[str, str]:
        return {"anthropic-version": ANTHROPIC_VERSION}
