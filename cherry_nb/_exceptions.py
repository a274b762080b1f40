"""One exception hierarchy for cherry_nb.

    CherryError
    ├── ConfigError                 the config file or a value in it is unusable
    │   ├── ConfigFileError         the file is corrupt or invalid (it is kept in place)
    │   ├── UnknownProviderError    no provider with that id
    │   ├── ProviderDisabledError   the provider exists but is switched off
    │   └── ModelRefError           a model reference names no single model
    │       ├── UnknownModelError   no enabled provider lists that model
    │       └── AmbiguousModelError several enabled providers list it
    ├── WireFormatError             a request or response breaks its wire format
    │   └── UntranslatableError     valid, but not expressible in another format
    ├── RequestError                the gateway refuses a client's request (auth, routing)
    ├── LedgerError                 the usage ledger cannot be read, or a usage query is invalid
    └── ProviderError               talking to an upstream failed
        ├── AuthenticationError     401/403: the key is wrong, revoked or missing
        ├── NotFoundError           404 on the route (wrong address)
        │   └── ModelNotFoundError  the upstream does not know the model
        ├── RateLimitError          429
        ├── UpstreamError           any other error status, with the upstream's message
        ├── BadResponseError        HTML or other non-protocol bytes instead of JSON
        └── NetworkError            DNS, refused, TLS, dropped connection
            └── UpstreamTimeoutError  connect or read timeout

Messages never contain API keys: every message passes through `redact`.
"""

from __future__ import annotations

from ._secrets import redact


class CherryError(Exception):
    """Root of every error cherry_nb raises on purpose."""

    def __init__(self, message: str) -> None:
        self.message = redact(message)
        super().__init__(self.message)


class ConfigError(CherryError):
    """The configuration is unusable; the message names file, provider and field."""


class ConfigFileError(ConfigError):
    """The config file at `path` is corrupt or invalid; it was left where it is."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class UnknownProviderError(ConfigError, LookupError):
    """No provider with the requested id is configured; `suggestions` are close ids."""

    def __init__(
        self,
        provider_id: str,
        available: list[str],
        suggestions: list[str] | None = None,
        *,
        detail: str = "",
    ) -> None:
        listed = ", ".join(available) if available else "none configured"
        hint = f" Did you mean {_either(suggestions)}?" if suggestions else ""
        super().__init__(
            f"No provider with id {provider_id!r} (available: {listed}).{hint}"
            + (f" {detail}" if detail else "")
        )
        self.provider_id = provider_id
        self.available = available
        self.suggestions = list(suggestions or [])


class ProviderDisabledError(ConfigError):
    """The provider is configured but disabled."""

    def __init__(self, provider_id: str) -> None:
        super().__init__(
            f"Provider {provider_id!r} is disabled. Enable it in `%chat setup` or the config."
        )
        self.provider_id = provider_id


class ModelRefError(ConfigError, LookupError):
    """A model reference does not name exactly one model.

    `candidates` are `provider-id:model-id` refs that match it (ambiguity);
    `suggestions` are near-misses ("did you mean"), for a notebook to render.
    """

    def __init__(
        self,
        message: str,
        *,
        ref: str,
        candidates: list[str] | None = None,
        suggestions: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.ref = ref
        self.candidates = list(candidates or [])
        self.suggestions = list(suggestions or [])


class UnknownModelError(ModelRefError):
    """No enabled provider lists the bare model id (and it names no provider)."""


class AmbiguousModelError(ModelRefError):
    """Several enabled providers list the bare model id; `candidates` says which."""


def _either(options: list[str]) -> str:
    quoted = [repr(option) for option in options]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


class WireFormatError(CherryError, ValueError):
    """A body does not follow its wire format; `param` names the offending field."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class LedgerError(CherryError):
    """The usage ledger cannot be opened or read, or a usage query is malformed."""


class UntranslatableError(WireFormatError):
    """A request valid in its own format that another format cannot express (a server
    tool, a file id, an unknown block type): refused only when translating, since a
    same-format upstream takes the body as it is."""


class RequestError(CherryError):
    """The gateway refuses a client's request; `status` is the HTTP status to answer."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        error_type: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.param = param
        self.headers = headers or {}


class ProviderError(CherryError):
    """An upstream call failed; `status` is the upstream HTTP status when there was one."""

    def __init__(
        self,
        message: str,
        *,
        provider_id: str | None = None,
        status: int | None = None,
        upstream_type: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.provider_id = provider_id
        self.status = status
        self.upstream_type = upstream_type
        self.url = url


class AuthenticationError(ProviderError):
    """The upstream rejected the key (401/403)."""


class NotFoundError(ProviderError):
    """The upstream answered 404 for the route: usually a wrong base URL."""


class ModelNotFoundError(NotFoundError):
    """The upstream does not know the requested model."""

    def __init__(self, message: str, *, model: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.model = model


class RateLimitError(ProviderError):
    """The upstream answered 429; `retry_after` is in seconds when it said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class UpstreamError(ProviderError):
    """The upstream answered an error status not covered by a narrower class."""


class BadResponseError(ProviderError):
    """The upstream answered something that is not its protocol (e.g. an HTML page)."""


class NetworkError(ProviderError):
    """The connection could not be made or was lost."""


class UpstreamTimeoutError(NetworkError):
    """The upstream did not connect or answer in time."""
