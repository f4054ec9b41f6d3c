"""Queries for the time-driven sweeps: tickets due for SLA steps, reminders and auto-close,
digest figures, one-off step markers, job run times, and the lock that keeps sweeps single.

`lock_sweep` takes a transaction-level lock: on PostgreSQL an advisory lock
(`pg_try_advisory_xact_lock`, or the blocking form), released at commit; on SQLite the
transaction already holds the database write lock (BEGIN IMMEDIATE), so the first write
statement serialises sweeps.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from store.records import TicketRecord, utc
from store.schema import InboundMessageRow, JobRunRow, NoticeRow, TicketRow

ACTIVE_EXCLUDED = ("resolved", "closed")


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for `name`."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def lock_sweep(session: Session, name: str, *, wait: bool) -> bool:
    """Take the transaction-level lock `name`; False when `wait` is False and it is held."""
    if session.get_bind().dialect.name == "postgresql":
        if wait:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(name)})
            return True
        return bool(
            session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock_key(name)})
        )
    # SQLite: BEGIN IMMEDIATE took the write lock for this whole transaction.
    session.execute(select(JobRunRow.name).limit(1))
    return True


def active_tickets(session: Session) -> list[TicketRecord]:
    """Tickets that still run SLA clocks (not resolved, not closed), oldest first."""
    rows = session.scalars(
        select(TicketRow).where(TicketRow.status.not_in(ACTIVE_EXCLUDED)).order_by(TicketRow.id)
    )
    return [TicketRecord.from_row(r) for r in rows.unique()]


def tickets_in_status_since(session: Session, status: str, before: datetime) -> list[TicketRecord]:
    """Tickets in `status` whose status last changed at or before `before`."""
    rows = session.scalars(
        select(TicketRow)
        .where(TicketRow.status == status, TicketRow.status_changed_at <= before)
        .order_by(TicketRow.id)
    )
    return [TicketRecord.from_row(r) for r in rows.unique()]


def breach_step(ticket_id: int, target: str) -> str:
    """The one-off step key of a ticket's breach of `target` (first_response, resolution)."""
    return f"breach:{ticket_id}:{target}"


def claim_step(session: Session, key: str, now: datetime) -> bool:
    """Record that the one-off step `key` happened; False when it already had."""
    if session.scalar(select(NoticeRow.id).where(NoticeRow.key == key)) is not None:
        return False
    session.add(NoticeRow(key=key, created_at=now))
    session.flush()
    return True


def last_run(session: Session, name: str) -> datetime | None:
    """When job `name` last ran (UTC), or None."""
    row = session.get(JobRunRow, name)
    return utc(row.last_run_at) if row else None


def set_last_run(session: Session, name: str, at: datetime) -> None:
    """Record that job `name` ran for the instant `at` (never moves backwards)."""
    row = session.get(JobRunRow, name)
    if row is None:
        session.add(JobRunRow(name=name, last_run_at=at))
    elif (utc(row.last_run_at) or at) < at:
        row.last_run_at = at
    session.flush()


def status_counts(session: Session) -> dict[str, int]:
    """Tickets per status, closed excluded."""
    rows = session.execute(
        select(TicketRow.status, func.count())
        .where(TicketRow.status != "closed")
        .group_by(TicketRow.status)
    )
    return {str(status): int(count) for status, count in rows}


def held_senders(session: Session, since: datetime) -> list[tuple[str, int]]:
    """Senders whose mail was held (flood protection, moderation) since an instant."""
    rows = session.execute(
        select(InboundMessageRow.sender, func.count())
        .where(InboundMessageRow.outcome == "held", InboundMessageRow.received_at >= since)
        .group_by(InboundMessageRow.sender)
        .order_by(func.count().desc(), InboundMessageRow.sender)
    )
    return [(str(sender), int(count)) for sender, count in rows]


def credential_exposures(session: Session, since: datetime) -> list[TicketRecord]:
    """Tickets flagged credential_exposed that are not closed or changed since an instant."""
    rows = session.scalars(
        select(TicketRow)
        .where(
            TicketRow.flags["credential_exposed"].as_boolean().is_(True),
            (TicketRow.status != "closed") | (TicketRow.updated_at >= since),
        )
        .order_by(TicketRow.id)
    )
    return [TicketRecord.from_row(r) for r in rows.unique()]


def credential_exposures_active_since(session: Session, since: datetime) -> list[TicketRecord]:
    """Tickets flagged credential_exposed with activity (created, a comment, a change)
    since an instant: the exposures an hourly digest has not told yet."""
    rows = session.scalars(
        select(TicketRow)
        .where(
            TicketRow.flags["credential_exposed"].as_boolean().is_(True),
            TicketRow.updated_at >= since,
        )
        .order_by(TicketRow.id)
    )
    return [TicketRecord.from_row(r) for r in rows.unique()]
