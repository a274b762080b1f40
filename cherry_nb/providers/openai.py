"""OpenAI-compatible upstreams: OpenAI itself, vLLM, Ollama, TGI, LM Studio, llama.cpp, relays."""

from __future__ import annotations

from typing import ClassVar

from ..wire.formats import OPENAI, WireFormat
from .base import Adapter


class OpenAIAdapter(Adapter):
    wire: ClassVar[WireFormat] = OPENAI

    def chat_url(self, model: str, *, stream: bool) -> str:
        return f"{self.base}/chat/completions"

    def models_url(self) -> str:
        return f"{self.base}/models"
