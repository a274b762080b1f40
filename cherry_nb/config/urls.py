"""Base-URL normalisation and the URLs built on it: one path for every source.

Users paste whatever their provider's docs show: a bare host, a `/v1` base, the
full `/chat/completions` endpoint, an Azure deployment URL with its query string;
or they write the config file by hand. `normalize_base_url` turns any of these
into the base the provider's kind expects, the way Cherry Studio does, and says
in plain sentences what it changed. It is applied at use (`provider_address`,
what the adapters call) as well as when the registry saves, and is idempotent,
so an address means the same thing whatever its source. A trailing `#` opts
out: the address is used as typed.

The rules themselves (what a kind appends, trims and builds) are data in
`kinds.py`. Notes and errors never repeat the address itself: it may carry
credentials (`user:pass@host`, `?key=...`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlsplit

from .._exceptions import ConfigError
from .kinds import DEFAULT_AZURE_API_VERSION, KINDS, ProviderKind, get_kind

if TYPE_CHECKING:
    from .models import Provider

__all__ = [
    "DEFAULT_AZURE_API_VERSION",
    "Address",
    "NormalizedURL",
    "address",
    "endpoint_preview",
    "is_exact",
    "normalize_base_url",
    "provider_address",
    "strip_exact_marker",
]

EXACT_MARKER = "#"
# Where the Azure preset's address needs the user's own resource name; refused as a host.
PLACEHOLDER_RESOURCE = "YOUR-RESOURCE"

# A version path segment such as /v1, /v4, /v1beta, /v2alpha1.
_VERSION = r"v\d+(?:beta|alpha)?\d*"
_VERSION_SEGMENT = re.compile(rf"(?:^|/){_VERSION}(?=/|$)", re.IGNORECASE)
_REPEATED_VERSION = re.compile(rf"/({_VERSION})(?:/\1)+(?=/|$)")

# Endpoint paths people paste after the base (whatever the kind), longest first so
# that /chat/completions wins over /completions.
_ENDPOINT_SUFFIXES = (
    "/messages/count_tokens",
    "/chat/completions",
    "/completions",
    "/responses",
    "/embeddings",
    "/messages",
    "/models",
)


@dataclass(frozen=True)
class NormalizedURL:
    """The base URL to use, and one sentence for the user per change made.

    `api_version` and `deployment` are what a pasted Azure deployment endpoint
    contained, so callers can offer them as the provider's api_version and model.
    """

    url: str
    notes: tuple[str, ...] = ()
    api_version: str | None = None
    deployment: str | None = None


@dataclass(frozen=True)
class Address:
    """Where a provider's requests go: the effective base and every URL built on it.

    `base` has no `#` marker; `notes` say how it differs from what was typed.
    """

    kind: ProviderKind
    base: str
    notes: tuple[str, ...] = ()
    api_version: str | None = None

    def _build(self, template: str, model: str) -> str:
        path = template.replace("{model}", quote(model, safe="")).replace(
            "{api_version}", self.api_version or ""
        )
        return self.base + path

    def chat_url(self, model: str = "MODEL", *, stream: bool = True) -> str:
        endpoints = self.kind.endpoints_for(self.base)
        return self._build(endpoints.chat_stream if stream else endpoints.chat, model)

    def models_url(self) -> str:
        return self._build(self.kind.endpoints_for(self.base).models, "")

    def count_tokens_url(self, model: str = "MODEL") -> str | None:
        template = self.kind.endpoints_for(self.base).count_tokens
        return None if template is None else self._build(template, model)

    def embeddings_url(self, model: str = "MODEL") -> str | None:
        template = self.kind.endpoints_for(self.base).embeddings
        return None if template is None else self._build(template, model)


def address(base_url: str, provider_type: str, api_version: str | None = None) -> Address:
    """The effective address for what was typed as `base_url` for a `provider_type`.

    An api version given explicitly wins over one found in the address, which wins
    over the kind's default. ConfigError for an address that is not usable.
    """
    kind = get_kind(provider_type)
    normalized = normalize_base_url(base_url, provider_type)
    version = None
    if kind.api_version_param is not None:
        version = (api_version or "").strip() or normalized.api_version or kind.default_api_version
    return Address(kind, strip_exact_marker(normalized.url), normalized.notes, version)


def provider_address(provider: Provider) -> Address:
    """Where `provider`'s requests go, whatever the source of its base_url."""
    return address(provider.base_url, provider.type, provider.api_version)


