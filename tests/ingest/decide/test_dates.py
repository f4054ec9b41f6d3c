"""A backlog's received time: the Date header when believable, else the import time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingest.decide.dates import received_from_header

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_a_believable_date_is_kept() -> None:
    date = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
    assert received_from_header(date, NOW) == (date, None)


def test_missing_ancient_and_future_dates_fall_back_to_the_import() -> None:
    assert received_from_header(None, NOW)[0] == NOW
    assert received_from_header(datetime(1970, 1, 1, tzinfo=UTC), NOW)[0] == NOW
    future, note = received_from_header(NOW + timedelta(days=30), NOW)
    assert future == NOW and note is not None and "future" in note


def test_a_little_ahead_is_clamped() -> None:
    when, note = received_from_header(NOW + timedelta(minutes=5), NOW)
    assert when == NOW and note is not None and "clamped" in note
