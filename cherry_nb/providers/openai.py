"""OpenAI-compatible upstreams: OpenAI itself, vLLM, Ollama, TGI, LM Studio, llama.cpp, relays.

URLs, auth, the wire format and the models list come from the `openai` kind
(config/kinds.py); nothing about them is code.
"""

from __future__ import annotations

from .base import Adapter


class OpenAIAdapter(Adapter):
    """The generic adapter, named for its kind (Azure's subclasses it)."""
