"""Google's Gemini API (Generative Language v1beta)."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from ..config.models import ModelEntry
from ..wire import gemini as wire_gemini
from ..wire.formats import GEMINI, WireFormat
from .base import Adapter


class GeminiAdapter(Adapter):
    wire: ClassVar[WireFormat] = GEMINI
    auth_header: ClassVar[str] = "x-goog-api-key"

    def chat_url(self, model: str, *, stream: bool) -> str:
        model = quote(model, safe="")  # a path segment: "../" must not climb out of it
        if stream:
            return f"{self.base}/v1beta/models/{model}:streamGenerateContent?alt=sse"
        return f"{self.base}/v1beta/models/{model}:generateContent"

    def models_url(self) -> str:
        return f"{self.base}/v1beta/models?pageSize=1000"

    def place_model(self, body: dict[str, Any], model: str, stream: bool) -> None:
        # Gemini carries both in the URL; stray fields would be rejected.
        body.pop("model", None)
        body.pop("stream", None)

    def parse_models(self, body: Any) -> list[ModelEntry]:
        return [
            ModelEntry(id=model_id, name=name)
            for model_id, name in wire_gemini.list_models_from_wire(body)
        ]

    def stream_parser(self, model: str) -> Any:
        return wire_gemini.StreamParser(model=model)
