"""Erasure for data-protection requests and retention: a contact's mail text, attachments and
decision records, or whole closed tickets, replaced by a placeholder.

What goes: comment text (body, full text, HTML, notes), ticket subjects and custom fields,
attachment rows (their files go once no other row names them: `unreferenced_blobs`), the
inbound decision records of the contact's mail, outbox rows (their context holds the text),
and the details of audit events on the erased tickets. What stays: the tickets themselves
(number, status, times, SLA figures) with the placeholder, so counts and numbering hold.
The address itself is replaced in contacts, subscribers and audit actors by a keyed hash.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Text, and_, cast, delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from store import audit, writebehind
from store.schema import (
    AttachmentRow,
    AuditEventRow,
    CommentRow,
    ContactRow,
    InboundMessageRow,
    NoticeRow,
    OutboxRow,
    SubscriberRow,
    TicketRow,
)

__all__ = [
    "ERASED",
    "ERASED_BY_RETENTION",
    "Erased",
    "address_hash",
    "erase_tickets",
    "expired_tickets",
    "forget_contact",
    "unreferenced_blobs",
]

ERASED = "[erased on request]"
ERASED_BY_RETENTION = "[erased: retention period over]"


@dataclass
class Erased:
    """What one erasure took away (counts, and the attachment files it may have freed)."""

    tickets: int = 0
    comments: int = 0
    attachments: int = 0
    messages: int = 0
    outbox: int = 0
    blobs: set[str] = field(default_factory=set)

    def summary(self) -> dict[str, int]:
        return {
            "tickets": self.tickets,
            "comments": self.comments,
            "attachments": self.attachments,
            "messages": self.messages,
            "outbox": self.outbox,
        }


def address_hash(secret_key: str, address: str) -> str:
    """A keyed hash of an address: the audit trail can tell which address was erased (to
    whoever holds the key) without keeping it in clear."""
    digest = hmac.new(secret_key.encode(), address.strip().lower().encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _erase_comments(session: Session, condition: object, placeholder: str, erased: Erased) -> None:
    comment_ids = list(session.scalars(select(CommentRow.id).where(condition)))  # type: ignore[arg-type]
    if not comment_ids:
        return
    for start in range(0, len(comment_ids), 500):
        chunk = comment_ids[start : start + 500]
        erased.blobs.update(
            session.scalars(select(AttachmentRow.sha256).where(AttachmentRow.comment_id.in_(chunk)))
        )
        erased.attachments += _count(
            session.execute(delete(AttachmentRow).where(AttachmentRow.comment_id.in_(chunk)))
        )
        erased.comments += _count(
            session.execute(
                update(CommentRow)
                .where(CommentRow.id.in_(chunk))
                .values(body=placeholder, full_text="", html=None, redactions={}, notes={})
            )
        )


def erase_tickets(
    session: Session, ticket_ids: Iterable[int], *, placeholder: str = ERASED
) -> Erased:
    """Erase the content of whole tickets: subject, fields, every comment and attachment,
    the decision records and outbox rows about them, the details of their audit events."""
    writebehind.flush(session)
    erased = Erased()
    ids = sorted(set(ticket_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        _erase_comments(session, CommentRow.ticket_id.in_(chunk), placeholder, erased)
        erased.blobs.update(
            session.scalars(select(AttachmentRow.sha256).where(AttachmentRow.ticket_id.in_(chunk)))
        )
        erased.attachments += _count(
            session.execute(delete(AttachmentRow).where(AttachmentRow.ticket_id.in_(chunk)))
        )
        erased.messages += _forget_messages(session, InboundMessageRow.ticket_id.in_(chunk))
        erased.outbox += _count(
            session.execute(delete(OutboxRow).where(OutboxRow.ticket_id.in_(chunk)))
        )
        session.execute(
            update(AuditEventRow)
            .where(AuditEventRow.ticket_id.in_(chunk))
            .values(details={"erased": True})
        )
        erased.tickets += _count(
            session.execute(
                update(TicketRow)
                .where(TicketRow.id.in_(chunk))
                .values(subject=placeholder, fields={}, call_reference=None)
            )
        )
    return erased


def _forget_messages(session: Session, condition: object) -> int:
    """Delete decision records; rows naming them keep their own data but lose the link."""
    message_ids = list(session.scalars(select(InboundMessageRow.id).where(condition)))  # type: ignore[arg-type]
    removed = 0
    for start in range(0, len(message_ids), 500):
        chunk = message_ids[start : start + 500]
        session.execute(
            update(CommentRow)
            .where(CommentRow.inbound_message_id.in_(chunk))
            .values(inbound_message_id=None)
        )
        session.execute(
            update(AuditEventRow)
            .where(AuditEventRow.inbound_message_id.in_(chunk))
            .values(inbound_message_id=None)
        )
        removed += _count(
            session.execute(delete(InboundMessageRow).where(InboundMessageRow.id.in_(chunk)))
        )
    return removed


def forget_contact(
    session: Session, address: str, *, secret_key: str, now: datetime, actor: str = "operator"
) -> Erased:
    """Erase everything a contact wrote and the tickets they opened (see the module text);
    one audit event records it with the address's keyed hash, never the address."""
    writebehind.flush(session)
    email = address.strip().lower()
    hashed = address_hash(secret_key, email)
    contact_id = session.scalar(select(ContactRow.id).where(ContactRow.email == email))
    own_tickets: list[int] = []
    if contact_id is not None:
        own_tickets = list(
            session.scalars(select(TicketRow.id).where(TicketRow.requester_id == contact_id))
        )
    erased = erase_tickets(session, own_tickets)
    others = and_(CommentRow.author_email == email, CommentRow.ticket_id.not_in(own_tickets))
    _erase_comments(session, others, ERASED, erased)
    erased.messages += _forget_messages(session, InboundMessageRow.sender == email)
    named = f"erased-{hashed}@erased.invalid"
    session.execute(
        update(CommentRow).where(CommentRow.author_email == email).values(author_email=named)
    )
    # Mail to them, and mail to others that quotes them (a team notice of their comment).
    erased.outbox += _count(
        session.execute(
            delete(OutboxRow).where(
                or_(OutboxRow.recipient == email, _mentions(OutboxRow.context, email))
            )
        )
    )
    session.execute(
        update(AuditEventRow)
        .where(_mentions(AuditEventRow.details, email))
        .values(details={"erased": True})
    )
    session.execute(
        update(InboundMessageRow)
        .where(_mentions(InboundMessageRow.details, email))
        .values(details={})
    )
    session.execute(delete(SubscriberRow).where(SubscriberRow.email == email))
    session.execute(delete(NoticeRow).where(NoticeRow.key.contains(email, autoescape=True)))
    session.execute(
        update(AuditEventRow)
        .where(AuditEventRow.actor == email)
        .values(actor=f"erased:{hashed}", details={"erased": True})
    )
    if contact_id is not None:
        session.execute(
            update(ContactRow).where(ContactRow.id == contact_id).values(email=named, name="")
        )
    audit.record(
        session,
        None,
        at=now,
        actor=actor,
        action="contact_forgotten",
        details={"address_hash": hashed, **erased.summary()},
    )
    return erased


def _mentions(column: object, email: str) -> ColumnElement[bool]:
    """Whether a JSON column's text holds `email` (both databases cast JSON to text)."""
    return cast(column, Text).contains(email, autoescape=True)


def expired_tickets(session: Session, closed_before: datetime) -> list[int]:
    """Closed tickets last changed before `closed_before` whose text is not yet erased."""
    return list(
        session.scalars(
            select(TicketRow.id).where(
                TicketRow.status == "closed",
                TicketRow.status_changed_at < closed_before,
                TicketRow.updated_at < closed_before,
                TicketRow.subject.not_in((ERASED, ERASED_BY_RETENTION)),
            )
        )
    )


def unreferenced_blobs(session: Session, candidates: Iterable[str]) -> set[str]:
    """Those of `candidates` (attachment file hashes) that no attachment row names any more."""
    wanted = sorted(set(candidates))
    still: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        still.update(
            session.scalars(select(AttachmentRow.sha256).where(AttachmentRow.sha256.in_(chunk)))
        )
    return set(wanted) - still
