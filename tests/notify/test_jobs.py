"""Sweeps driven by the clock: reminders, escalation, waiting reminders, auto-close, catch-up."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta

from sqlalchemy import func, select

from notify.jobs import SweepReport, sweep
from notify.options import SweepOptions
from store.db import Database
from store.outbox import list_rows
from store.records import OutboxRecord
from store.schema import AuditEventRow, OutboxRow
from store.subscribers import set_muted
from store.tickets import get_ticket, update_ticket
from tests.notify.conftest import T0, make_ticket

OPTIONS = SweepOptions(
    message_id_domain="desk.example",
    digest_to=("ops@desk.example", "lead@desk.example"),
    team_address="team@desk.example",
)


def _rows(db: Database) -> list[OutboxRecord]:
    with db.transaction() as s:
        return list_rows(s)


def _kinds(db: Database) -> list[tuple[str, str]]:
    return sorted((r.kind, r.recipient) for r in _rows(db))


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_first_response_reminder_at_75_percent_once(db: Database) -> None:
    make_ticket(db)  # urgent: first response 1 h, resolution 8 h
    assert sweep(db, _at(44), OPTIONS).mails == 0
    report = sweep(db, _at(45), OPTIONS)
    assert (report.reminders, report.mails) == (1, 1)
    [row] = _rows(db)
    assert (row.kind, row.recipient) == ("sla_reminder", "team@desk.example")
    assert row.context["target"] == "first_response"
    assert row.context["percent"] == 75
    assert row.context["due"] == "2024-06-03T10:00:00Z"
    assert row.context["ticket"]["number"] == "SUP-1001"
    assert row.automatic and re.fullmatch(
        r"<postdesk\.[0-9a-f]{20}@desk\.example>", row.message_id or ""
    )
    assert sweep(db, _at(50), OPTIONS).mails == 0
    assert len(_rows(db)) == 1


def test_reminder_goes_to_the_assignee(sqlite_db: Database) -> None:
    make_ticket(sqlite_db, assignee="bob@desk.example")
    sweep(sqlite_db, _at(46), OPTIONS)
    assert _kinds(sqlite_db) == [("sla_reminder", "bob@desk.example")]


def test_escalation_at_breach(db: Database) -> None:
    ticket = make_ticket(db)
    sweep(db, _at(45), OPTIONS)
    report = sweep(db, _at(60), OPTIONS)
    assert report.escalations == 1
    with db.transaction() as s:
        assert get_ticket(s, ticket.id).status == "escalated"
        audit = s.scalars(select(AuditEventRow).where(AuditEventRow.action == "escalated")).all()
        assert len(audit) == 1
        assert audit[0].actor == "scheduler"
        assert audit[0].details["previous_status"] == "open"
    assert _kinds(db) == [
        ("escalation_customer", "alice@customer.example"),
        ("escalation_notice", "lead@desk.example"),
        ("escalation_notice", "ops@desk.example"),
        ("sla_reminder", "team@desk.example"),
    ]
    notice = next(r for r in _rows(db) if r.kind == "escalation_notice")
    assert notice.context["ticket"]["status"] == "escalated"
    assert sweep(db, _at(61), OPTIONS) == SweepReport(ran=True, tickets_seen=1)
    assert len(_rows(db)) == 4


def test_resolution_reminder_after_a_first_response(sqlite_db: Database) -> None:
    make_ticket(sqlite_db, first_responded_at=_at(10), status="in_progress", at=_at(10))
    assert sweep(sqlite_db, _at(60 * 6 - 1), OPTIONS).mails == 0
    sweep(sqlite_db, _at(60 * 6), OPTIONS)
    [row] = _rows(sqlite_db)
    assert (row.kind, row.context["target"]) == ("sla_reminder", "resolution")


def test_catch_up_after_an_outage(db: Database) -> None:
    late = make_ticket(db)
    soon = make_ticket(db, created=_at(30))
    assert sweep(db, _at(10), OPTIONS).mails == 0
    # the daemon was down from 00:10 to 09:00: everything that fell due is done once
    report = sweep(db, _at(9 * 60 + 5), OPTIONS)
    assert report.escalations == 4  # both targets of both tickets breached
    rows = _rows(db)
    for ticket in (late, soon):
        mine = sorted(
            (r.kind, r.context["target"], r.recipient) for r in rows if r.ticket_id == ticket.id
        )
        assert mine == [
            ("escalation_customer", "first_response", "alice@customer.example"),
            ("escalation_notice", "first_response", "lead@desk.example"),
            ("escalation_notice", "first_response", "ops@desk.example"),
            ("escalation_notice", "resolution", "lead@desk.example"),
            ("escalation_notice", "resolution", "ops@desk.example"),
        ]
    assert sweep(db, _at(9 * 60 + 6), OPTIONS).mails == 0


def test_catch_up_sends_a_missed_reminder(sqlite_db: Database) -> None:
    make_ticket(sqlite_db)
    sweep(sqlite_db, _at(10), OPTIONS)
    assert sweep(sqlite_db, _at(55), OPTIONS).reminders == 1


def test_waiting_on_customer_reminder_then_close(db: Database) -> None:
    ticket = make_ticket(db, status="waiting_on_customer", first_responded_at=T0, at=T0)
    assert sweep(db, T0 + timedelta(days=3, seconds=-1), OPTIONS).mails == 0
    assert sweep(db, T0 + timedelta(days=3), OPTIONS).waiting_reminders == 1
    assert sweep(db, T0 + timedelta(days=4), OPTIONS).mails == 0
    [reminder] = _rows(db)
    assert reminder.kind == "waiting_reminder"
    assert reminder.context["close_at"] == "2024-06-13T09:00:00Z"
    report = sweep(db, T0 + timedelta(days=10), OPTIONS)
    assert report.closed == 1
    with db.transaction() as s:
        assert get_ticket(s, ticket.id).status == "closed"
        actions = s.scalars(select(AuditEventRow.action)).all()
        assert "auto_closed" in actions
    notice = next(r for r in _rows(db) if r.kind == "auto_close_notice")
    assert notice.context["previous_status"] == "waiting_on_customer"
    assert notice.context["closed_after_days"] == 10
    assert sweep(db, T0 + timedelta(days=11), OPTIONS).mails == 0


def test_long_outage_closes_without_a_late_reminder(sqlite_db: Database) -> None:
    make_ticket(sqlite_db, status="waiting_on_customer", first_responded_at=T0, at=T0)
    report = sweep(sqlite_db, T0 + timedelta(days=30), OPTIONS)
    assert (report.closed, report.waiting_reminders) == (1, 0)
    assert [r.kind for r in _rows(sqlite_db)] == ["auto_close_notice"]


def test_resolved_tickets_close_after_n_days(db: Database) -> None:
    ticket = make_ticket(db, status="resolved", first_responded_at=T0, at=T0)
    assert sweep(db, T0 + timedelta(days=7, seconds=-1), OPTIONS).closed == 0
    assert sweep(db, T0 + timedelta(days=7), OPTIONS).closed == 1
    with db.transaction() as s:
        assert get_ticket(s, ticket.id).status == "closed"
    [row] = _rows(db)
    assert (row.kind, row.context["previous_status"]) == ("auto_close_notice", "resolved")


def test_muted_requester_gets_no_mail_but_the_ticket_escalates(sqlite_db: Database) -> None:
    ticket = make_ticket(sqlite_db)
    with sqlite_db.transaction() as s:
        assert set_muted(s, ticket.id, "alice@customer.example", True)
    sweep(sqlite_db, _at(61), OPTIONS)
    assert "escalation_customer" not in [r.kind for r in _rows(sqlite_db)]
    with sqlite_db.transaction() as s:
        assert get_ticket(s, ticket.id).status == "escalated"


def test_paused_while_waiting_and_stopped_when_resolved(sqlite_db: Database) -> None:
    waiting = make_ticket(sqlite_db, status="waiting_on_customer", first_responded_at=T0, at=T0)
    sweep(sqlite_db, _at(9 * 60), OPTIONS)
    assert _rows(sqlite_db) == []
    with sqlite_db.transaction() as s:
        update_ticket(s, waiting.id, _at(9 * 60), status="open")
    sweep(sqlite_db, _at(9 * 60 + 1), OPTIONS)
    assert {r.kind for r in _rows(sqlite_db)} == {"escalation_notice", "escalation_customer"}


def test_two_concurrent_sweeps_produce_each_notice_once(db: Database) -> None:
    tickets = [make_ticket(db, requester=f"user{i}@customer.example") for i in range(8)]
    databases = [Database(db.url), Database(db.url)]
    start = threading.Barrier(2)
    reports: list[SweepReport] = []

    def run(database: Database) -> None:
        start.wait(timeout=30)
        reports.append(sweep(database, _at(61), OPTIONS))

    threads = [threading.Thread(target=run, args=(d,)) for d in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for database in databases:
        database.dispose()
    assert len(reports) == 2
    assert sum(r.escalations for r in reports) == len(tickets)
    with db.transaction() as s:
        total = s.scalar(select(func.count()).select_from(OutboxRow))
        keys = s.scalars(select(OutboxRow.dedupe_key)).all()
    assert total == len(tickets) * 3 == len(set(keys))


def test_a_sweep_skips_while_another_daemon_holds_the_lock(pg_db: Database) -> None:
    from notify.jobs import SWEEP_LOCK
    from store.sweeps import lock_sweep

    make_ticket(pg_db)
    other = Database(pg_db.url)
    try:
        with pg_db.transaction() as s:
            assert lock_sweep(s, SWEEP_LOCK, wait=False)
            assert sweep(other, _at(61), OPTIONS) == SweepReport(ran=False)
        assert sweep(other, _at(61), OPTIONS).escalations == 1
    finally:
        other.dispose()
