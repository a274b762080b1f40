"""What a client's request must pass before anything goes upstream.

A JSON object body that is valid Unicode, a body the route's wire format accepts (its
`parse_request`, the one validator), and a model id that names an enabled provider and
is safe to put in a URL or a header.
"""

from __future__ import annotations

import re
from typing import Any

from .._exceptions import RequestError, UnknownProviderError, WireFormatError
from .._json import LoneSurrogateError, loads
from ..config.models import PROVIDER_ID_RE, Config, Provider
from ..wire.formats import CheckedRequest, WireFormat

# Model ids travel into URLs and headers upstream: no control characters there.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
# Gemini and Azure (deployments) upstreams take the model id as a URL path segment: one
# that holds a separator or a dot segment would address another endpoint of the upstream
# with the provider's key (`../../v1/files?`), so such ids are refused.
_URL_BOUND = frozenset({"gemini", "azure-openai"})
_NOT_A_SEGMENT = re.compile(r"[/\\?#%]|^\.{1,2}$")


class _NotJSONError(ValueError):
    """A constant Python's json module accepts but JSON does not have."""


def _no_constants(name: str) -> Any:
    raise _NotJSONError(name)


def json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a RequestError (400) saying what is wrong."""
    try:
        # JSON between systems is UTF-8 (RFC 8259), which allows ignoring a byte order
        # mark; json.loads(bytes) would also guess UTF-16 and UTF-32.
        body = loads(raw.decode("utf-8-sig"), parse_constant=_no_constants, unicode=True)
    except RecursionError:
        raise RequestError("The request body is nested too deeply.", status=400) from None
    except UnicodeDecodeError:
        raise RequestError("The request body is not UTF-8.", status=400) from None
    except _NotJSONError as exc:
        raise RequestError(
            f"The request body is not valid JSON: {exc} is not a JSON value.", status=400
        ) from None
    except LoneSurrogateError:
        # Valid JSON syntax, but it cannot be encoded to send upstream.
        raise RequestError(
            "The request body is not valid Unicode: it escapes half of a surrogate pair "
            "(\\ud800-\\udfff) without the other half.",
            status=400,
        ) from None
    except ValueError:
        raise RequestError("The request body is not valid JSON.", status=400) from None
    if not isinstance(body, dict):
        raise RequestError("The request body must be a JSON object.", status=400)
    return body


def check_request(wire: WireFormat, body: dict[str, Any]) -> CheckedRequest:
    """The body validated by its wire format; a complaint is a 400 naming the field."""
    try:
        return wire.check_request(body)
    except WireFormatError as error:
        raise RequestError(error.message, status=400, param=error.param) from None
    except RecursionError:
        raise RequestError("The request body is nested too deeply.", status=400) from None


def resolve_model(
    config: Config, model: Any, provider_id: str | None = None
) -> tuple[Provider, str]:
    """The enabled provider and bare model id a request's `model` names.

    `provider-id:model-id` splits at the first colon. A bare id is looked up
    among the enabled providers' configured models, so clients that send fixed
    model names (Claude Code's background model) still land somewhere sensible.
    """
    if not isinstance(model, str) or not model.strip():
        raise RequestError("`model` is required, as provider-id:model-id.", param="model")
    if _UNSAFE.search(model):
        raise RequestError("`model` contains control characters.", param="model")
    if provider_id is not None:
        if not PROVIDER_ID_RE.match(provider_id):
            # Not echoed: it may be anything, of any length (`..`, NUL, 100 kB).
            raise RequestError(
                "Invalid provider id in the path: provider ids are up to 64 letters, "
                "digits, '.', '_' or '-'.",
                status=404,
                error_type="not_found_error",
            )
        prefix = f"{provider_id}:"
        bare = model[len(prefix) :] if model.startswith(prefix) else model
        return _url_safe(_enabled(config, provider_id), bare)
    provider_part, sep, bare = model.partition(":")
    if sep and any(p.id == provider_part for p in config.providers):
        return _url_safe(_enabled(config, provider_part), bare)
    for provider in config.providers:
        if provider.enabled and model in provider.model_ids():
            return _url_safe(provider, model)
    available = [f"{p.id}:{m}" for p in config.providers if p.enabled for m in p.model_ids()]
    raise RequestError(
        f"Model {model!r} not found. Write it as provider-id:model-id; available: "
        f"{', '.join(available[:20]) or 'none (add a provider first)'}.",
        status=404,
        error_type="not_found_error",
        param="model",
    )


def _url_safe(provider: Provider, model: str) -> tuple[Provider, str]:
    if provider.type in _URL_BOUND and _NOT_A_SEGMENT.search(model):
        raise RequestError(
            f"`model` {model!r} cannot be sent to {provider.id}: {provider.type} upstreams "
            "take the model id in the URL, so it must not contain / \\ ? # % or be . or ..",
            param="model",
        )
    return provider, model


def _enabled(config: Config, provider_id: str) -> Provider:
    try:
        provider = config.provider(provider_id)
    except UnknownProviderError as error:
        raise RequestError(error.message, status=404, error_type="not_found_error") from None
    if not provider.enabled:
        raise RequestError(
            f"Provider {provider_id!r} is disabled. Enable it in `%chat setup` or the config.",
            status=404,
            error_type="not_found_error",
        )
    return provider
