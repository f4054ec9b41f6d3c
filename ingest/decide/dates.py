"""When an imported message was received: its Date header, when that is believable.

A backlog import dates tickets by their mail so that SLA clocks stand as they were. A Date
header can be missing, unreadable, decades old (a clock at zero: 1970) or in the future (a
sender's clock ahead); those fall back to the time of the import, and a date a little ahead
(a few minutes of clock skew) is clamped to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Mail dated before this is a broken clock (the Unix epoch, 1980 DOS dates), not a backlog.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# A Date at most this far past the import time is clock skew: clamped to the import time.
SKEW = timedelta(days=1)


def received_from_header(date: datetime | None, now: datetime) -> tuple[datetime, str | None]:
    """(received time, note) for a mail with Date `date` imported at `now`; the note says
    why the Date was not used as it stands (None when it was)."""
    if date is None:
        return now, "no readable Date header: dated at import"
    when = date if date.tzinfo else date.replace(tzinfo=UTC)
    if when < EARLIEST:
        return now, "Date header before 1990: dated at import"
    if when > now + SKEW:
        return now, "Date header in the future: dated at import"
    if when > now:
        return now, "Date header slightly ahead: clamped to the import time"
    return when, None
