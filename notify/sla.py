"""SLA clocks as pure functions: due times on calendar time or on business hours.

`due_at(start, duration, calendar)` adds `duration` of SLA time to `start`: plain calendar
time when `calendar` is None, otherwise only the business hours of a `BusinessCalendar`
("mon-fri 09:00-17:00" in a timezone, minus holidays). `make_due_calculator` gives the
ingest pipeline its `(priority, received_at) -> (first_response_due, resolution_due)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notify.errors import ScheduleProblem

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_CALENDAR_DAYS = 366 * 5  # bound for every day-by-day walk
_SPEC = re.compile(r"^\s*([a-z]{3})-([a-z]{3})\s+(\d\d):(\d\d)-(\d\d):(\d\d)\s*$")


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Working days (0 = Monday), daily opening hours and holidays, in one timezone."""

    weekdays: frozenset[int]
    opens: time
    closes: time
    timezone: str
    holidays: frozenset[date]

    def windows(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC opening window of a local `day`, or None when closed all day."""
        if day.weekday() not in self.weekdays or day in self.holidays:
            return None
        zone = ZoneInfo(self.timezone)
        start = datetime.combine(day, self.opens, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day, self.closes, tzinfo=zone).astimezone(UTC)
        return start, end


def parse_business_hours(
    spec: str, timezone: str = "UTC", holidays: Iterable[str] = ()
) -> BusinessCalendar:
    """A calendar from `"mon-fri 09:00-17:00"`, an IANA timezone and ISO holiday dates."""
    match = _SPEC.match(spec.lower())
    if not match or match[1] not in DAYS or match[2] not in DAYS:
        raise ScheduleProblem(
            f'sla.business_hours: expected like "mon-fri 09:00-17:00", got {spec!r}'
        )
    first, last = DAYS.index(match[1]), DAYS.index(match[2])
    days = {(first + i) % 7 for i in range((last - first) % 7 + 1)}
    try:
        opens = time(int(match[3]), int(match[4]))
        closes = time(int(match[5]), int(match[6]))
    except ValueError as exc:
        raise ScheduleProblem(f"sla.business_hours: bad time in {spec!r}: {exc}") from exc
    if closes <= opens:
        raise ScheduleProblem(f"sla.business_hours: closing time must follow opening in {spec!r}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleProblem(f"sla.timezone: unknown timezone {timezone!r}") from exc
    try:
        off = frozenset(date.fromisoformat(h) for h in holidays)
    except ValueError as exc:
        raise ScheduleProblem(f"sla.holidays: dates must be ISO like 2025-12-25 ({exc})") from exc
    return BusinessCalendar(frozenset(days), opens, closes, timezone, off)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def due_at(
    start: datetime, duration: timedelta, calendar: BusinessCalendar | None = None
) -> datetime:
    """`start` plus `duration` of SLA time (UTC, aware)."""
    start = _aware(start).astimezone(UTC)
    if calendar is None or duration <= timedelta(0):
        return start + duration
    remaining = duration
    day = start.astimezone(ZoneInfo(calendar.timezone)).date()
    for _ in range(MAX_CALENDAR_DAYS):
        window = calendar.windows(day)
        if window is not None and start < window[1]:
            begin = max(start, window[0])
            available = window[1] - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        day += timedelta(days=1)
    raise ScheduleProblem(
        f"sla.business_hours: no business time within {MAX_CALENDAR_DAYS} days of {start}"
    )


def business_time_between(
    start: datetime, end: datetime, calendar: BusinessCalendar | None = None
) -> timedelta:
    """How much SLA time lies between two instants (zero when `end` is not after `start`)."""
    start, end = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
    if end <= start:
        return timedelta(0)
    if calendar is None:
        return end - start
    total = timedelta(0)
    zone = ZoneInfo(calendar.timezone)
    day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    for _ in range(MAX_CALENDAR_DAYS):
        if day > last:
            break
        window = calendar.windows(day)
        if window is not None:
            begin, finish = max(start, window[0]), min(end, window[1])
            if finish > begin:
                total += finish - begin
        day += timedelta(days=1)
    return total


def reminder_time(
    start: datetime, due: datetime, fraction: float, calendar: BusinessCalendar | None = None
) -> datetime:
    """The instant at which `fraction` of the SLA time between start and due has passed."""
    return due_at(start, business_time_between(start, due, calendar) * fraction, calendar)


class _Targets(Protocol):
    @property
    def first_response(self) -> timedelta: ...
    @property
    def resolution(self) -> timedelta: ...


DueCalculator = Callable[[str, datetime], tuple[datetime, datetime]]


def make_due_calculator(options: SlaOptions) -> DueCalculator:
    """`(priority, received_at) -> (first_response_due, resolution_due)` for the pipeline."""
    targets: Mapping[str, _Targets] = dict(options.targets)
    calendar = options.calendar

    def calculate(priority: str, received_at: datetime) -> tuple[datetime, datetime]:
        target = targets.get(priority)
        if target is None:
            raise ValueError(
                f"no SLA target for priority {priority!r} (known: {', '.join(targets)})"
            )
        return (
            due_at(received_at, target.first_response, calendar),
            due_at(received_at, target.resolution, calendar),
        )

    return calculate


def describe(duration: timedelta) -> str:
    """Human text for a target: "1 hour", "4 hours", "1 day", "90 minutes"."""
    seconds = int(duration.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


@dataclass(frozen=True, slots=True)
class SlaTarget:
    """First-response and resolution targets of one priority."""

    first_response: timedelta
    resolution: timedelta


DEFAULT_TARGETS: Mapping[str, SlaTarget] = {
    "urgent": SlaTarget(timedelta(hours=1), timedelta(hours=8)),
    "high": SlaTarget(timedelta(hours=4), timedelta(days=2)),
    "medium": SlaTarget(timedelta(hours=24), timedelta(days=5)),
    "low": SlaTarget(timedelta(hours=48), timedelta(days=10)),
}


@dataclass(frozen=True, slots=True)
class SlaOptions:
    """SLA targets per priority, the reminder fraction, and the clock they count on.

    `calendar=None` counts calendar time; a `BusinessCalendar` (see
    `notify.sla.parse_business_hours`) counts business hours only.
    """

    targets: Mapping[str, SlaTarget] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    reminder_at: float = 0.75
    calendar: BusinessCalendar | None = None
