"""What an action writes about the message it acts on: comments, attachments, audit events.

Every comment and audit event of a message carries the same facts (who, when, which inbound
message, what was redacted); these helpers take them from the decision context.
"""

from __future__ import annotations

from typing import Any

from ingest.decide.context import Context
from ingest.redact.derived import NO_TEXT, head, or_placeholder
from store import attachments, comments
from store import audit as audit_trail
from store.comments import NewComment
from store.records import AttachmentRecord, CommentRecord
from store.redacted import RedactedText


def add_comment(
    ctx: Context,
    ticket_id: int,
    *,
    role: str,
    public: bool,
    body: RedactedText,
    notes: dict[str, Any],
    keep_html: bool = True,
    keep_attachments: bool = True,
) -> tuple[CommentRecord, list[AttachmentRecord]]:
    """The message as a comment on the ticket, with its (redacted) attachments; returns the
    comment and the attachment rows it wrote (for the mails that carry them)."""
    comment = comments.add_comment(
        ctx.session,
        ticket_id,
        NewComment(
            author_email=ctx.sender.email,
            author_role=role,
            public=public,
            body=or_placeholder(body, NO_TEXT),
            full_text=ctx.content.full_text,
            html=ctx.content.html if keep_html else None,
            created_at=ctx.received_at,
            redactions=ctx.content.redactions,
            notes=notes,
            inbound_message_id=ctx.message_row_id,
        ),
    )
    files = store_attachments(ctx, ticket_id, comment.id) if keep_attachments else []
    return comment, files


def audit(ctx: Context, ticket_id: int, action: str, details: dict[str, Any] | None = None) -> None:
    """One audit event by the sender of the message, pointing at the message."""
    audit_trail.record(
        ctx.session,
        ticket_id,
        at=ctx.now,
        actor=ctx.sender.email,
        action=action,
        details=details,
        inbound_message_id=ctx.message_row_id,
    )


def store_attachments(
    ctx: Context, ticket_id: int, comment_id: int | None
) -> list[AttachmentRecord]:
    """Write the kept (already redacted) attachments; returns their rows."""
    if ctx.blobs is None:
        return []
    stored: list[AttachmentRecord] = []
    for item in ctx.content.attachments:
        digest = ctx.blobs.put(item.payload)
        stored.append(
            attachments.add_attachment(
                ctx.session,
                ticket_id,
                comment_id,
                filename=head(item.filename, 255),
                content_type=item.content_type[:255],
                size=len(item.payload),
                sha256=digest,
                inline=item.inline,
                content_id=item.content_id,
                created_at=ctx.now,
            )
        )
    return stored


def files_context(files: list[AttachmentRecord]) -> list[dict[str, Any]]:
    """Attachment rows as a mail's context lists them (notify attaches or links them)."""
    return [
        {
            "id": f.id,
            "filename": f.filename,
            "content_type": f.content_type,
            "size": f.size,
            "sha256": f.sha256,
        }
        for f in files
    ]


def blocked_context(ctx: Context) -> list[dict[str, str]]:
    """The attachments of the message that were not kept, and why."""
    return [{"filename": d.filename, "reason": d.reason} for d in ctx.content.dropped]
