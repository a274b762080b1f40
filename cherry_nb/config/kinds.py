"""Provider kinds: what each provider `type` is, declared once.

A kind says everything about a type of upstream that is data rather than code:
its label, how a typed address is reduced to its base, the URL of each endpoint
built on that base, the auth header, where the model goes, the shape of its
model list and the wire format it speaks. URL normalisation (`urls.py`), the
adapters, the gateway's checks, the widgets, the CLI and the OpenAPI document
all read it here, so they cannot disagree.

Adding a provider type: add one `ProviderKind` to `_ALL` below, an adapter class
keyed by its id in `providers/pool.py` (ADAPTERS), and tests. Pure data, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, TypeAlias

from .._exceptions import ConfigError

ModelListShape: TypeAlias = Literal["openai", "anthropic", "gemini"]

DEFAULT_AZURE_API_VERSION = "2024-10-21"


@dataclass(frozen=True, slots=True)
class Endpoints:
    """URL templates appended to the effective base URL.

    `{model}` is replaced by the model id quoted as one path segment (so `../`
    cannot climb out of it), `{api_version}` by the provider's api version.
    """

    chat: str
    chat_stream: str
    models: str
    count_tokens: str | None = None
    embeddings: str | None = None

    @property
    def model_in_path(self) -> bool:
        return "{model}" in self.chat or "{model}" in self.chat_stream


@dataclass(frozen=True, slots=True)
class TrimRule:
    """A trailing path part the kind's adapter adds itself, removed from a typed base.

    `pattern` is a regular expression matched at the end of the path; `note` is told
    to the user, with `{found}` replaced by what was removed.
    """

    pattern: str
    note: str


@dataclass(frozen=True, slots=True)
class ModelEndpoint:
    """A pasted per-model endpoint (`pattern`, with a `model` group, matched at the end
    of the path) that is cut back to the base; `what` names it in the note, and
    `offers_model` says whether the model found is offered as the provider's model."""

    pattern: str
    what: str
    offers_model: bool = False


@dataclass(frozen=True, slots=True)
class ProviderKind:
    """One provider type: addressing, auth and capabilities, as data."""

    id: str
    label: str
    #: The wire format the upstream speaks (clients in the same format pass through).
    wire_format: str
    endpoints: Endpoints
    #: Header that carries the key, and whether its value is `Bearer KEY`.
    auth_header: str
    bearer: bool
    model_list: ModelListShape
    #: Appended to a typed base whose path has no /vN segment (OpenAI-compatible servers).
    append_version: str | None = None
    trim: tuple[TrimRule, ...] = ()
    model_endpoint: ModelEndpoint | None = None
    #: The query parameter that carries the api version, read from a pasted address.
    api_version_param: str | None = None
    default_api_version: str | None = None
    #: Endpoints used instead when the base ends with the given path (Azure's /openai/v1).
    variants: tuple[tuple[str, Endpoints], ...] = ()

    def endpoints_for(self, base: str) -> Endpoints:
        """The endpoints that apply to the effective base URL `base`."""
        for suffix, endpoints in self.variants:
            if base.endswith(suffix):
                return endpoints
        return self.endpoints

    @property
    def model_in_path(self) -> bool:
        """Whether the model id may become a URL path segment upstream (any variant)."""
        return self.endpoints.model_in_path or any(e.model_in_path for _, e in self.variants)

    @property
    def capabilities(self) -> frozenset[str]:
        """Optional endpoints the kind has: "count_tokens", "embeddings"."""
        found = set()
        for endpoints in (self.endpoints, *(e for _, e in self.variants)):
            if endpoints.count_tokens is not None:
                found.add("count_tokens")
            if endpoints.embeddings is not None:
                found.add("embeddings")
        return frozenset(found)


_OPENAI_ENDPOINTS = Endpoints(
    chat="/chat/completions",
    chat_stream="/chat/completions",
    models="/models",
    embeddings="/embeddings",
)

