"""Upstreams that speak OpenAI's Responses API (OpenAI's newest models are served only
there): POST {base}/responses, models at {base}/models, Bearer auth, `/v1` in the base
as for OpenAI. Chat Completions and Messages clients are translated to it; Responses
clients pass through."""

from __future__ import annotations

from typing import ClassVar

from ..wire import responses as wire_responses
from ..wire.formats import UpstreamFormat
from .base import Adapter


class OpenAIResponseAdapter(Adapter):
    wire: ClassVar[UpstreamFormat] = wire_responses
    wire_format: ClassVar[str] = "responses"

    def chat_url(self, model: str, *, stream: bool) -> str:
        return f"{self.base}/responses"

    def models_url(self) -> str:
        return f"{self.base}/models"
