"""The httpx boundary: sending with retry, and mapping failures to cherry_nb errors.

httpx exceptions and upstream error statuses are turned into the ProviderError
tree here, once (as httpx maps httpcore's). Retries happen only before a
response is handed to the caller, so no byte has reached anyone yet. Which key
each attempt uses, and what an error means for it, is key_health's.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .._exceptions import (
    AuthenticationError,
    BadResponseError,
    ConfigError,
    ModelNotFoundError,
    NetworkError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    UpstreamError,
    UpstreamTimeoutError,
)
from .._secrets import display_url, redact_logs
from ..wire._text import readable_text
from .client import UpstreamClient
from .key_health import KeyRing, verdict

log = logging.getLogger(__name__)

# httpx logs each request's URL at INFO, user:password@ included: mask it there too.
redact_logs("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.proxy")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
# An upstream decides how much it sends; what is held of one reply is bounded. An error
# body's first 64 KB say all a message needs; a whole reply beyond 32 MB is refused.
MAX_ERROR_BODY = 64 * 1024
MAX_REPLY_BYTES = 32 * 1024 * 1024
# Phrases with which upstreams say "no such model" in a 400/404 body.
_MODEL_MISSING_PHRASES = (
    "not found",
    "does not exist",
    "not exist",
    "invalid model",
    "unknown model",
    "not supported",
    "no such model",
    "try pulling",
)
_MODEL_MISSING_CODES = frozenset({"model_not_found", "DeploymentNotFound"})
_BAD_KEY_CODES = frozenset({"API_KEY_INVALID", "invalid_api_key", "authentication_error"})

ErrorParser = Callable[[int, bytes], tuple[str, "str | None"]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: attempts in all, exponential backoff, and the longest
    Retry-After worth waiting for (longer ones fail at once with RateLimitError).
    An immediate switch to another healthy key spends no attempt; `attempts=1`
    allows none."""

    attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to give up."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        base = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return base * (0.5 + random.random() / 2)


NO_RETRY = RetryPolicy(attempts=1)
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=300.0, write=30.0, pool=10.0)


@dataclass(slots=True)
class RequestContext:
    """What error messages need to say where a failure happened."""

    provider_id: str
    upstream_type: str
    model: str | None = None


async def send(
    client: UpstreamClient,
    build: Callable[[str], httpx.Request],
    context: RequestContext,
    parse_error: ErrorParser,
    policy: RetryPolicy,
    keys: KeyRing | None = None,
) -> httpx.Response:
    """Send with retries and return an open, successful response (status < 400).

    `build(key)` makes each attempt's request with the key `keys` chose. An error
    that is the key's (429, 5xx, 401/403, out of quota) is recorded against it, and
    when another key is healthy the retry goes to it at once; only when none is
    does a retryable status wait out the backoff. The caller owns the returned
    response and must close it (`aclose`).
    """
    ring = keys if keys is not None else KeyRing(context.provider_id, "", [])
    attempt = 1
    switches = 0  # at most one immediate switch per key, whatever the Retry-Afters say
    while True:
        key = ring.choose()
        request = build(key)
        try:
            response = await client.open(request)
        except httpx.HTTPError as exc:
            error = map_httpx_error(exc, context, request.url)
            wait = policy.delay(attempt, None) if _retryable_exception(exc) else None
            if wait is None:
                raise error from exc
            await _backoff(wait)
            attempt += 1
            continue
        if 300 <= response.status_code < 400:
            await _read_error_body(response)
            raise _redirected(response, context)
        if response.status_code < 400:
            if _is_html(response):
                body = await _read_error_body(response)
                page = readable_text(body.decode("utf-8", "replace")) or "(empty)"
                shown = shown_url(request.url)
                raise BadResponseError(
                    f"{context.provider_id} answered {shown} with an "
                    "HTML page instead of JSON: the address is probably wrong, or a login or "
                    f"proxy page is in the way. The page says: {page}",
                    provider_id=context.provider_id,
                    status=response.status_code,
                    url=shown,
                )
            ring.succeeded(key)
            return response
        body = await _read_error_body(response)
        retry_after = _retry_after(response.headers)
        error = map_status_error(response, body, context, parse_error, retry_after)
        outcome = verdict(error, retry_after)
        ring.failed(key, outcome)
        switch = outcome.counts and policy.attempts > 1 and switches < len(ring)
        if switch and ring.healthy_other_than(key):
            switches += 1
            log.info(
                "%s: key %d of %d %s (%s); retrying at once with another key",
                context.provider_id,
                ring.position(key),
                len(ring),
                outcome.reason,
                response.status_code,
            )
            continue  # another key, now: no backoff, and no attempt spent
        if response.status_code in RETRY_STATUSES:
            wait = policy.delay(attempt, retry_after)
            if wait is not None:
                await _backoff(wait)
                attempt += 1
                continue
        raise error


def _redirected(response: httpx.Response, context: RequestContext) -> BadResponseError:
    """An upstream redirect is a misconfigured address, not something to relay (a client
    would get a 3xx with nowhere to go) or to follow (a POST's body and key with it)."""
    url = response.request.url.copy_with(query=None)
    location = response.headers.get("location")
    if location:
        target = shown_url(url.join(location))
        where = f"to {target}: use that address as the base URL if it is the API's new home"
    else:
        where = "without saying where (no Location header)"
    return BadResponseError(
        f"{context.provider_id} answered {shown_url(url)} with a redirect "
        f"({response.status_code}) {where}.",
        provider_id=context.provider_id,
        status=response.status_code,
        url=shown_url(url),
    )


