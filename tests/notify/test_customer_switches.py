"""[notify] switches: no "escalated" mail and no "waiting for your reply" mail to customers
when they are turned off; staff are told and tickets close all the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from notify.jobs import sweep
from store.db import Database
from store.outbox import list_rows
from store.tickets import get_ticket
from tests.notify.conftest import T0, make_ticket
from tests.notify.test_jobs import OPTIONS

QUIET = replace(OPTIONS, customer_escalation_mail=False, customer_reminder_mail=False)


def _kinds(db: Database) -> list[str]:
    with db.transaction() as s:
        return sorted(r.kind for r in list_rows(s))


def test_no_customer_escalation_mail_when_switched_off(sqlite_db: Database) -> None:
    ticket = make_ticket(sqlite_db)
    report = sweep(sqlite_db, T0 + timedelta(minutes=60), QUIET)
    assert report.escalations == 1
    with sqlite_db.transaction() as s:
        assert get_ticket(s, ticket.id).status == "escalated"
    assert "escalation_customer" not in _kinds(sqlite_db)
    assert _kinds(sqlite_db).count("escalation_notice") == 2  # ops still hear of it


def test_no_waiting_reminder_when_switched_off_but_the_ticket_still_closes(
    sqlite_db: Database,
) -> None:
    ticket = make_ticket(sqlite_db, status="waiting_on_customer", first_responded_at=T0, at=T0)
    report = sweep(sqlite_db, T0 + timedelta(days=3), QUIET)
    assert (report.waiting_reminders, report.mails) == (0, 0)
    assert sweep(sqlite_db, T0 + timedelta(days=10), QUIET).closed == 1
    with sqlite_db.transaction() as s:
        assert get_ticket(s, ticket.id).status == "closed"
    assert _kinds(sqlite_db) == ["auto_close_notice"]


def test_both_are_on_by_default(sqlite_db: Database) -> None:
    make_ticket(sqlite_db)
    sweep(sqlite_db, T0 + timedelta(minutes=60), OPTIONS)
    assert "escalation_customer" in _kinds(sqlite_db)
