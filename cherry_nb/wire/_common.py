"""What the format packages share beyond the neutral types: made-up ids. Pure."""

from __future__ import annotations

import uuid


def new_id(prefix: str) -> str:
    """`prefix` + 24 random hex digits: an id for a reply, stream or call that has none."""
    return prefix + uuid.uuid4().hex[:24]
