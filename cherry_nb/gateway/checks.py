"""What a client's request must pass before anything goes upstream.

A JSON object body that is valid Unicode, a body the route's wire format accepts (its
`parse_request`, the one validator), and a model id that names an enabled provider and
is safe to put in a URL or a header (resolved by the config layer's resolver; here only
mapped to the caller's terms).
"""

from __future__ import annotations

import re
from typing import Any

from .._exceptions import (
    AmbiguousModelError,
    ModelRefError,
    ProviderDisabledError,
    RequestError,
    UnknownModelError,
    UnknownProviderError,
    WireFormatError,
)
from .._json import LoneSurrogateError, loads
from ..config.ids import PROVIDER_ID_RE
from ..config.kinds import get_kind
from ..config.models import Config, Provider
from ..config.resolve import Resolution
from ..config.resolve import resolve_model as resolve_ref
from ..wire.formats import CheckedRequest, WireFormat

# Model ids travel into URLs and headers upstream: no control characters there.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
# Kinds that take the model id as a URL path segment (Gemini, Azure deployments): one
# that holds a separator or a dot segment would address another endpoint of the upstream
# with the provider's key (`../../v1/files?`), so such ids are refused.
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


def resolve_targets(config: Config, model: Any, provider_id: str | None = None) -> Resolution:
    """The enabled provider(s) and bare model id(s) a request's `model` names: one
    target, or a model group's members (chosen among by gateway/group_relay.py).

    The rules are the config layer's resolver's (`config/resolve.py`); this maps its
    errors to the gateway's: unknown or disabled 404, ambiguous 400. With a group id
    in the path, the body's `model` is not read beyond being present (the SDKs require
    one): write the group id there, or anything.
    """
    if not isinstance(model, str) or not model.strip():
        raise RequestError("`model` is required, as provider-id:model-id.", param="model")
    if _UNSAFE.search(model):
        raise RequestError("`model` contains control characters.", param="model")
    if provider_id is not None and not PROVIDER_ID_RE.match(provider_id):
        # Not echoed: it may be anything, of any length (`..`, NUL, 100 kB).
        raise RequestError(
            "Invalid provider id in the path: provider ids are up to 64 letters, "
            "digits, '.', '_' or '-'.",
            status=404,
            error_type="not_found_error",
        )
    try:
        resolution = resolve_ref(config, model, provider_id=provider_id)
    except AmbiguousModelError as error:
        raise RequestError(
            error.message + " (Or pool them in a model group: `cherry-nb groups add`.)",
            status=400,
            param="model",
        ) from None
    except (UnknownModelError, UnknownProviderError, ProviderDisabledError) as error:
        param = None if provider_id is not None else "model"
        raise RequestError(
            error.message, status=404, error_type="not_found_error", param=param
        ) from None
    except ModelRefError as error:
        raise RequestError(error.message, status=400, param="model") from None
    for target in resolution.targets:
        _url_safe(target.provider, target.model)
    return resolution


def resolve_model(
    config: Config, model: Any, provider_id: str | None = None
) -> tuple[Provider, str]:
    """The one provider and bare model id for a request that goes to a single model
    without falling over (token counts): a group's first member."""
    target = resolve_targets(config, model, provider_id).first
    return target.provider, target.model


def _url_safe(provider: Provider, model: str) -> tuple[Provider, str]:
    if get_kind(provider.type).model_in_path and _NOT_A_SEGMENT.search(model):
        raise RequestError(
            f"`model` {model!r} cannot be sent to {provider.id}: {provider.type} upstreams "
            "take the model id in the URL, so it must not contain / \\ ? # % or be . or ..",
            param="model",
        )
    return provider, model
