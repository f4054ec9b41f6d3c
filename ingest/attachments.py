"""Attachment files of a message into the blob store, and their rows onto the ticket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from store import tickets

if TYPE_CHECKING:
    from ingest.actions import Context


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
