"""Client authentication: `Authorization: Bearer KEY` or `X-API-Key: KEY`.

Missing or malformed credentials are 401 (say who you are), a wrong key 403
(you are not allowed). Comparison is constant-time. When both headers are
sent, both must carry the gateway key: a client with conflicting credentials
is misconfigured and should hear so rather than have one silently win.

Credentials are checked before a request's body is read, so every refusal also
closes the connection: it cannot carry another request.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from .._exceptions import RequestError

_CLOSE = {"connection": "close"}
_CHALLENGE = {"www-authenticate": 'Bearer realm="cherry-nb"', **_CLOSE}


def authenticate(
    authorization: Sequence[str], api_key_headers: Sequence[str], expected: str
) -> None:
    """Raise RequestError(401/403) unless the request carries the gateway key."""
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
    wanted = expected.encode()
    # Evaluate every comparison (no short circuit) so timing reveals nothing.
    results = [hmac.compare_digest(token.encode(), wanted) for token in presented]
    if not all(results):
        raise RequestError(
            "The gateway key is wrong.",
            status=403,
            error_type="permission_error",
            headers=dict(_CLOSE),
        )
