"""OpenAI-compatible upstreams: OpenAI itself, vLLM, Ollama, TGI, LM Studio, llama.cpp, relays."""

from __future__ import annotations

from typing import ClassVar

from ..wire import openai as wire_openai
from ..wire.formats import UpstreamFormat
from .base import Adapter


class OpenAIAdapter(Adapter):
    wire: ClassVar[UpstreamFormat] = wire_openai
    wire_format: ClassVar[str] = "openai"

    def chat_url(self, model: str, *, stream: bool) -> str:
        return f"{self.base}/chat/completions"

    def models_url(self) -> str:
        return f"{self.base}/models"
