"""SLA clocks: calendar time by default, business hours with a timezone and holidays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notify.errors import ScheduleProblem
from notify.sla import (
    SlaOptions,
    SlaTarget,
    business_time_between,
    describe,
    due_at,
    make_due_calculator,
    parse_business_hours,
    reminder_time,
)

MON_9 = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)  # Monday
OFFICE = parse_business_hours("mon-fri 09:00-17:00", "UTC", ["2024-06-05"])


def test_calendar_time_is_plain_addition() -> None:
    assert due_at(MON_9, timedelta(hours=30)) == MON_9 + timedelta(hours=30)
    naive = datetime(2024, 6, 3, 9, 0)
    assert due_at(naive, timedelta(hours=1)) == MON_9 + timedelta(hours=1)


def test_default_targets_per_priority() -> None:
    calc = make_due_calculator(SlaOptions())
    assert calc("urgent", MON_9) == (MON_9 + timedelta(hours=1), MON_9 + timedelta(hours=8))
    assert calc("low", MON_9) == (MON_9 + timedelta(hours=48), MON_9 + timedelta(days=10))
    with pytest.raises(ValueError, match="no SLA target for priority 'critical'"):
        calc("critical", MON_9)


def test_business_hours_skip_nights_weekends_and_holidays() -> None:
    # Friday 16:00 + 2h of business time -> Monday 10:00
    friday = datetime(2024, 6, 7, 16, 0, tzinfo=UTC)
    assert due_at(friday, timedelta(hours=2), OFFICE) == datetime(2024, 6, 10, 10, 0, tzinfo=UTC)
    # Tuesday 16:00 + 4h: Wednesday is a holiday -> Thursday 12:00
    tuesday = datetime(2024, 6, 4, 16, 0, tzinfo=UTC)
    assert due_at(tuesday, timedelta(hours=4), OFFICE) == datetime(2024, 6, 6, 12, 0, tzinfo=UTC)
    # Saturday night counts from Monday's opening
    saturday = datetime(2024, 6, 8, 23, 0, tzinfo=UTC)
    assert due_at(saturday, timedelta(hours=1), OFFICE) == datetime(2024, 6, 10, 10, 0, tzinfo=UTC)
    # exactly at closing: the remaining time lands on closing, not next morning
    assert due_at(MON_9, timedelta(hours=8), OFFICE) == datetime(2024, 6, 3, 17, 0, tzinfo=UTC)


def test_business_hours_in_a_timezone_across_dst() -> None:
    berlin = parse_business_hours("mon-fri 09:00-17:00", "Europe/Berlin")
    # Friday 15:00 Berlin (13:00 UTC, summer) + 3h -> Monday 10:00 Berlin
    start = datetime(2024, 3, 29, 14, 0, tzinfo=UTC)  # 15:00 CET; DST starts Sunday 31 March
    assert due_at(start, timedelta(hours=3), berlin) == datetime(2024, 4, 1, 8, 0, tzinfo=UTC)


def test_wrapping_weekday_range_and_reminder_fraction() -> None:
    sun_thu = parse_business_hours("sun-thu 08:00-16:00")
    assert sun_thu.weekdays == frozenset({6, 0, 1, 2, 3})
    due = due_at(MON_9, timedelta(hours=8), OFFICE)
    assert reminder_time(MON_9, due, 0.75, OFFICE) == MON_9 + timedelta(hours=6)
    assert reminder_time(MON_9, MON_9 + timedelta(hours=4), 0.75) == MON_9 + timedelta(hours=3)
    friday = datetime(2024, 6, 7, 15, 0, tzinfo=UTC)
    late = due_at(friday, timedelta(hours=4), OFFICE)
    assert business_time_between(friday, late, OFFICE) == timedelta(hours=4)
    assert reminder_time(friday, late, 0.75, OFFICE) == datetime(2024, 6, 10, 10, 0, tzinfo=UTC)


def test_calculator_counts_business_hours_when_configured() -> None:
    options = SlaOptions(
        targets={"high": SlaTarget(timedelta(hours=4), timedelta(days=2))}, calendar=OFFICE
    )
    friday = datetime(2024, 6, 7, 15, 0, tzinfo=UTC)
    first, resolution = make_due_calculator(options)("high", friday)
    assert first == datetime(2024, 6, 10, 11, 0, tzinfo=UTC)
    # "2 days" is 48 hours of business time: 2 h Friday, 40 h the next week, 6 h Monday after
    assert resolution == datetime(2024, 6, 17, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "zone", "holidays", "message"),
    [
        ("weekdays 9-5", "UTC", [], "sla.business_hours"),
        ("mon-fri 17:00-09:00", "UTC", [], "closing time"),
        ("mon-fri 09:00-17:00", "Mars/Olympus", [], "sla.timezone"),
        ("mon-fri 09:00-17:00", "UTC", ["25.12.2024"], "sla.holidays"),
    ],
)
def test_bad_calendar_settings_name_the_key(
    spec: str, zone: str, holidays: list[str], message: str
) -> None:
    with pytest.raises(ScheduleProblem, match=message):
        parse_business_hours(spec, zone, holidays)


def test_describe_targets_for_people() -> None:
    assert describe(timedelta(hours=1)) == "1 hour"
    assert describe(timedelta(hours=4)) == "4 hours"
    assert describe(timedelta(days=1)) == "1 day"
    assert describe(timedelta(minutes=90)) == "90 minutes"
