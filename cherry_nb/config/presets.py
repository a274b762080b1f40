"""Ready-made provider definitions, so adding a well-known server is one choice.

Every base URL here is already in normalised form (the tests check it), so a
preset adds no notes of its own. The Azure preset's address is a placeholder:
each resource has its own host, so it must be replaced by the user's
(normalize_base_url refuses the placeholder host).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .._exceptions import ConfigError
from .models import ProviderType
from .urls import DEFAULT_AZURE_API_VERSION, PLACEHOLDER_RESOURCE


@dataclass(frozen=True)
class Preset:
    """A known server: what to prefill in the provider form and what to tell the user."""

    key: str
    label: str
    type: ProviderType
    base_url: str
    needs_key: bool
    hint: str
    api_version: str | None = None
    base_url_is_placeholder: bool = False
    local: bool = False


_ALL = (
    # OpenAI-compatible servers run on your own machine: no key needed.
    Preset(
        "vllm",
        "vLLM",
        "openai",
        "http://127.0.0.1:8000/v1",
        False,
        "Start it with `vllm serve MODEL`; it listens on port 8000. A key is only needed "
        "when it was started with --api-key.",
        local=True,
    ),
    Preset(
        "ollama",
        "Ollama",
        "openai",
        "http://127.0.0.1:11434/v1",
        False,
        "Ollama's OpenAI-compatible API on port 11434; pull models with `ollama pull`.",
        local=True,
    ),
    Preset(
        "tgi",
        "Text Generation Inference",
        "openai",
        "http://127.0.0.1:8080/v1",
        False,
        "Hugging Face TGI's Messages API; the port is whatever you mapped (8080 by default).",
        local=True,
    ),
    Preset(
        "lmstudio",
        "LM Studio",
        "openai",
        "http://127.0.0.1:1234/v1",
        False,
        "Start the server in LM Studio's Developer tab; it listens on port 1234.",
        local=True,
    ),
    Preset(
        "llamacpp",
        "llama.cpp server",
        "openai",
        "http://127.0.0.1:8080/v1",
        False,
        "`llama-server -m MODEL.gguf` listens on port 8080; a key only with --api-key.",
        local=True,
    ),
    # Hosted APIs: a key is required.
    Preset(
        "openai",
        "OpenAI",
        "openai",
        "https://api.openai.com/v1",
        True,
        "Keys are at https://platform.openai.com/api-keys.",
    ),
    Preset(
        "openai-responses",
        "OpenAI (Responses API)",
        "openai-response",
        "https://api.openai.com/v1",
        True,
        "The same keys as OpenAI's; for models served only by the Responses API.",
    ),
    Preset(
        "anthropic",
        "Anthropic",
        "anthropic",
        "https://api.anthropic.com",
        True,
        "Keys are at https://console.anthropic.com/settings/keys.",
    ),
    Preset(
        "gemini",
        "Google Gemini",
        "gemini",
        "https://generativelanguage.googleapis.com",
        True,
        "Keys are at https://aistudio.google.com/apikey.",
    ),
    Preset(
        "azure-openai",
        "Azure OpenAI",
        "azure-openai",
        f"https://{PLACEHOLDER_RESOURCE}.openai.azure.com",
        True,
        "Use your resource's endpoint (Azure portal > Keys and Endpoint) and your "
        "deployment names as model ids.",
        api_version=DEFAULT_AZURE_API_VERSION,
        base_url_is_placeholder=True,
    ),
    Preset(
        "openrouter",
        "OpenRouter",
        "openai",
        "https://openrouter.ai/api/v1",
        True,
        "Keys are at https://openrouter.ai/keys; model ids look like openai/gpt-4o-mini.",
    ),
    Preset(
        "deepseek",
        "DeepSeek",
        "openai",
        "https://api.deepseek.com/v1",
        True,
        "Keys are at https://platform.deepseek.com/api_keys.",
    ),
    Preset(
        "groq",
        "Groq",
        "openai",
        "https://api.groq.com/openai/v1",
        True,
        "Keys are at https://console.groq.com/keys.",
    ),
)

PRESETS: Mapping[str, Preset] = MappingProxyType({preset.key: preset for preset in _ALL})

# Default ports of local servers, for detecting one that is already running.
LOCAL_SERVER_PORTS: Mapping[str, int] = MappingProxyType(
    {"ollama": 11434, "vllm": 8000, "lmstudio": 1234, "tgi": 8080}
)


def get_preset(key: str) -> Preset:
    """The preset called `key` (case-insensitive); ConfigError listing the known keys."""
    preset = PRESETS.get(key.strip().lower()) if isinstance(key, str) else None
    if preset is None:
        raise ConfigError(f"Unknown preset {key!r}; choose one of: {', '.join(PRESETS)}.")
    return preset
