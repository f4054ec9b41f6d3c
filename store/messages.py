"""The decision log: what became of every inbound message and why, whatever its outcome.

Every message the pipeline decides leaves one decision record (`store.inbound`): created,
commented, ignored, rejected, held or quarantined, with the reason. These readers answer
"where did my mail go?" (`postdesk messages list|show`) without reading any mail text: a
record holds the sender, the redacted subject, the times, the outcome and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from store import writebehind
from store.records import iso, utc
from store.schema import Base, InboundMessageRow, TicketRow

# The outcomes a decision record can carry (a duplicate leaves none of its own).
RECORDED_OUTCOMES = ("created", "commented", "ignored", "rejected", "held", "quarantined")
_MESSAGES = Base.metadata.tables[InboundMessageRow.__tablename__]


@dataclass(frozen=True, slots=True)
class MessageEntry:
    """One decision record as an operator reads it."""

    id: int
    message_id: str | None
    sender: str
    subject: str
    source: str
    received_at: datetime
    recorded_at: datetime
    outcome: str
    reason: str
    ticket: str | None
    redactions: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "sender": self.sender,
            "subject": self.subject,
            "source": self.source,
            "received_at": _iso(self.received_at),
            "recorded_at": _iso(self.recorded_at),
            "outcome": self.outcome,
            "reason": self.reason,
            "ticket": self.ticket,
            "redactions": dict(sorted(self.redactions.items())),
        }


def _iso(value: datetime) -> str:
    return iso(value) or ""


def _query() -> Select[InboundMessageRow, str]:
    return select(InboundMessageRow, TicketRow.prefix).outerjoin(
        TicketRow, TicketRow.id == InboundMessageRow.ticket_id
    )


def _entry(row: InboundMessageRow, prefix: str | None) -> MessageEntry:
    number = f"{prefix}-{row.ticket_id}" if prefix and row.ticket_id else None
    return MessageEntry(
        id=row.id,
        message_id=row.message_id,
        sender=row.sender,
        subject=row.subject,
        source=row.source,
        received_at=utc(row.received_at) or row.received_at,
        recorded_at=utc(row.recorded_at) or row.recorded_at,
        outcome=row.outcome,
        reason=row.reason,
        ticket=number,
        redactions={str(k): int(v) for k, v in (row.redactions or {}).items()},
    )


def list_messages(
    session: Session,
    *,
    sender: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[MessageEntry]:
    """Decision records, oldest first, filtered by sender address, outcome and time
    received (at or after `since`)."""
    writebehind.flush(session, _MESSAGES)
    query = _query()
    if sender is not None:
        query = query.where(InboundMessageRow.sender == sender.lower())
    if outcome is not None:
        query = query.where(InboundMessageRow.outcome == outcome)
    if since is not None:
        query = query.where(InboundMessageRow.received_at >= since)
    query = query.order_by(InboundMessageRow.received_at, InboundMessageRow.id)
    if limit is not None:
        query = query.limit(limit)
    return [_entry(row, prefix) for row, prefix in session.execute(query)]


def find_messages(session: Session, message_id: str) -> list[MessageEntry]:
    """The decision records of the message with this Message-ID (normally one)."""
    writebehind.flush(session, _MESSAGES)
    query = _query().where(InboundMessageRow.message_id == message_id)
    rows = session.execute(query.order_by(InboundMessageRow.id))
    return [_entry(row, prefix) for row, prefix in rows]
