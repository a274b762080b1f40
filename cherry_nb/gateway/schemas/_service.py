"""The gateway's own bodies: models, health, the service index and error envelopes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ...config.models import GroupStrategy, ProviderType
from ._anthropic import AnthropicError
from ._base import _Model


class Model(_Model):
    """A model of an enabled provider, or a model group (`owned_by` "cherry-nb-group")."""

    id: str = Field(
        description="provider-id:model-id (or a group id), what to send as `model`.",
        examples=["my-openai:gpt-4o-mini"],
    )
    object: Literal["model"] = Field(description='"model"')
    name: str = Field(description="The model's display name.")
    created: int = Field(description="Unix time of creation (0 when unknown).")
    owned_by: str = Field(
        description='The provider\'s display name; "cherry-nb-group" for a model group.'
    )
    provider: str | None = Field(description="The provider's id (null for a group).")
    provider_name: str | None = Field(description="The provider's display name.")
    provider_type: ProviderType | None = Field(description="The wire protocol the provider speaks.")
    provider_model_id: str | None = Field(description="The model's id at the provider.")
    members: list[str] | None = Field(
        default=None, description="A group's members, provider-id:model-id, in its order."
    )
    strategy: GroupStrategy | None = Field(
        default=None, description="A group's strategy: fallback, round-robin or least-busy."
    )


class ModelList(_Model):
    """The models of the enabled providers."""

    object: Literal["list"] = Field(description='"list"')
    data: list[Model] = Field(description="The models.")


class Health(_Model):
    """The gateway is up."""

    status: str = Field(description='"ok"', examples=["ok"])
    version: str = Field(description="cherry-nb's version.")
    uptime_seconds: float = Field(description="Seconds since the gateway started.")


class ServiceInfo(_Model):
    """What this server is and where its endpoints are."""

    name: str = Field(description="The service's name.")
    version: str = Field(description="cherry-nb's version.")
    endpoints: dict[str, str] = Field(
        description='Endpoint name -> "METHOD /path", e.g. "models": "GET /v1/models".'
    )


class OpenAIError(_Model):
    """What went wrong."""

    message: str = Field(description="A readable explanation.")
    type: str = Field(
        description="invalid_request_error, authentication_error, permission_error, "
        "not_found_error, rate_limit_error, api_error, ..."
    )
    param: str | None = Field(None, description="The offending field, e.g. messages.0.content.")
    code: str | int | None = Field(None, description="A machine-readable code, if any.")


class OpenAIErrorEnvelope(_Model):
    """An error, in OpenAI's envelope (OpenAI routes)."""

    error: OpenAIError = Field(description="The error.")


class AnthropicErrorEnvelope(_Model):
    """An error, in Anthropic's envelope (Messages routes)."""

    type: Literal["error"] = Field(description='"error"')
    error: AnthropicError = Field(description="The error.")
