"""Client authentication: `Authorization: Bearer KEY` or `X-API-Key: KEY`.

Missing or malformed credentials are 401 (say who you are), a wrong key 403
(you are not allowed). A client may present the main key (`server.api_key`, named
"default") or any named key of `server.keys`; the name of the one it presented is what
usage is attributed to. Every presented key is compared with every gateway key, through
fixed-length digests and without short circuit, so timing tells neither whether a key
was close nor which one matched. When both headers are
sent, both must carry the gateway key: a client with conflicting credentials
is misconfigured and should hear so rather than have one silently win.

Credentials are checked before a request's body is read, so every refusal also
closes the connection: it cannot carry another request.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

from .._exceptions import RequestError

DEFAULT_KEY_NAME = "default"

_CLOSE = {"connection": "close"}
_CHALLENGE = {"www-authenticate": 'Bearer realm="cherry-nb"', **_CLOSE}


class GatewayKeys:
    """The keys a gateway accepts, as (name, SHA-256 digest) pairs."""

    __slots__ = ("digests",)

    def __init__(self, keys: Iterable[tuple[str, str]]) -> None:
        self.digests = tuple((name, _digest(key)) for name, key in keys if key)

    def match(self, token: str) -> str | None:
        """The name of the key `token` is, or None; compares with every key."""
        presented = _digest(token)
        found: str | None = None
        for name, digest in self.digests:
            if hmac.compare_digest(presented, digest) and found is None:
                found = name
        return found


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def authenticate(
    authorization: Sequence[str], api_key_headers: Sequence[str], keys: GatewayKeys
) -> str:
    """The presented key's name; RequestError(401/403) unless it is a gateway key."""
    if len(authorization) > 1 or len(api_key_headers) > 1:
        raise RequestError(
            "Send the gateway key once: several Authorization or X-API-Key headers were sent.",
            status=401,
            error_type="authentication_error",
            headers=_CHALLENGE,
        )
    presented: list[str] = []
    if authorization:
        scheme, _, token = authorization[0].strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise RequestError(
                "Malformed Authorization header: expected 'Bearer <gateway key>'.",
                status=401,
                error_type="authentication_error",
                headers=_CHALLENGE,
            )
        presented.append(token)
    if api_key_headers:
        presented.append(api_key_headers[0].strip())
    if not presented or not all(presented):
        raise RequestError(
            "Missing gateway key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'. "
            "The key is shown by `%chat server status` or in the config's server.api_key.",
            status=401,
            error_type="authentication_error",
            headers=_CHALLENGE,
        )
    # Evaluate every comparison (no short circuit) so timing reveals nothing.
    names = [keys.match(token) for token in presented]
    if None in names or len(set(names)) != 1:
        raise RequestError(
            "The gateway key is wrong."
            if None in names
            else "Authorization and X-API-Key carry two different gateway keys: send one.",
            status=403,
            error_type="permission_error",
            headers=dict(_CLOSE),
        )
    name = names[0]
    assert name is not None
    return name
