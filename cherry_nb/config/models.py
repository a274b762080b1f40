"""Pydantic models of the config file (README, "The config file").

Unknown keys are preserved (extra="allow") so a newer or hand-edited file
round-trips without losing anything the user wrote. Keys are excluded from
reprs; see `_secrets` for the rest of the key hygiene.
"""

from __future__ import annotations

import os
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .._exceptions import ConfigError, UnknownProviderError
from .._secrets import (
    HOW_TO_MAKE_KEY,
    display_url,
    gateway_key_problem,
    mask_key,
    masked_headers,
    register_header_secrets,
    register_secret,
    register_url_secrets,
)
from .ids import PROVIDER_ID_RE, check_id
from .kinds import KINDS, PROVIDER_TYPES

__all__ = ["PROVIDER_ID_RE", "PROVIDER_TYPES"]  # re-exported: their home is ids.py, kinds.py

# A provider kind's id (kinds.py); a str so that adding a kind touches one module.
ProviderType: TypeAlias = str
GroupStrategy: TypeAlias = Literal["fallback", "round-robin", "least-busy"]
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 23333
#: Connections to one provider at most, per process (its connection pool's cap). Each
#: request in flight holds one, a stream for its whole length, so a lower cap queues
#: streams behind streams: it only bounds sockets (a remote API, a leak), well above
#: what one gateway serves at once.
UPSTREAM_CONNECTIONS = 1024


class ModelEntry(BaseModel):
    """A model a provider offers; written back as a bare string when it has no name."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, description="The upstream's model id.")
    name: str | None = Field(default=None, description="A display name.")

    @property
    def label(self) -> str:
        return self.name or self.id


class Provider(BaseModel):
    """One upstream endpoint and how to reach it."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    id: str = Field(description="Readable slug used in `provider-id:model-id`.")
    name: str = Field(default="", description="Display name.")
    type: ProviderType = Field(
        default="openai",
        description="The provider kind: " + ", ".join(PROVIDER_TYPES) + ".",
        json_schema_extra={"enum": list(PROVIDER_TYPES)},
    )
    base_url: str = Field(description="API address as typed; normalised at use (urls.py).")
    api_key: str = Field(
        default="",
        repr=False,
        description=(
            "A key, or several separated by commas (rotated); each may be env:VARNAME, "
            "read from the environment."
        ),
    )
    enabled: bool = True
    models: list[ModelEntry] = Field(default_factory=list)
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers.")
    api_version: str | None = Field(default=None, description="Azure OpenAI api-version.")
    max_concurrency: int | None = Field(
        default=None,
        ge=1,
        description="At most this many requests in flight to this provider per process "
        "(a local server or a small relay); unset for no limit.",
    )

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        return check_id(value)

    @field_validator("type")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"must be one of {', '.join(PROVIDER_TYPES)}")
        return value

    @field_validator("api_key")
    @classmethod
    def _strip_key(cls, value: str) -> str:
        return ",".join(k.strip() for k in value.split(",") if k.strip())

    @field_validator("models", mode="before")
    @classmethod
    def _model_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"id": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _default_name(self) -> Provider:
        if not self.name:
            self.name = self.id
        # Credentials in the address or in headers are secrets like keys, from the moment
        # a provider exists: `redact` must catch them in any message or log line.
        register_url_secrets(self.base_url)
        register_header_secrets(self.headers)
        return self

    def __repr_args__(self) -> Any:
        """The repr shows the address and headers as they may be displayed."""
        for name, value in super().__repr_args__():
            if name == "base_url":
                value = display_url(value)
            elif name == "headers":
                value = masked_headers(value)
            yield name, value

    def key_parts(self) -> list[str]:
        """`api_key` split at commas: each part a literal key or `env:VARNAME`."""
        return [part for part in self.api_key.split(",") if part]

    def api_keys(self) -> list[str]:
        """The usable keys, `env:` parts resolved; empty for servers that need none."""
        keys: list[str] = []
        for part in self.key_parts():
            if not part.startswith("env:"):
                keys.append(part)
                continue
            var = part[4:].strip()
            value = os.environ.get(var)
            if value is None:
                raise ConfigError(
                    f"Provider {self.id!r} takes a key from the environment variable "
                    f"{var}, which is not set. Set it (e.g. in a .env file or with "
                    f"%env {var}=...) or store the key itself."
                )
            keys += [k.strip() for k in value.split(",") if k.strip()]
        for key in keys:
            register_secret(key)
        return keys

    @property
    def key_hint(self) -> str:
        """What may be shown of the key: env var names as written, literal keys masked."""
        parts = self.key_parts()
        if not parts:
            return "(no key)"
        hints = [p if p.startswith("env:") else mask_key(p) for p in parts]
        if all(not p.startswith("env:") for p in parts) and len(parts) > 1:
            return f"{hints[0]} (+{len(parts) - 1} more)"
        return ", ".join(hints)

    @property
    def shareable_key(self) -> str:
        """`api_key` with its literal keys removed: only `env:` references may be shared."""
        return ",".join(p for p in self.key_parts() if p.startswith("env:"))

    def model_ids(self) -> list[str]:
        return [m.id for m in self.models]


