"""Anthropic's Messages API (and relays that speak it).

URLs, the `x-api-key` header and the models list come from the `anthropic` kind.
"""

from __future__ import annotations

from typing import ClassVar

from ..wire import anthropic as wire_anthropic
from ..wire.formats import UpstreamFormat
from .base import Adapter

ANTHROPIC_VERSION = "2023-06-01"


class AnthropicAdapter(Adapter):
    wire: ClassVar[UpstreamFormat] = wire_anthropic

    def protocol_headers(self) -> dict[str, str]:
        return {"anthropic-version": ANTHROPIC_VERSION}
