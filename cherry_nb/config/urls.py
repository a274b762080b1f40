"""Base-URL normalisation: the one place that knows what provider URLs look like.

Users paste whatever their provider's docs show: a bare host, a `/v1` base, the
full `/chat/completions` endpoint, an Azure deployment URL with its query string.
`normalize_base_url` turns any of these into the base the adapters expect, the way
Cherry Studio does, and says in plain sentences what it changed so nothing happens
behind the user's back. A trailing `#` opts out: the address is stored as typed.

Notes and errors never repeat the address itself: it may carry credentials
(`user:pass@host`, `?key=...`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from .._exceptions import ConfigError
from .models import PROVIDER_TYPES, ProviderType

DEFAULT_AZURE_API_VERSION = "2024-10-21"
EXACT_MARKER = "#"
# Where the Azure preset's address needs the user's own resource name; refused as a host.
PLACEHOLDER_RESOURCE = "YOUR-RESOURCE"

# A version path segment such as /v1, /v4, /v1beta, /v2alpha1.
_VERSION = r"v\d+(?:beta|alpha)?\d*"
_VERSION_SEGMENT = re.compile(rf"(?:^|/){_VERSION}(?=/|$)", re.IGNORECASE)
_REPEATED_VERSION = re.compile(rf"/({_VERSION})(?:/\1)+(?=/|$)")
_AZURE_DEPLOYMENT = re.compile(r"/openai/deployments/([^/]+)(?:/.*)?$")
_GEMINI_MODEL = re.compile(r"/models/[^/]+$")
_GEMINI_VERSION = re.compile(r"/v1(?:beta|alpha)?$")

# Endpoint paths the adapters append themselves, longest first so that
# /chat/completions wins over /completions.
_ENDPOINT_SUFFIXES = (
    "/messages/count_tokens",
    "/chat/completions",
    "/completions",
    "/responses",
    "/embeddings",
    "/messages",
    "/models",
)

# What each adapter appends to the stored base for a chat request (for the notes).
_ADDED_BY_ADAPTER: dict[ProviderType, str] = {
    "openai": "/chat/completions",
    "openai-response": "/responses",
    "anthropic": "/v1/messages",
    "gemini": "/v1beta/models/MODEL:streamGenerateContent",
    "azure-openai": "/openai/deployments/MODEL/chat/completions",
}


@dataclass(frozen=True)
class NormalizedURL:
    """The base URL to store, and one sentence for the user per change made.

    `api_version` and `deployment` are what a pasted Azure deployment endpoint
    contained, so callers can offer them as the provider's api_version and model.
    """

    url: str
    notes: tuple[str, ...] = ()
    api_version: str | None = None
    deployment: str | None = None


def normalize_base_url(url: str, provider_type: ProviderType) -> NormalizedURL:
    """Reduce what the user typed to the base URL the `provider_type` adapter expects.

    Raises ConfigError (with what to fix) for anything that is not an http(s) address.
    """
    if provider_type not in PROVIDER_TYPES:
        raise ConfigError(
            f"Unknown provider type {provider_type!r}; use one of {', '.join(PROVIDER_TYPES)}."
        )
    if not isinstance(url, str):
        raise ConfigError("The base URL must be text, e.g. https://api.openai.com/v1.")
    notes: list[str] = []
    text = url.strip()
    if text != url:
        notes.append("Removed the spaces around the address.")
    if text.endswith(EXACT_MARKER):
        _check_address(text[: -len(EXACT_MARKER)])
        notes.extend(_exact_warnings(text, provider_type))
        return NormalizedURL(text, tuple(notes))

    parts = _check_address(text)
    if parts.fragment:
        notes.append(
            "Dropped the '#...' part: a # only means something as the very last character "
            "(use the address exactly as given)."
        )
    api_version = _query_notes(parts.query, provider_type, notes)

    path = parts.path
    if path.endswith("/"):
        path = path.rstrip("/")
        notes.append("Dropped the trailing /.")
    collapsed = re.sub(r"(?<!:)/{2,}", "/", path)  # keep a proxied https://... intact
    if collapsed != path:
        path = collapsed
        notes.append("Collapsed the doubled / in the path.")

    path, deployment = _reduce_endpoint(path, provider_type, api_version, notes)
    if provider_type == "azure-openai" and api_version and not deployment:
        notes.append(
            f"Found api-version {api_version} in the address; it belongs in the provider's "
            "api_version setting, not in the base URL."
        )

    repeated = _REPEATED_VERSION.search(path)
    if repeated:
        version = repeated.group(1)
        path = _REPEATED_VERSION.sub(r"/\1", path)
        notes.append(f"Collapsed the repeated /{version}/{version} into /{version}.")

    path = _apply_type_rule(path, provider_type, notes)
    base = f"{parts.scheme}://{parts.netloc}{path}"
    return NormalizedURL(base, tuple(notes), api_version=api_version, deployment=deployment)


def strip_exact_marker(base: str) -> str:
    """The address without its trailing `#` (and any `/` right before it).

    The `#` only switches normalisation off; the adapters still append their
    endpoint, and `https://host/api/#` must not become `https://host/api//chat...`.
    """
    if base.endswith(EXACT_MARKER):
        return base[: -len(EXACT_MARKER)].rstrip("/")
    return base


def is_exact(base: str) -> bool:
    """Whether the user asked for the address to be used exactly as given."""
    return base.strip().endswith(EXACT_MARKER)


def endpoint_preview(
    base_url: str,
    provider_type: ProviderType,
    model: str = "MODEL",
    api_version: str | None = None,
) -> str:
    """The chat request URL the adapters will call, to show next to the base URL field."""
    base = strip_exact_marker(base_url.strip())
    if provider_type == "openai":
        return f"{base}/chat/completions"
    if provider_type == "openai-response":
        return f"{base}/responses"
    if provider_type == "anthropic":
        return f"{base}/v1/messages"
    if provider_type == "gemini":
        return f"{base}/v1beta/models/{model}:streamGenerateContent?alt=sse"
    if provider_type == "azure-openai":
        if base.endswith("/openai/v1"):
            return f"{base}/chat/completions"
        version = api_version or DEFAULT_AZURE_API_VERSION
        return f"{base}/openai/deployments/{model}/chat/completions?api-version={version}"
    raise ConfigError(
        f"Unknown provider type {provider_type!r}; use one of {', '.join(PROVIDER_TYPES)}."
    )


# ---- helpers ------------------------------------------------------------------------


def _check_address(text: str) -> SplitResult:
    """Parse `text`, refusing anything that is not http(s)://host[:port]/path, and the
    Azure preset's placeholder host."""
    if not text:
        raise ConfigError(
            "The base URL is empty. Enter the server's address, e.g. "
            "https://api.openai.com/v1 or http://127.0.0.1:8000/v1."
        )
    if any(ch.isspace() for ch in text):
        raise ConfigError(
            "The base URL contains a space or line break; paste the address on its own."
        )
    if "://" not in text:
        raise ConfigError(
            "Add http:// or https:// at the start of the base URL (e.g. "
            "https://api.example.com/v1, or http://127.0.0.1:11434 for a local server); "
            "cherry_nb does not guess the scheme."
        )
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # e.g. an unbalanced [ in an IPv6 host
        raise ConfigError(f"The base URL cannot be parsed as an address ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = scheme if scheme.isalnum() and len(scheme) <= 10 else "that scheme"
        raise ConfigError(f"The base URL must start with http:// or https://, not {shown}://.")
    if parts.hostname in ("http", "https") and not parts.port:
        raise ConfigError("The base URL starts with http(s):// twice; paste the address once.")
    if not parts.hostname:
        raise ConfigError(
            f"The base URL has no host name after {scheme}://; write it as "
            f"{scheme}://HOST[:PORT][/PATH], e.g. {scheme}://127.0.0.1:8000/v1."
        )
    if PLACEHOLDER_RESOURCE.lower() in parts.hostname:
        raise ConfigError(
            f"The base URL still holds the placeholder {PLACEHOLDER_RESOURCE}: replace it "
            "with your Azure resource's name, as shown in the Azure portal under Keys and "
            "Endpoint (e.g. https://contoso.openai.azure.com)."
        )
    try:
        parts.port  # noqa: B018 - raises ValueError when the port is not a number
    except ValueError:
        raise ConfigError(
            "The port in the base URL is not a number from 0 to 65535 "
            "(write it as HOST:PORT, e.g. 127.0.0.1:8000)."
        ) from None
    return parts


def _query_notes(query: str, provider_type: ProviderType, notes: list[str]) -> str | None:
    """Drop the query string (telling the user); return an Azure api-version found in it."""
    if not query:
        return None
    api_version = None
    others = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if provider_type == "azure-openai" and name.lower() == "api-version":
            api_version = value.strip() or None
        else:
            others.append(name.lower())
    if any(name in ("key", "api_key", "api-key", "apikey") for name in others):
        notes.append(
            "Removed the key from the address (?key=...): put it in the API key field; "
            "cherry_nb sends it in a header."
        )
    elif others or not api_version and provider_type == "azure-openai":
        notes.append(
            "Dropped the query string (?...): cherry_nb adds the query parameters "
            "each request needs itself."
        )
    return api_version


def _reduce_endpoint(
    path: str, provider_type: ProviderType, api_version: str | None, notes: list[str]
) -> tuple[str, str | None]:
    """Cut a pasted full endpoint back to its base; return the path and any Azure deployment."""
    deployment = None
    if provider_type == "azure-openai":
        match = _AZURE_DEPLOYMENT.search(path)
        if match:
            deployment = unquote(match.group(1))
            path = path[: match.start()]
            found = f"deployment {deployment!r} (use it as the model id)"
            if api_version:
                found += f" and api-version {api_version} (the provider's api_version)"
            notes.append(
                "You pasted a deployment endpoint; cherry_nb keeps the resource address and "
                f"adds /openai/deployments/... itself. Found {found}."
            )
            return path, deployment
    if provider_type == "gemini":
        model_path = re.sub(r":\w+$", "", path)
        if model_path != path or _GEMINI_MODEL.search(path):
            match = _GEMINI_MODEL.search(model_path)
            if match:
                path = model_path[: match.start()]
                notes.append(
                    "You pasted a model's full endpoint; cherry_nb adds "
                    "/v1beta/models/MODEL:streamGenerateContent itself."
                )
                return path, None
    for suffix in _ENDPOINT_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            added = _ADDED_BY_ADAPTER[provider_type]
            note = f"You pasted the full endpoint (...{suffix}); cherry_nb adds {added} itself."
            if suffix.startswith("/messages") and provider_type != "anthropic":
                note += (
                    " /messages is the Anthropic format: if this server speaks it, "
                    "choose type anthropic."
                )
            notes.append(note)
            break
    return path, deployment


def _apply_type_rule(path: str, provider_type: ProviderType, notes: list[str]) -> str:
    """Make the version part of the path what the adapter of `provider_type` expects."""
    if provider_type in ("openai", "openai-response"):
        if not _VERSION_SEGMENT.search(path):
            notes.append(
                "Added /v1, as OpenAI-compatible servers expect (end the address with # "
                "to use it exactly as given)."
            )
            path += "/v1"
    elif provider_type == "anthropic":
        if path.endswith("/v1"):
            path = path[: -len("/v1")]
            notes.append("Removed the trailing /v1: cherry_nb adds /v1/messages itself.")
    elif provider_type == "gemini":
        match = _GEMINI_VERSION.search(path)
        if match:
            path = path[: match.start()]
            notes.append(
                f"Removed the trailing {match.group(0)}: cherry_nb adds /v1beta/models/... itself."
            )
    elif provider_type == "azure-openai":
        if path.endswith("/openai"):
            path = path[: -len("/openai")]
            notes.append(
                "Removed the trailing /openai: cherry_nb adds /openai/deployments/... itself "
                "(or use a base ending in /openai/v1 for Azure's v1 API)."
            )
    return path


def _exact_warnings(text: str, provider_type: ProviderType) -> list[str]:
    """Point out a `#` address that will still get the endpoint appended twice."""
    base = strip_exact_marker(text)
    path = urlsplit(base).path
    is_endpoint = any(path.endswith(suffix) for suffix in _ENDPOINT_SUFFIXES)
    if is_endpoint or (provider_type == "gemini" and re.search(r":\w+$", path)):
        added = endpoint_preview(text, provider_type)[len(base) :].split("?")[0]
        return [
            "Kept exactly as given (#). Note that cherry_nb still appends "
            f"{added} to it, so this address should stop before the endpoint."
        ]
    return []