class GatewayKey(BaseModel):
    """A named gateway key, one per client; usage is attributed to `name`."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    name: str = Field(min_length=1, max_length=64)
    key: str = Field(min_length=1, repr=False)
    created: str | None = Field(default=None, description="When it was issued (ISO 8601, UTC).")

    @field_validator("key")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        return _check_gateway_key(value)


class ModelGroup(BaseModel):
    """One name for an ordered pool of `provider:model` members."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    id: str = Field(description="What clients write as `model`, or in the path.")
    models: list[str] = Field(min_length=1, description="Members, as provider-id:model-id.")
    strategy: GroupStrategy = "fallback"

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        return check_id(value)


class ServerSettings(BaseModel):
    """Where the gateway listens and the key clients must present."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    host: str = DEFAULT_HOST
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    api_key: str | None = Field(default=None, repr=False)
    keys: list[GatewayKey] = Field(default_factory=list, repr=False)
    allowed_hosts: list[str] = Field(
        default_factory=list, description="Host header values accepted besides the bound address."
    )
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    upstream_read_timeout: float = Field(
        default=300.0, gt=0, description="Seconds to wait for the next byte from an upstream."
    )
    upstream_connections: int = Field(
        default=UPSTREAM_CONNECTIONS,
        ge=1,
        description="Open connections to one provider at most, per gateway process: a bound "
        "on sockets, set well above what a local gateway serves at once (a held stream holds "
        "one); beyond it, requests wait up to 10 s for a connection. A provider's "
        "max_concurrency is the way to limit its load.",
    )

    @field_validator("api_key")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        return None if value is None else _check_gateway_key(value)


def _check_gateway_key(key: str) -> str:
    problem = gateway_key_problem(key)
    if problem is not None:
        raise ValueError(f"{problem}; {HOW_TO_MAKE_KEY}")
    return key


class Config(BaseModel):
    """The whole config file."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    version: Literal[1] = 1
    providers: list[Provider] = Field(default_factory=list)
    default_model: str | None = None
    groups: list[ModelGroup] = Field(default_factory=list)
    server: ServerSettings = Field(default_factory=ServerSettings)

    @model_validator(mode="after")
    def _unique_ids(self) -> Config:
        seen: set[str] = set()
        for provider in self.providers:
            if provider.id in seen:
                raise ValueError(f"provider id {provider.id!r} is used twice")
            seen.add(provider.id)
        for group in self.groups:
            if group.id in seen:
                raise ValueError(f"group id {group.id!r} is used twice or names a provider")
            seen.add(group.id)
        return self

    def provider(self, provider_id: str) -> Provider:
        for provider in self.providers:
            if provider.id == provider_id:
                return provider
        raise UnknownProviderError(provider_id, [p.id for p in self.providers])


def split_model_ref(ref: str) -> tuple[str, str]:
    """Split `provider-id:model-id` at the first colon; model ids may contain colons."""
    provider_id, sep, model = ref.partition(":")
    if not sep or not provider_id or not model:
        raise ConfigError(
            f"Model {ref!r} should be written as provider-id:model-id, e.g. my-openai:gpt-4o-mini."
        )
    return provider_id, model
