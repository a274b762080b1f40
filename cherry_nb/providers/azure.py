"""Azure OpenAI: the deployments API (`?api-version=`) and the newer `/openai/v1` form."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import quote

from ..config.urls import DEFAULT_AZURE_API_VERSION
from .openai import OpenAIAdapter


class AzureOpenAIAdapter(OpenAIAdapter):
    """Speaks OpenAI's wire format; only addressing and the `api-key` header differ."""

    auth_header: ClassVar[str] = "api-key"

    @property
    def _v1(self) -> bool:
        return self.base.endswith("/openai/v1")

    @property
    def _api_version(self) -> str:
        return self.provider.api_version or DEFAULT_AZURE_API_VERSION

    def chat_url(self, model: str, *, stream: bool) -> str:
        if self._v1:
            return f"{self.base}/chat/completions"
        deployment = quote(model, safe="")  # a path segment: "../" must not climb out of it
        return (
            f"{self.base}/openai/deployments/{deployment}/chat/completions"
            f"?api-version={self._api_version}"
        )

    def models_url(self) -> str:
        if self._v1:
            return f"{self.base}/models"
        return f"{self.base}/openai/models?api-version={self._api_version}"
