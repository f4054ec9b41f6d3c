"""Outbox rows: mail waiting to be sent, written in the transaction that caused it.

A row's Message-ID is derived from its id, so a resend after a crash is recognisable and
replies to it thread back to the ticket. A `dedupe_key` (ticket, kind, step) makes a
notification unique: enqueueing it again is a no-op.

Delivery: `claim_due` takes due pending rows (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
has one writer) and leases them by pushing `next_attempt_at` and counting the attempt in the
same transaction, so two workers never hold one row at once, and a row whose worker died
before settling it is claimed again after the lease: delivery is at least once (the worker
settles each mail right after the relay's answer, so what a crash resends is the mail in
flight). `settle` settles claims (one UPDATE for all the rows that get the same values),
`mark_retry` / `mark_skipped` a single one; each applies only while the row is still the
claimed attempt, except that a mail the relay accepted is recorded sent whatever became of
its claim meanwhile (unless already sent): a sent mail is never left `skipped` or `dead`.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import ColumnElement

from store import writebehind
from store.records import OutboxRecord, TicketSnapshot
from store.schema import Base, OutboxRow


@dataclass(frozen=True, slots=True)
class NewMail:
    """One mail to queue: its template `kind`, recipient and template context.

    `ticket`, when the mail is about a ticket, is stored in the context as `ticket` (the
    same shape for every kind of mail, whoever queues it)."""

    kind: str
    recipient: str
    context: dict[str, Any]
    ticket_id: int | None = None
    ticket: TicketSnapshot | None = None
    dedupe_key: str | None = None
    automatic: bool = True
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    status: str = "pending"
    last_error: str | None = None
    message_id: str | None = None  # chosen by the caller (a webhook's event id); else a new one


def message_id_for(row_id: int, domain: str) -> str:
    """The Message-ID of outbox row `row_id`."""
    return f"<postdesk.{row_id}@{domain}>"


_OUTBOX = Base.metadata.tables[OutboxRow.__tablename__]
_INSERT_OUTBOX = insert(_OUTBOX).returning(_OUTBOX.c.id)
_INSERT_OUTBOX_ROW = insert(_OUTBOX)  # without RETURNING: deferred rows go in many at once


def new_message_id(domain: str) -> str:
    """A fresh Message-ID for an outbox row (stored in the row, so a resend reuses it)."""
    return f"<postdesk.{secrets.token_hex(10)}@{domain}>"


def _row_values(mail: NewMail, now: datetime, message_id_domain: str) -> dict[str, Any]:
    # The Message-ID is chosen up front: no flush, no second UPDATE.
    return {
        "kind": mail.kind,
        "ticket_id": mail.ticket_id,
        "recipient": mail.recipient.lower(),
        "cc": {"cc": list(mail.cc), "bcc": list(mail.bcc)},
        "dedupe_key": mail.dedupe_key,
        "context": mail.context
        if mail.ticket is None
        else {**mail.context, "ticket": mail.ticket.as_context()},
        "automatic": mail.automatic,
        "status": mail.status,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": mail.last_error,
        "message_id": mail.message_id or new_message_id(message_id_domain),
        "created_at": now,
        "sent_at": None,
    }


def enqueue(
    session: Session, mail: NewMail, *, now: datetime, message_id_domain: str
) -> int | None:
    """Add a row; returns its id, or None when a row with the same dedupe key exists."""
    writebehind.flush(session, _OUTBOX)
    if mail.dedupe_key is not None:
        exists = session.scalar(select(OutboxRow.id).where(OutboxRow.dedupe_key == mail.dedupe_key))
        if exists is not None:
            return None
    values = _row_values(mail, now, message_id_domain)
    row_id = session.connection().execute(_INSERT_OUTBOX, values).scalar_one()
    return int(row_id)


def queue(session: Session, mail: NewMail, *, now: datetime, message_id_domain: str) -> None:
    """Add a row when its id is not needed: deferred to the batch's commit where it can be
    (`store.writebehind`); at once when it has a dedupe key (the check needs the table)."""
    if mail.dedupe_key is not None:
        enqueue(session, mail, now=now, message_id_domain=message_id_domain)
    else:
        writebehind.add(session, _INSERT_OUTBOX_ROW, _row_values(mail, now, message_id_domain))


def count_recent(
    session: Session, *, recipient: str, since: datetime, ticket_id: int | None = None
) -> int:
    """Automatic mails queued for `recipient` since an instant (optionally about one ticket)."""
    writebehind.flush(session, _OUTBOX)
    query = (
        select(func.count())
        .select_from(OutboxRow)
        .where(
            OutboxRow.recipient == recipient.lower(),
            OutboxRow.created_at >= since,
            OutboxRow.automatic.is_(True),
            OutboxRow.status != "skipped",
        )
    )
    if ticket_id is not None:
        query = query.where(OutboxRow.ticket_id == ticket_id)
    return int(session.scalar(query) or 0)


def list_rows(
    session: Session, *, status: str | None = None, limit: int | None = None
) -> list[OutboxRecord]:
    writebehind.flush(session, _OUTBOX)
    query = select(OutboxRow).order_by(OutboxRow.id)
    if status:
        query = query.where(OutboxRow.status == status)
    if limit:
        query = query.limit(limit)
    return [OutboxRecord.from_row(r) for r in session.scalars(query)]


def retry_dead(session: Session, now: datetime) -> int:
    """Put every dead row back in the queue, due now; returns how many."""
    writebehind.flush(session, _OUTBOX)
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.status == "dead")
        .values(status="pending", attempts=0, next_attempt_at=now, last_error=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def recent_to(session: Session, *, kind: str, recipient: str, since: datetime) -> bool:
    """Whether a mail of `kind` went (or is queued) to `recipient` since an instant."""
    writebehind.flush(session, _OUTBOX)
    found = session.scalar(
        select(OutboxRow.id)
        .where(
            OutboxRow.kind == kind,
            OutboxRow.recipient == recipient.lower(),
            OutboxRow.created_at >= since,
        )
        .limit(1)
    )
    return found is not None


@dataclass(frozen=True, slots=True)
class ClaimedMail:
    """A row leased for one delivery attempt (`attempt` counts this one)."""

    id: int
    kind: str
    ticket_id: int | None
    recipient: str
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    context: dict[str, Any]
    automatic: bool
    message_id: str | None
    attempt: int
    created_at: datetime


_DUE = (
    select(
        _OUTBOX.c.id,
        _OUTBOX.c.kind,
        _OUTBOX.c.ticket_id,
        _OUTBOX.c.recipient,
        _OUTBOX.c.cc,
        _OUTBOX.c.context,
        _OUTBOX.c.automatic,
        _OUTBOX.c.message_id,
        _OUTBOX.c.attempts,
        _OUTBOX.c.created_at,
    )
    .where(_OUTBOX.c.status == "pending", _OUTBOX.c.next_attempt_at <= bindparam("now"))
    .order_by(_OUTBOX.c.next_attempt_at, _OUTBOX.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
# The rows were read under the write lock (FOR UPDATE; SQLite's BEGIN IMMEDIATE), so
# `attempts + 1` here is the value read plus one: the attempt each ClaimedMail reports.
_LEASE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        attempts=func.coalesce(_OUTBOX.c.attempts, 0) + 1,
        next_attempt_at=bindparam("lease_until"),
    )
)


def claim_due(
    session: Session, *, now: datetime, lease: timedelta, limit: int
) -> list[ClaimedMail]:
    """Lease up to `limit` rows due at `now`: attempts + 1, next_attempt_at = now + lease.

    One SELECT and one UPDATE for the whole batch, in Core: loading ORM objects and flushing
    one UPDATE per row cost more than the rest of the claim together.
    """
    writebehind.flush(session, _OUTBOX)
    connection = session.connection()
    rows = connection.execute(_DUE, {"now": now, "limit": limit}).all()
    if not rows:
        return []
    connection.execute(_LEASE, {"ids": [row.id for row in rows], "lease_until": now + lease})
    claimed: list[ClaimedMail] = []
    for row in rows:
        cc = row.cc or {}
        claimed.append(
            ClaimedMail(
                id=row.id,
                kind=row.kind,
                ticket_id=row.ticket_id,
                recipient=row.recipient,
                cc=tuple(cc.get("cc") or ()),
                bcc=tuple(cc.get("bcc") or ()),
                context=dict(row.context or {}),
                automatic=row.automatic,
                message_id=row.message_id,
                attempt=(row.attempts or 0) + 1,
                created_at=row.created_at,
            )
        )
    return claimed


def sent_values(now: datetime) -> dict[str, Any]:
    """The columns of a row the relay accepted (a `Settlement`'s values)."""
    return {"status": "sent", "sent_at": now, "last_error": None}


def retry_values(next_attempt_at: datetime, error: str) -> dict[str, Any]:
    """The columns of a row to try again at `next_attempt_at` after a transient failure."""
    return {"next_attempt_at": next_attempt_at, "last_error": error}


def dead_values(error: str) -> dict[str, Any]:
    """The columns of a row that failed for good (or ran out of attempts)."""
    return {"status": "dead", "last_error": error}


def skipped_values(reason: str) -> dict[str, Any]:
    """The columns of a row not sent on purpose (rate limit, bouncing recipient)."""
    return {"status": "skipped", "last_error": reason}


def mark_retry(
    session: Session, row_id: int, *, attempt: int, next_attempt_at: datetime, error: str
) -> bool:
    """A transient failure: try again at `next_attempt_at`."""
    return _settle_one(session, row_id, attempt, retry_values(next_attempt_at, error))


def mark_skipped(session: Session, row_id: int, *, attempt: int, reason: str) -> bool:
    """Not sent on purpose (rate limit, bouncing recipient): kept with the reason."""
    return _settle_one(session, row_id, attempt, skipped_values(reason))


@dataclass(frozen=True, slots=True)
class Settlement:
    """What became of one claimed row: its id, the claimed attempt and the columns to set
    (`sent_values`, `retry_values`, `dead_values`, `skipped_values`)."""

    row_id: int
    attempt: int
    values: Mapping[str, Any]


@functools.cache
def _settle_many_statement(columns: frozenset[str], *, sent: bool) -> UpdateBase:
    """UPDATE outbox SET <columns> WHERE id IN (...) and it is still the claimed attempt (for
    a sent mail: and it is not recorded sent yet), RETURNING the ids it changed (so each lost
    claim is still told apart); built once each."""
    values: dict[str, Any] = {name: bindparam(name) for name in sorted(columns)}
    ids = _OUTBOX.c.id.in_(bindparam("b_ids", expanding=True))
    where: list[ColumnElement[bool]] = [ids]
    if sent:  # the relay took it: true whatever another worker did with the row since
        where.append(_OUTBOX.c.status != "sent")
    else:
        where += [_OUTBOX.c.status == "pending", _OUTBOX.c.attempts == bindparam("b_attempt")]
    return update(_OUTBOX).where(*where).values(values).returning(_OUTBOX.c.id)


def _settle_one(session: Session, row_id: int, attempt: int, values: Mapping[str, Any]) -> bool:
    """Settle one claimed row; False when its claim was lost meanwhile."""
    return row_id in settle(session, [Settlement(row_id, attempt, values)])


def settle(
    session: Session, settlements: Sequence[Settlement], *, wait_for_disk: bool = True
) -> set[int]:
    """Record claims; the ids that were recorded (the others' claims were lost: their lease
    expired and another worker took them, or, for a sent mail, it is recorded sent already).

    `wait_for_disk=False` lets PostgreSQL commit this transaction without waiting for its
    WAL flush (`synchronous_commit = off`, for this transaction only): the commit is safe
    from the worker's death at once, and only a crash of the database server itself within a
    fraction of a second could lose it, which means that mail is sent again (at least once).
    It spares the worker an fsync per mail. SQLite (WAL, synchronous=NORMAL) never waits.

    A sent mail (`sent_values`) is recorded sent even when its claim was lost meanwhile (its
    lease expired while the database was down, and another worker skipped it or is sending
    it again): the relay has it. Rows with the same attempt and the same values are settled
    by one UPDATE, instead of a statement per row.
    """
    groups: dict[tuple[int, tuple[tuple[str, Any], ...]], list[int]] = {}
    for item in settlements:
        key = (item.attempt, tuple(sorted(item.values.items())))
        groups.setdefault(key, []).append(item.row_id)
    done: set[int] = set()
    connection = session.connection()
    if not wait_for_disk and connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    for (attempt, values), row_ids in groups.items():
        sent = dict(values).get("status") == "sent"
        statement = _settle_many_statement(frozenset(name for name, _ in values), sent=sent)
        params = {**dict(values), "b_ids": row_ids}
        if not sent:
            params["b_attempt"] = attempt
        done.update(int(row_id) for row_id in connection.execute(statement, params).scalars())
    return done


# Sent rows are never deleted, so the count must not walk them all: without statistics
# SQLite picks ix_outbox_due (status = 'sent': every mail ever sent) over the recipient's
# index, and the count grows with the table's history (it was most of a claim's time).
# The status test is written so that no index can serve it (status is NOT NULL, so the
# coalesce changes no result): the planner goes by recipient (ix_outbox_recipient_time).
_SENT_TO = (
    select(func.count())
    .select_from(_OUTBOX)
    .where(
        _OUTBOX.c.recipient == bindparam("recipient"),
        func.coalesce(_OUTBOX.c.status, "") == "sent",
        _OUTBOX.c.sent_at >= bindparam("since"),
        _OUTBOX.c.automatic.is_(True),
    )
)
_SENT_TO_ABOUT = _SENT_TO.where(_OUTBOX.c.ticket_id == bindparam("ticket_id"))


def count_sent(
    session: Session, *, recipient: str, since: datetime, ticket_id: int | None = None
) -> int:
    """Automatic mails actually sent to `recipient` since an instant (optionally per ticket)."""
    writebehind.flush(session, _OUTBOX)
    params: dict[str, Any] = {"recipient": recipient.lower(), "since": since}
    statement = _SENT_TO
    if ticket_id is not None:
        statement, params = _SENT_TO_ABOUT, {**params, "ticket_id": ticket_id}
    found = session.connection().execute(statement, params).scalar()
    return int(found or 0)


def count_by_status(session: Session) -> dict[str, int]:
    """How many rows are in each status (for metrics and the digest)."""
    writebehind.flush(session, _OUTBOX)
    rows = session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
    return {str(status): int(count) for status, count in rows}


def make_due(session: Session, *, queued_until: datetime, now: datetime) -> int:
    """Rows not yet tried whose first attempt is after `now` but not after `queued_until` (a
    `sweep --now` at a later instant queued them there) become due at `now`, so that a plain
    `outbox flush` sends them; returns how many. Retries are never moved (their attempts
    count is above zero)."""
    writebehind.flush(session, _OUTBOX)
    result = session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.status == "pending",
            OutboxRow.attempts == 0,
            OutboxRow.next_attempt_at > now,
            OutboxRow.next_attempt_at <= queued_until,
        )
        .values(next_attempt_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