async def _backoff(seconds: float) -> None:
    """The wait before retrying when no other key can take the request (one place,
    so its use can be counted)."""
    await asyncio.sleep(seconds)


async def _read_error_body(response: httpx.Response) -> bytes:
    """The first MAX_ERROR_BODY bytes of the body (the rest is never read); closes it."""
    try:
        body, _ = await read_capped(response, MAX_ERROR_BODY)
        return body
    except httpx.HTTPError:
        return b""
    finally:
        await response.aclose()


async def read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of an open response's body, and whether there was more.

    Reading stops at the limit, so an endless or huge body costs at most `limit`
    bytes of memory; the caller closes the response.
    """
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        if size + len(chunk) > limit:
            chunks.append(chunk[: limit - size])
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


def _retryable_exception(exc: httpx.HTTPError) -> bool:
    # Connect failures never reached the upstream's model; read timeouts may have.
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _is_html(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/html")


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def map_status_error(
    response: httpx.Response,
    body: bytes,
    context: RequestContext,
    parse_error: ErrorParser,
    retry_after: float | None = None,
) -> ProviderError:
    """The ProviderError subclass an upstream error status means."""
    status = response.status_code
    url = shown_url(response.request.url)
    message, code = parse_error(status, body)
    where = f"{context.provider_id} ({context.upstream_type}) answered {status}"
    kwargs: dict[str, Any] = {
        "provider_id": context.provider_id,
        "status": status,
        "upstream_type": code,
        "url": url,
    }
    if status in (401, 403) or (code in _BAD_KEY_CODES) or "api key not valid" in message.lower():
        return AuthenticationError(f"{where}: {message}", **kwargs)
    if status == 429:
        return RateLimitError(f"{where}: {message}", retry_after=retry_after, **kwargs)
    if _is_html(response):
        # A web server's page, not the API: the route does not exist there.
        if status == 404:
            return NotFoundError(f"{where} for {url} with an HTML page: {message}", **kwargs)
        return BadResponseError(f"{where} with an HTML page: {message}", **kwargs)
    if context.model is not None and _is_model_missing(status, message, code, context.model):
        return ModelNotFoundError(f"{where}: {message}", model=context.model, **kwargs)
    if status == 404:
        return NotFoundError(f"{where} for {url}: {message}", **kwargs)
    return UpstreamError(f"{where}: {message}", **kwargs)


def _is_model_missing(status: int, message: str, code: str | None, model: str) -> bool:
    if status not in (400, 404):
        return False
    if code in _MODEL_MISSING_CODES:
        return True
    lowered = message.lower()
    if model.lower() not in lowered:
        return False
    return status == 404 or any(phrase in lowered for phrase in _MODEL_MISSING_PHRASES)


def map_httpx_error(
    exc: httpx.HTTPError, context: RequestContext, url: httpx.URL | str | None = None
) -> ProviderError | ConfigError:
    """The cherry_nb error for an httpx transport failure, with a plain-words cause."""
    target = shown_url(url) if url is not None else "the upstream"
    kwargs: dict[str, Any] = {"provider_id": context.provider_id, "url": target}
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ConfigError(f"The address {target} of {context.provider_id} is not usable: {detail}")
    if isinstance(exc, httpx.TimeoutException):
        phase = "connect to" if isinstance(exc, httpx.ConnectTimeout) else "answer from"
        return UpstreamTimeoutError(f"Timed out waiting to {phase} {target}.", **kwargs)
    if isinstance(exc, httpx.ConnectError):
        return NetworkError(f"Could not connect to {target}: {_connect_cause(exc)}", **kwargs)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return NetworkError(
            f"The connection to {target} was dropped before the reply was complete ({detail}).",
            **kwargs,
        )
    return NetworkError(f"Request to {target} failed: {detail}", **kwargs)


def shown_url(url: httpx.URL | str) -> str:
    """An upstream URL as error messages show it: no query (it may hold a key), no
    user:password@."""
    try:
        return display_url(str(httpx.URL(str(url)).copy_with(query=None)))
    except httpx.InvalidURL:
        return display_url(str(url).partition("?")[0])


def _connect_cause(exc: BaseException) -> str:
    """Plain words for why a connection failed, from the root of the exception chain
    (httpx's own message is often just "All connection attempts failed")."""
    root: BaseException | None = exc
    seen: list[BaseException] = []
    while root is not None and root not in seen:
        seen.append(root)
        root = root.__cause__ or root.__context__
    causes = seen[::-1]
    if any(isinstance(e, ConnectionRefusedError) for e in causes):
        return "connection refused (nothing is listening on that port)."
    if any(isinstance(e, socket.gaierror) for e in causes):
        return "the host name could not be resolved (DNS)."
    if any(isinstance(e, ssl.SSLError) for e in causes):
        return f"the TLS handshake failed ({causes[0]})."
    return str(causes[0]) or type(causes[0]).__name__