_ALL = (
    ProviderKind(
        id="openai",
        label="OpenAI-compatible",
        wire_format="openai",
        endpoints=_OPENAI_ENDPOINTS,
        auth_header="authorization",
        bearer=True,
        model_list="openai",
        append_version="/v1",
    ),
    ProviderKind(
        id="anthropic",
        label="Anthropic",
        wire_format="anthropic",
        endpoints=Endpoints(
            chat="/v1/messages",
            chat_stream="/v1/messages",
            models="/v1/models?limit=1000",
            count_tokens="/v1/messages/count_tokens",
        ),
        auth_header="x-api-key",
        bearer=False,
        model_list="anthropic",
        trim=(
            TrimRule(r"/v1$", "Removed the trailing {found}: cherry_nb adds /v1/messages itself."),
        ),
    ),
    ProviderKind(
        id="gemini",
        label="Gemini",
        wire_format="gemini",
        endpoints=Endpoints(
            chat="/v1beta/models/{model}:generateContent",
            chat_stream="/v1beta/models/{model}:streamGenerateContent?alt=sse",
            models="/v1beta/models?pageSize=1000",
            embeddings="/v1beta/models/{model}:batchEmbedContents",
        ),
        auth_header="x-goog-api-key",
        bearer=False,
        model_list="gemini",
        trim=(
            TrimRule(
                r"/v1(?:beta|alpha)?$",
                "Removed the trailing {found}: cherry_nb adds /v1beta/models/... itself.",
            ),
        ),
        model_endpoint=ModelEndpoint(
            r"/models/(?P<model>[^/]+?)(?::\w+)?$", "a model's full endpoint"
        ),
    ),
    ProviderKind(
        id="azure-openai",
        label="Azure OpenAI",
        wire_format="openai",
        endpoints=Endpoints(
            chat="/openai/deployments/{model}/chat/completions?api-version={api_version}",
            chat_stream="/openai/deployments/{model}/chat/completions?api-version={api_version}",
            models="/openai/models?api-version={api_version}",
            embeddings="/openai/deployments/{model}/embeddings?api-version={api_version}",
        ),
        auth_header="api-key",
        bearer=False,
        model_list="openai",
        trim=(
            TrimRule(
                r"/openai$",
                "Removed the trailing {found}: cherry_nb adds /openai/deployments/... itself "
                "(or use a base ending in /openai/v1 for Azure's v1 API).",
            ),
        ),
        model_endpoint=ModelEndpoint(
            r"/openai/deployments/(?P<model>[^/]+)(?:/.*)?$",
            "a deployment endpoint",
            offers_model=True,
        ),
        api_version_param="api-version",
        default_api_version=DEFAULT_AZURE_API_VERSION,
        variants=(("/openai/v1", _OPENAI_ENDPOINTS),),
    ),
    ProviderKind(
        id="openai-response",
        label="OpenAI (Responses API)",
        wire_format="responses",
        endpoints=Endpoints(chat="/responses", chat_stream="/responses", models="/models"),
        auth_header="authorization",
        bearer=True,
        model_list="openai",
        append_version="/v1",
    ),
)

KINDS: Mapping[str, ProviderKind] = MappingProxyType({kind.id: kind for kind in _ALL})
PROVIDER_TYPES: tuple[str, ...] = tuple(KINDS)


def kinds_with(capability: str) -> tuple[str, ...]:
    """The ids of the kinds that have the optional endpoint `capability`, for messages
    that tell a user which provider types would serve a request."""
    return tuple(kind.id for kind in _ALL if capability in kind.capabilities)


def get_kind(provider_type: str) -> ProviderKind:
    """The kind called `provider_type`; ConfigError listing the known types."""
    kind = KINDS.get(provider_type) if isinstance(provider_type, str) else None
    if kind is None:
        raise ConfigError(
            f"Unknown provider type {provider_type!r}; use one of {', '.join(PROVIDER_TYPES)}."
        )
    return kind
