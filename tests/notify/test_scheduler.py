"""The scheduler: digests by cron with catch-up from job_runs, on demand and in the background."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger

from notify.digests import HeldSender, MailWaiting, QuarantinedMail
from notify.errors import ScheduleProblem
from notify.options import ScheduleOptions, SweepOptions
from notify.scheduler import NotifyScheduler, latest_fire_time
from store import sweeps
from store.db import Database
from store.inbound import NewMessage, record_message
from store.outbox import NewMail, enqueue, list_rows
from store.records import OutboxRecord
from store.tickets import set_flag
from tests.notify.conftest import T0, make_ticket

OPTIONS = SweepOptions(message_id_domain="desk.example", digest_to=("ops@desk.example",))
SCHEDULE = ScheduleOptions(digest_cron="0 * * * *", daily_digest_cron="0 7 * * *")


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _digests(db: Database) -> list[OutboxRecord]:
    with db.transaction() as s:
        return [r for r in list_rows(s) if r.kind in ("digest", "daily_digest")]


def _scheduler(db: Database, **kwargs: object) -> NotifyScheduler:
    return NotifyScheduler(db, OPTIONS, SCHEDULE, **kwargs)  # type: ignore[arg-type]


def test_latest_fire_time() -> None:
    hourly = CronTrigger.from_crontab("0 * * * *", timezone="UTC")
    assert latest_fire_time(hourly, _at(0), _at(3.5)) == _at(3)
    assert latest_fire_time(hourly, _at(3), _at(3.5)) is None
    assert latest_fire_time(hourly, _at(2.99), _at(3)) == _at(3)


def test_invalid_cron_names_the_key(sqlite_db: Database) -> None:
    with pytest.raises(ScheduleProblem, match=r"schedule\.daily_digest"):
        NotifyScheduler(sqlite_db, OPTIONS, ScheduleOptions(daily_digest_cron="61 * * * *"))


def test_digest_once_per_period_and_caught_up_after_downtime(db: Database) -> None:
    make_ticket(db)  # urgent, created 09:00, breached at 10:00
    scheduler = _scheduler(db)
    first = scheduler.run_due(_at(1) + timedelta(minutes=1))  # 10:01
    assert first.sweep.escalations == 1
    assert first.digests == {"digest": 1, "daily_digest": 0}
    [digest] = _digests(db)
    assert digest.context["period"] == "2024-06-03T10:00:00Z"
    assert [t["number"] for t in digest.context["escalated"]] == ["SUP-1001"]
    assert [t["number"] for t in digest.context["breached"]] == ["SUP-1001"]
    assert scheduler.run_due(_at(1.5)).digests == {"digest": 0, "daily_digest": 0}
    # down from 10:30 to 13:20: one digest for the newest missed hour, not three
    assert scheduler.run_digest("digest", _at(4) + timedelta(minutes=20)) == 1
    assert [d.context["period"] for d in _digests(db)] == [
        "2024-06-03T10:00:00Z",
        "2024-06-03T13:00:00Z",
    ]
    # the daily summary fell due at 07:00 the next day while the daemon was down
    later = scheduler.run_due(_at(24 + 2))
    assert later.digests == {"digest": 1, "daily_digest": 1}
    daily = next(d for d in _digests(db) if d.kind == "daily_digest")
    assert daily.context["period"] == "2024-06-04T07:00:00Z"
    with db.transaction() as s:
        assert sweeps.last_run(s, "daily_digest") == datetime(2024, 6, 4, 7, tzinfo=UTC)
    assert scheduler.run_due(_at(24 + 2)).digests == {"digest": 0, "daily_digest": 0}


def test_empty_escalation_digest_is_not_sent(sqlite_db: Database) -> None:
    scheduler = _scheduler(sqlite_db)
    assert scheduler.run_digest("digest", _at(0.5)) == 0  # first start records "now"
    assert scheduler.run_digest("digest", _at(1.5)) == 0
    assert _digests(sqlite_db) == []
    with sqlite_db.transaction() as s:
        assert sweeps.last_run(s, "digest") == _at(1)


def test_daily_digest_reports_everything_ops_needs(db: Database) -> None:
    exposed = make_ticket(db, priority="low", first_response=timedelta(hours=48))
    with db.transaction() as s:
        set_flag(s, exposed.id, "credential_exposed", T0)
        enqueue(
            s,
            NewMail(
                kind="confirmation",
                recipient="gone@x.example",
                context={},
                status="dead",
                last_error="550 5.1.1 no such user",
            ),
            now=T0,
            message_id_domain="desk.example",
        )
        record_message(
            s,
            NewMessage(
                dedupe_key="k1",
                message_id="<m1@flood.example>",
                sender="bot@flood.example",
                subject="spam",
                source="smtp",
                received_at=_at(-1),
                recorded_at=_at(-1),
                outcome="held",
                reason="flood",
            ),
        )
        sweeps.set_last_run(s, "daily_digest", _at(-3))
    scheduler = _scheduler(db, quarantined=lambda: 4)
    assert scheduler.run_digest("daily_digest", _at(0)) == 1  # 07:00 fired since 06:00
    [daily] = _digests(db)
    context = daily.context
    assert context["quarantined"] == 4
    assert context["dead_outbox_count"] == 1
    assert context["dead_outbox"][0]["last_error"] == "550 5.1.1 no such user"
    assert context["held_senders"] == [{"sender": "bot@flood.example", "count": 1}]
    assert [c["number"] for c in context["credential_exposures"]] == [exposed.number]
    assert context["status_counts"] == {"open": 1}


def test_background_scheduler_catches_up_on_start(sqlite_db: Database) -> None:
    make_ticket(sqlite_db)
    queued = threading.Event()
    scheduler = _scheduler(sqlite_db, on_mail_queued=queued.set, clock=lambda: _at(2))
    scheduler.start()
    try:
        assert queued.wait(timeout=30), "the catch-up run should queue the escalation"
    finally:
        scheduler.shutdown(wait=True)
    with sqlite_db.transaction() as s:
        kinds = {r.kind for r in list_rows(s)}
        assert sweeps.last_run(s, "sweep") == _at(2)
    assert {"escalation_notice", "escalation_customer"} <= kinds


def test_hourly_digest_is_sent_for_waiting_mail_dead_rows_and_exposures(db: Database) -> None:
    """No ticket near its SLA: the hourly digest still goes out while mail is held or
    quarantined, an outbox row is dead or a credential was exposed, and lists them."""
    held = HeldSender("bot@flood.example", 12, "address", _at(0.2))
    quarantined = QuarantinedMail("20240603090000-0123456789abcdef", "unparseable", _at(0))
    waiting = MailWaiting(held=(held,), quarantined=(quarantined,))
    scheduler = _scheduler(db, waiting=lambda: waiting)
    assert scheduler.run_digest("digest", _at(0.5)) == 1  # for 09:00
    [digest] = _digests(db)
    assert digest.context["held"] == [
        {
            "sender": "bot@flood.example",
            "count": 12,
            "scope": "address",
            "release_at": "2024-06-03T09:12:00Z",
        }
    ]
    assert digest.context["quarantined_count"] == 1
    assert digest.context["quarantined_mails"][0]["reason"] == "unparseable"

    quiet = _scheduler(db)  # nothing waits any more
    assert quiet.run_digest("digest", _at(1.5)) == 0

    exposed = make_ticket(db, priority="low", first_response=timedelta(hours=48))
    with db.transaction() as s:
        set_flag(s, exposed.id, "credential_exposed", _at(3.2))
    assert quiet.run_digest("digest", _at(4)) == 1  # 13:00, on time
    last = _digests(db)[-1]
    assert [c["number"] for c in last.context["credential_exposures"]] == [exposed.number]
    assert quiet.run_digest("digest", _at(5)) == 0, "an exposure is told once, not hourly"


def test_hourly_digest_is_sent_for_a_dead_outbox_row(sqlite_db: Database) -> None:
    with sqlite_db.transaction() as s:
        enqueue(
            s,
            NewMail(kind="confirmation", recipient="gone@x.example", context={}, status="dead"),
            now=T0,
            message_id_domain="desk.example",
        )
    assert _scheduler(sqlite_db).run_digest("digest", _at(0.5)) == 1