def normalize_base_url(url: str, provider_type: str) -> NormalizedURL:
    """Reduce what the user typed to the base URL the `provider_type` adapter expects.

    Raises ConfigError (with what to fix) for anything that is not an http(s) address.
    """
    kind = get_kind(provider_type)
    if not isinstance(url, str):
        raise ConfigError("The base URL must be text, e.g. https://api.openai.com/v1.")
    notes: list[str] = []
    text = url.strip()
    if text != url:
        notes.append("Removed the spaces around the address.")
    if text.endswith(EXACT_MARKER):
        _check_address(text[: -len(EXACT_MARKER)])
        notes.extend(_exact_warnings(text, kind))
        return NormalizedURL(text, tuple(notes))

    parts = _check_address(text)
    if parts.fragment:
        notes.append(
            "Dropped the '#...' part: a # only means something as the very last character "
            "(use the address exactly as given)."
        )
    api_version = _query_notes(parts.query, kind, notes)

    path = parts.path
    if path.endswith("/"):
        path = path.rstrip("/")
        notes.append("Dropped the trailing /.")
    collapsed = re.sub(r"(?<!:)/{2,}", "/", path)  # keep a proxied https://... intact
    if collapsed != path:
        path = collapsed
        notes.append("Collapsed the doubled / in the path.")

    path, deployment = _reduce_endpoint(path, kind, api_version, notes)
    if kind.api_version_param and api_version and not deployment:
        notes.append(
            f"Found {kind.api_version_param} {api_version} in the address; it belongs in the "
            "provider's api_version setting, not in the base URL."
        )

    repeated = _REPEATED_VERSION.search(path)
    if repeated:
        version = repeated.group(1)
        path = _REPEATED_VERSION.sub(r"/\1", path)
        notes.append(f"Collapsed the repeated /{version}/{version} into /{version}.")

    path = _apply_kind_rules(path, kind, notes)
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
    provider_type: str,
    model: str = "MODEL",
    api_version: str | None = None,
) -> str:
    """The (streamed) chat request URL the adapter will call, to show next to the address."""
    return address(base_url, provider_type, api_version).chat_url(model, stream=True)


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


def _query_notes(query: str, kind: ProviderKind, notes: list[str]) -> str | None:
    """Drop the query string (telling the user); return an api version found in it."""
    if not query:
        return None
    api_version = None
    others = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if kind.api_version_param and name.lower() == kind.api_version_param:
            api_version = value.strip() or None
        else:
            others.append(name.lower())
    if any(name in ("key", "api_key", "api-key", "apikey") for name in others):
        notes.append(
            "Removed the key from the address (?key=...): put it in the API key field; "
            "cherry_nb sends it in a header."
        )
    elif others or not api_version and kind.api_version_param:
        notes.append(
            "Dropped the query string (?...): cherry_nb adds the query parameters "
            "each request needs itself."
        )
    return api_version


def _reduce_endpoint(
    path: str, kind: ProviderKind, api_version: str | None, notes: list[str]
) -> tuple[str, str | None]:
    """Cut a pasted full endpoint back to its base; return the path and any model offered."""
    pasted = kind.model_endpoint
    match = re.search(pasted.pattern, path) if pasted else None
    if pasted and match:
        path = path[: match.start()]
        note = f"You pasted {pasted.what}; cherry_nb adds {_added(kind, path)} itself."
        deployment = None
        if pasted.offers_model:
            deployment = unquote(match.group("model"))
            found = f"model {deployment!r} (use it as the model id)"
            if api_version:
                found += f" and {kind.api_version_param} {api_version} (the provider's api_version)"
            note += f" Found {found}."
        notes.append(note)
        return path, deployment
    for suffix in _ENDPOINT_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            note = (
                f"You pasted the full endpoint (...{suffix}); "
                f"cherry_nb adds {_added(kind, path)} itself."
            )
            notes.append(note + _other_format_hint(suffix, kind))
            break
    return path, None


def _apply_kind_rules(path: str, kind: ProviderKind, notes: list[str]) -> str:
    """Make the version part of the path what the kind's adapter expects."""
    if kind.append_version and not _VERSION_SEGMENT.search(path):
        notes.append(
            f"Added {kind.append_version}, as {kind.label} servers expect (end the address "
            "with # to use it exactly as given)."
        )
        return path + kind.append_version
    for rule in kind.trim:
        match = re.search(rule.pattern, path)
        if match:
            notes.append(rule.note.format(found=match.group(0)))
            return path[: match.start()]
    return path


def _exact_warnings(text: str, kind: ProviderKind) -> list[str]:
    """Point out a `#` address that will still get the endpoint appended twice."""
    base = strip_exact_marker(text)
    path = urlsplit(base).path
    is_endpoint = any(path.endswith(suffix) for suffix in _ENDPOINT_SUFFIXES)
    pasted = kind.model_endpoint
    if is_endpoint or (pasted is not None and re.search(pasted.pattern, path)):
        added = _added(kind, base)
        return [
            "Kept exactly as given (#). Note that cherry_nb still appends "
            f"{added} to it, so this address should stop before the endpoint."
        ]
    return []


def _added(kind: ProviderKind, base: str) -> str:
    """What the adapter appends to `base` for a chat request, as told in notes."""
    return kind.endpoints_for(base).chat_stream.replace("{model}", "MODEL").split("?")[0]


def _other_format_hint(suffix: str, kind: ProviderKind) -> str:
    """Point to the kind whose endpoint a pasted `suffix` is, when it speaks another format
    (`.../messages` pasted for an OpenAI-type provider is Anthropic's)."""
    for other in KINDS.values():
        if other.wire_format == kind.wire_format:
            continue
        paths = (other.endpoints.chat, other.endpoints.count_tokens or "")
        if any(path.split("?")[0].endswith(suffix) for path in paths):
            return (
                f" {suffix} is the {other.label} format: if this server speaks it, "
                f"choose type {other.id}."
            )
    return ""
