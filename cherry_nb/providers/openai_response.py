"""Upstreams that speak OpenAI's Responses API (OpenAI's newest models are served only
there). URLs, Bearer auth, `/v1` in the base and the `responses` wire format come from
the `openai-response` kind; Chat Completions and Messages clients are translated to it,
Responses clients pass through."""

from __future__ import annotations

from .base import Adapter


class OpenAIResponseAdapter(Adapter):
    """The generic adapter, named for its kind."""
