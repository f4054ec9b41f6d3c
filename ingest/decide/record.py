"""What an action writes about the message it acts on: comments, attachments, audit events.

Every comment and audit event of a message carries the same facts (who, when, which inbound
message, what was redacted); these helpers take them from the decision context.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from store import tickets
from store.records import CommentRecord
from store.tickets import NewComment

if TYPE_CHECKING:
    from ingest.decide.actions import Context


def add_comment(
    c: Context,
    ticket_id: int,
    *,
    role: str,
    public: bool,
    body: str,
    notes: dict[str, Any],
    keep_html: bool = True,
    keep_attachments: bool = True,
) -> CommentRecord:
    """The message as a comment on the ticket, with its (redacted) attachments."""
    comment = tickets.add_comment(
        c.session,
        ticket_id,
        NewComment(
            author_email=c.sender.email,
            author_role=role,
            public=public,
            body=body or "(no text)",
            full_text=c.content.full_text,
            html=c.content.html if keep_html else None,
            created_at=c.received_at,
            redactions=c.content.redactions,
            notes=notes,
            inbound_message_id=c.message_row_id,
        ),
    )
    if keep_attachments:
        store_attachments(c, ticket_id, comment.id)
    return comment


def audit(c: Context, ticket_id: int, action: str, details: dict[str, Any] | None = None) -> None:
    """One audit event by the sender of the message, pointing at the message."""
    tickets.audit(
        c.session,
        ticket_id,
        at=c.now,
        actor=c.sender.email,
        action=action,
        details=details,
        inbound_message_id=c.message_row_id,
    )


def store_attachments(c: Context, ticket_id: int, comment_id: int | None) -> int:
    """Write the kept (already redacted) attachments; returns how many."""
    if c.blobs is None:
        return 0
    for item in c.content.attachments:
        digest = c.blobs.put(item.payload)
        tickets.add_attachment(
            c.session,
            ticket_id,
            comment_id,
            filename=item.filename[:255],
            content_type=item.content_type[:255],
            size=len(item.payload),
            sha256=digest,
            inline=item.inline,
            content_id=item.content_id,
            created_at=c.now,
        )
    return len(c.content.attachments)
