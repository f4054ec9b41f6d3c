"""Flood protection: a sender or sending domain over its rate is held, and ops is told once.

The counts come from the decision records themselves (every inbound message is one), so
nothing extra is stored and several daemons sharing a database agree. A held message
waits until its window has passed (`Hold.until`); then it is released and decided again,
in arrival order, at most the limit's count a window (`postdesk.held`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ingest.decide.notices import Notices
from ingest.model import Hold
from ingest.options import PipelineOptions, RateWindow
from store import inbound


def _window_text(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 and minutes >= 60 else f"{minutes}m"


def _bucket(now: datetime, window: timedelta) -> int:
    return int(now.timestamp() // max(1, int(window.total_seconds())))


def flood_check(
    session: Session, options: PipelineOptions, notices: Notices, sender: str, now: datetime
) -> tuple[str, Hold] | None:
    """The reason to hold this sender's message and its hold, or None when it is within the
    limits. `now` is when the message was received."""
    domain = sender.rpartition("@")[2]
    checks: list[tuple[str, str, RateWindow | None]] = [
        ("address", sender, options.sender_rate),
        ("domain", domain, options.domain_rate),
    ]
    for scope, who, limit in checks:
        if limit is None or not who:
            continue
        since = now - limit.window
        if scope == "address":
            count = inbound.count_since(session, since=since, sender=who)
        else:
            count = inbound.count_since(session, since=since, domain=who)
        if count >= limit.count:
            window = _window_text(limit.window)
            key = f"flood:{scope}:{who}:{_bucket(now, limit.window)}"
            notices.flood_held(who, scope, count, window, key)
            reason = (
                f"held: {scope} {who} sent {count} messages within {window} (limit {limit.count})"
            )
            return reason, Hold(scope, who, now + limit.window)
    return None
