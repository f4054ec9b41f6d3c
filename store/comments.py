"""Comments on tickets: add (a Core insert, written behind in a batch) and read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import ids, tickets, writebehind
from store.records import CommentRecord
from store.redacted import RedactedText
from store.schema import Base, CommentRow

__all__ = ["NewComment", "add_comment", "of_ticket", "reserve_comment_ids"]

_COMMENTS = Base.metadata.tables[CommentRow.__tablename__]


@dataclass(frozen=True, slots=True)
class NewComment:
    author_email: str
    author_role: str  # customer | staff | system
    public: bool
    body: RedactedText
    full_text: RedactedText
    html: RedactedText | None
    created_at: datetime
    redactions: dict[str, int] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    inbound_message_id: int | None = None


def add_comment(session: Session, ticket_id: int, new: NewComment) -> CommentRecord:
    """Append a comment (a Core insert: comments are never changed through the ORM; in a
    batch it is written at commit, see `store.writebehind`)."""
    values = {
        "ticket_id": ticket_id,
        "author_email": new.author_email,
        "author_role": new.author_role,
        "public": new.public,
        "body": new.body,
        "full_text": new.full_text,
        "html": new.html,
        "redactions": dict(new.redactions),
        "notes": dict(new.notes),
        "inbound_message_id": new.inbound_message_id,
        "created_at": new.created_at,
    }
    comment_id = writebehind.insert_row(session, _COMMENTS, values)
    tickets.touch(session, ticket_id, new.created_at)
    return CommentRecord(
        id=int(comment_id),
        author=new.author_email,
        author_role=new.author_role,
        public=new.public,
        body=new.body,
        created_at=new.created_at,
        redactions=dict(new.redactions),
        notes=dict(new.notes),
    )


def reserve_comment_ids(session: Session, count: int) -> None:
    """Take the ids of a batch's comments at once, when the batch writes behind."""
    if writebehind.deferring(session):
        ids.reserve(session, _COMMENTS, count)


def of_ticket(session: Session, ticket_id: int) -> list[CommentRecord]:
    rows = session.scalars(
        select(CommentRow).where(CommentRow.ticket_id == ticket_id).order_by(CommentRow.id)
    )
    return [CommentRecord.from_row(r) for r in rows]
