"""OpenAI-compatible upstreams: OpenAI itself, vLLM, Ollama, TGI, LM Studio, llama.cpp, relays.

URLs, auth and the models list come from the `openai` kind (config/kinds.py).
"""

from __future__ import annotations

from typing import ClassVar

from ..wire import openai as wire_openai
from ..wire.formats import UpstreamFormat
from .base import Adapter


class OpenAIAdapter(Adapter):
    wire: ClassVar[UpstreamFormat] = wire_openai
