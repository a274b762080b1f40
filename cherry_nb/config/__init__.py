"""The config layer: models of the config file, its storage, URL rules, presets, registry.

Everything above this layer imports from here rather than from the submodules.
"""

from .models import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    PROVIDER_ID_RE,
    PROVIDER_TYPES,
    Config,
    ModelEntry,
    Provider,
    ProviderType,
    ServerSettings,
    split_model_ref,
)
from .presets import LOCAL_SERVER_PORTS, PRESETS, Preset, get_preset
from .registry import ProviderRegistry, slugify
from .store import config_path, load_config, save_config
from .urls import (
    DEFAULT_AZURE_API_VERSION,
    NormalizedURL,
    endpoint_preview,
    is_exact,
    normalize_base_url,
    strip_exact_marker,
)

__all__ = [
    "DEFAULT_AZURE_API_VERSION",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "LOCAL_SERVER_PORTS",
    "PRESETS",
    "PROVIDER_ID_RE",
    "PROVIDER_TYPES",
    "Config",
    "ModelEntry",
    "NormalizedURL",
    "Preset",
    "Provider",
    "ProviderRegistry",
    "ProviderType",
    "ServerSettings",
    "config_path",
    "endpoint_preview",
    "get_preset",
    "is_exact",
    "load_config",
    "normalize_base_url",
    "save_config",
    "slugify",
    "split_model_ref",
    "strip_exact_marker",
]
