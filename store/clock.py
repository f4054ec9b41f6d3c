"""The one clock of postdesk: the current instant, timezone-aware, in UTC.

Every package takes a `clock` argument defaulting to `utcnow`, so tests fake time by passing
their own; nothing else calls `datetime.now`.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    """Now, in UTC (aware)."""
    return datetime.now(UTC)
