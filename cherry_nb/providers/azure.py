"""Azure OpenAI: the deployments API (`?api-version=`) and the newer `/openai/v1` form.

Speaks OpenAI's wire format; the addressing (deployment in the path, api-version, the
`/openai/v1` variant) and the `api-key` header are the `azure-openai` kind's data.
"""

from __future__ import annotations

from .openai import OpenAIAdapter


class AzureOpenAIAdapter(OpenAIAdapter):
    """OpenAI's protocol at Azure's addresses (all in the kind)."""
