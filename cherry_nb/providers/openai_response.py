"""Upstreams that speak OpenAI's Responses API (OpenAI's newest models are served only
there). URLs, Bearer auth and `/v1` in the base come from the `openai-response` kind;
Chat Completions and Messages clients are translated to it, Responses clients pass
through."""

from __future__ import annotations

from typing import ClassVar

from ..wire import responses as wire_responses
from ..wire.formats import UpstreamFormat
from .base import Adapter


class OpenAIResponseAdapter(Adapter):
    wire: ClassVar[UpstreamFormat] = wire_responses
