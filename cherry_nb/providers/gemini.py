"""Google's Gemini API (Generative Language v1beta).

URLs (the model in the path), the `x-goog-api-key` header and the models list come
from the `gemini` kind.
"""

from __future__ import annotations

from typing import Any

from ..wire import gemini as wire_gemini
from .base import Adapter


class GeminiAdapter(Adapter):
    def place_model(self, body: dict[str, Any], model: str, stream: bool) -> None:
        # Gemini carries both in the URL; stray fields would be rejected.
        body.pop("model", None)
        body.pop("stream", None)

    def stream_parser(self, model: str) -> Any:
        return wire_gemini.StreamParser(model=model)
