"""The config layer: the config file's models and storage, provider kinds, URL rules,
presets, the registry and the model resolver.

Everything above this layer imports from here rather than from the submodules.
"""

from .ids import PROVIDER_ID_RE, RESERVED_IDS, is_reserved_id
from .kinds import KINDS, PROVIDER_TYPES, Endpoints, ProviderKind, get_kind
from .models import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    Config,
    ModelEntry,
    Provider,
    ProviderType,
    ServerSettings,
    split_model_ref,
)
from .presets import LOCAL_SERVER_PORTS, PRESETS, Preset, get_preset
from .registry import ProviderRegistry, slugify
from .resolve import Resolution, Target, resolve_model
from .store import config_path, load_config, save_config
from .urls import (
    DEFAULT_AZURE_API_VERSION,
    Address,
    NormalizedURL,
    address,
    endpoint_preview,
    is_exact,
    normalize_base_url,
    provider_address,
    strip_exact_marker,
)

__all__ = [
    "DEFAULT_AZURE_API_VERSION",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "KINDS",
    "LOCAL_SERVER_PORTS",
    "PRESETS",
    "PROVIDER_ID_RE",
    "PROVIDER_TYPES",
    "RESERVED_IDS",
    "Address",
    "Config",
    "Endpoints",
    "ModelEntry",
    "NormalizedURL",
    "Preset",
    "Provider",
    "ProviderKind",
    "ProviderRegistry",
    "ProviderType",
    "Resolution",
    "ServerSettings",
    "Target",
    "address",
    "config_path",
    "endpoint_preview",
    "get_kind",
    "get_preset",
    "is_exact",
    "is_reserved_id",
    "load_config",
    "normalize_base_url",
    "provider_address",
    "resolve_model",
    "save_config",
    "slugify",
    "split_model_ref",
    "strip_exact_marker",
]
