"""Provider and group ids: what they may look like, and which ones the gateway keeps.

An id is what users type in `provider-id:model-id` and what the gateway takes as
the first path segment of `/{provider-id}/v1/...`. So an id may not be a path
segment the gateway serves at its top level: `/api-docs/v1/messages/count_tokens`
must never name a provider (issue 12, defect 1). The gateway's gate reads
`RESERVED_IDS` from here, so the list has one home.
"""

from __future__ import annotations

import re

# \Z, not $: "$" also matches before a trailing newline.
PROVIDER_ID_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")

#: Top-level path segments of the gateway (compared case-insensitively), and the
#: names of routes it may serve there.
RESERVED_IDS: frozenset[str] = frozenset(
    {
        "api-docs",
        "api-docs.json",
        "docs",
        "health",
        "metrics",
        "openapi.json",
        "static",
        "favicon.ico",
        "robots.txt",
        "usage",
        "admin",
    }
)
# Any API version segment (v1, v2, v1beta): `/v1/...` is the gateway's own prefix.
_VERSION_ID = re.compile(r"\Av\d+(?:beta|alpha)?\d*\Z", re.IGNORECASE)


def is_reserved_id(value: str) -> bool:
    """Whether `value` is a path segment the gateway serves itself."""
    return value.lower() in RESERVED_IDS or bool(_VERSION_ID.match(value))


def check_id(value: str) -> str:
    """`value` if it can be a provider or group id; ValueError saying why not (pydantic
    turns it into a field error)."""
    if not isinstance(value, str) or not PROVIDER_ID_RE.match(value):
        raise ValueError(
            "must be a readable slug of letters, digits, '.', '_' or '-' "
            "(no spaces, ':' or '/'), at most 64 characters"
        )
    if is_reserved_id(value):
        raise ValueError(
            f"{value!r} is reserved: the gateway serves /{value.lower()} itself, so it cannot "
            f"name a provider or group; choose another id, e.g. {value.lower()}-1"
        )
    return value
