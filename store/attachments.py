"""Attachment rows of tickets (the files themselves are in `store.blobs`): add and read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store import writebehind
from store.records import AttachmentRecord
from store.redacted import RedactedText
from store.schema import AttachmentRow, Base

__all__ = ["add_attachment", "get_attachment", "of_ticket"]

_ATTACHMENTS = Base.metadata.tables[AttachmentRow.__tablename__]


def add_attachment(
    session: Session,
    ticket_id: int,
    comment_id: int | None,
    *,
    filename: RedactedText,
    content_type: str,
    size: int,
    sha256: str,
    inline: bool,
    content_id: str | None,
    created_at: datetime,
) -> AttachmentRecord:
    attachment_id = writebehind.insert_row(
        session,
        _ATTACHMENTS,
        {
            "ticket_id": ticket_id,
            "comment_id": comment_id,
            "filename": filename,
            "content_type": content_type,
            "size": size,
            "sha256": sha256,
            "inline": inline,
            "content_id": content_id,
            "created_at": created_at,
        },
    )
    return AttachmentRecord(int(attachment_id), filename, content_type, size, sha256, inline)


def of_ticket(session: Session, ticket_id: int) -> list[AttachmentRecord]:
    rows = session.scalars(
        select(AttachmentRow).where(AttachmentRow.ticket_id == ticket_id).order_by(AttachmentRow.id)
    )
    return [AttachmentRecord.from_row(r) for r in rows]


def get_attachment(session: Session, attachment_id: int) -> AttachmentRecord | None:
    """One attachment row by id, or None."""
    row = session.get(AttachmentRow, attachment_id)
    return AttachmentRecord.from_row(row) if row is not None else None
