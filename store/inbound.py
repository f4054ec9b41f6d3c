"""Inbound message records: dedupe, the decision record, flood counts, thread lookups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from store.errors import NotFound
from store.records import MessageRecord
from store.schema import Base, InboundMessageRow, OutboxRow


@dataclass(frozen=True, slots=True)
class NewMessage:
    dedupe_key: str
    message_id: str | None
    sender: str
    subject: str
    source: str
    received_at: datetime
    recorded_at: datetime
    outcome: str
    reason: str
    ticket_id: int | None = None
    redactions: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


_MESSAGES = Base.metadata.tables[InboundMessageRow.__tablename__]
_INSERT_MESSAGE = insert(_MESSAGES).returning(_MESSAGES.c.id)
_COMPLETE_MESSAGE = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("row_id"))
    .values(
        outcome=bindparam("outcome"), reason=bindparam("reason"), ticket_id=bindparam("ticket_id")
    )
)


_BY_DEDUPE_KEY = select(
    _MESSAGES.c.id,
    _MESSAGES.c.message_id,
    _MESSAGES.c.sender,
    _MESSAGES.c.outcome,
    _MESSAGES.c.reason,
    _MESSAGES.c.received_at,
    _MESSAGES.c.ticket_id,
).where(_MESSAGES.c.dedupe_key == bindparam("key"))


def find_by_dedupe_key(session: Session, key: str) -> MessageRecord | None:
    found = session.connection().execute(_BY_DEDUPE_KEY, {"key": key}).first()
    return MessageRecord.from_row(found) if found is not None else None


def record_message(session: Session, new: NewMessage) -> int:
    """Store the decision record; returns its id. The unique dedupe key guards double inserts."""
    row_id = (
        session.connection()
        .execute(
            _INSERT_MESSAGE,
            {
                "dedupe_key": new.dedupe_key,
                "message_id": new.message_id,
                "sender": new.sender,
                "sender_domain": new.sender.rpartition("@")[2],
                "subject": new.subject,
                "source": new.source,
                "received_at": new.received_at,
                "recorded_at": new.recorded_at,
                "outcome": new.outcome,
                "reason": new.reason,
                "ticket_id": new.ticket_id,
                "redactions": dict(new.redactions),
                "details": dict(new.details),
            },
        )
        .scalar_one()
    )
    return int(row_id)


def forget_message(session: Session, row_id: int) -> None:
    """Delete a decision record (a quarantined message that is being retried)."""
    row = session.get(InboundMessageRow, row_id)
    if row is not None:
        session.delete(row)
        session.flush()


def complete_message(
    session: Session, row_id: int, outcome: str, reason: str, ticket_id: int | None
) -> None:
    """Fill in the decision of a record written before the decision was taken."""
    done = session.connection().execute(
        _COMPLETE_MESSAGE,
        {"row_id": row_id, "outcome": outcome, "reason": reason, "ticket_id": ticket_id},
    )
    if not done.rowcount:
        raise NotFound(f"no inbound message record {row_id}")


def count_since(
    session: Session, *, since: datetime, sender: str | None = None, domain: str | None = None
) -> int:
    """Messages recorded from a sender (or a sending domain) since an instant."""
    query = (
        select(func.count())
        .select_from(InboundMessageRow)
        .where(InboundMessageRow.received_at >= since)
    )
    if sender is not None:
        query = query.where(InboundMessageRow.sender == sender)
    if domain is not None:
        query = query.where(InboundMessageRow.sender_domain == domain)
    return int(session.scalar(query) or 0)


def ticket_for_message_ids(session: Session, message_ids: Sequence[str]) -> int | None:
    """The ticket of the newest message (received or sent by us) among `message_ids`."""
    if not message_ids:
        return None
    ids = list(dict.fromkeys(message_ids))[-50:]
    connection = session.connection()
    sent = connection.execute(
        select(OutboxRow.ticket_id)
        .where(OutboxRow.message_id.in_(ids), OutboxRow.ticket_id.is_not(None))
        .order_by(OutboxRow.id.desc())
        .limit(1)
    ).scalar()
    if sent is not None:
        return int(sent)
    received = connection.execute(
        select(InboundMessageRow.ticket_id)
        .where(InboundMessageRow.message_id.in_(ids), InboundMessageRow.ticket_id.is_not(None))
        .order_by(InboundMessageRow.id.desc())
        .limit(1)
    ).scalar()
    return int(received) if received is not None else None


def messages_for_ticket(session: Session, ticket_id: int) -> list[MessageRecord]:
    rows = session.scalars(
        select(InboundMessageRow)
        .where(InboundMessageRow.ticket_id == ticket_id)
        .order_by(InboundMessageRow.id)
    )
    return [MessageRecord.from_row(r) for r in rows]


def thread_message_ids(
    session: Session, ticket_id: int, *, recipient: str | None = None, exclude: str | None = None
) -> list[str]:
    """Message-IDs of the ticket's thread, oldest first (for References on outgoing mail).

    With `recipient`, only the mails that person has seen: the ones they sent and the ones we
    sent them (no internal notes, no other people's notices). `exclude` is the mail's own id.
    """
    received_query = select(InboundMessageRow.recorded_at, InboundMessageRow.message_id).where(
        InboundMessageRow.ticket_id == ticket_id, InboundMessageRow.message_id.is_not(None)
    )
    sent_query = select(OutboxRow.created_at, OutboxRow.message_id).where(
        OutboxRow.ticket_id == ticket_id, OutboxRow.message_id.is_not(None)
    )
    if recipient is not None:
        received_query = received_query.where(InboundMessageRow.sender == recipient.lower())
        sent_query = sent_query.where(OutboxRow.recipient == recipient.lower())
    rows = [*session.execute(received_query).all(), *session.execute(sent_query).all()]
    ordered = sorted(rows, key=lambda r: r[0].replace(tzinfo=None))
    return [i for i in dict.fromkeys(str(r[1]) for r in ordered) if i != exclude]


def we_mailed(
    session: Session, recipient: str, original_message_id: str | None, since: datetime
) -> bool:
    """Whether a bounce for `recipient` answers our mail: its returned Message-ID is one of
    ours, or (when the bounce names none) we mailed that address since `since`."""
    query = select(OutboxRow.id).where(OutboxRow.recipient == recipient.lower())
    if original_message_id:
        query = query.where(OutboxRow.message_id == original_message_id)
    else:
        query = query.where(OutboxRow.created_at >= since)
    return session.scalar(query.limit(1)) is not None
