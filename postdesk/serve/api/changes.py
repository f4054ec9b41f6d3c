"""What the API changes on a ticket: one function per kind of change, the same work a staff
member's mail does (`ingest.decide.staff`), with `api:<token name>` as the actor.

`update_ticket` (PATCH) and `add_comment` (POST comments) are the only two ways the API
writes: whoever must hear of an API change (webhooks) hooks in here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ingest.decide.notices import Notices
from ingest.options import PipelineOptions
from ingest.redact import redact_text
from ingest.redact.derived import strip
from store import audit, comments, tickets, webhooks
from store.comments import NewComment
from store.directory import StaffRecord
from store.records import CommentRecord, TicketRecord

__all__ = ["ApiComment", "TicketChanges", "add_comment", "update_ticket"]


@dataclass(frozen=True, slots=True)
class TicketChanges:
    """Validated new values; None leaves a value as it is (`unassign` clears the assignee)."""

    status: str | None = None
    priority: str | None = None
    category: str | None = None
    visibility: str | None = None
    assignee: StaffRecord | None = None
    unassign: bool = False


@dataclass(frozen=True, slots=True)
class ApiComment:
    """A comment as the API received it: the body is not yet redacted."""

    body: str
    public: bool
    author: StaffRecord | None


def update_ticket(
    session: Session,
    ticket: TicketRecord,
    changes: TicketChanges,
    *,
    actor: str,
    now: datetime,
    options: PipelineOptions,
) -> TicketRecord:
    """Apply the changes that differ from the ticket (dues follow a new priority), with an
    audit event; the ticket as it now is."""
    columns: dict[str, Any] = {}
    for name in ("status", "priority", "category", "visibility"):
        value = getattr(changes, name)
        if value is not None and value != getattr(ticket, name):
            columns[name] = value
    if "priority" in columns:
        columns["first_response_due"], columns["resolution_due"] = options.dues(
            columns["priority"], ticket.created_at
        )
    if changes.assignee is not None and changes.assignee.email != ticket.assignee_email:
        columns["assignee_id"] = changes.assignee.id
    elif changes.unassign and ticket.assignee_email is not None:
        columns["assignee_id"] = None
    if not columns:
        return ticket
    updated = tickets.update_ticket(session, ticket.id, now, **columns)
    shown = {k: v for k, v in columns.items() if k not in ("first_response_due", "resolution_due")}
    if "assignee_id" in shown:
        shown.pop("assignee_id")
        shown["assignee"] = updated.assignee
    audit.record(
        session,
        ticket.id,
        at=now,
        actor=actor,
        action="api_update",
        details={"changes": {k: str(v) for k, v in shown.items()}, "from_status": ticket.status},
    )
    webhooks.ticket_changed(
        session, options.webhooks, ticket, updated, now=now, actor=actor, reason="api"
    )
    if "assignee_id" in columns and updated.assignee_email:
        Notices(session, options, now, None).assignment_notice(
            updated, updated.assignee_email, actor
        )
    return updated


def add_comment(
    session: Session,
    ticket: TicketRecord,
    new: ApiComment,
    *,
    actor: str,
    now: datetime,
    options: PipelineOptions,
) -> CommentRecord:
    """The comment, its body redacted; a public one is relayed to the ticket's requester and
    watchers like a staff member's reply (an outbox row each, Reply-To their reply token)."""
    redaction = redact_text(new.body)
    body = strip(redaction.text)
    author = new.author.email if new.author else actor
    comment = comments.add_comment(
        session,
        ticket.id,
        NewComment(
            author_email=author,
            author_role="staff",
            public=new.public,
            body=body,
            full_text=redaction.text,
            html=None,
            created_at=now,
            redactions=redaction.counts(),
            notes={"via": actor},
        ),
    )
    audit.record(
        session,
        ticket.id,
        at=now,
        actor=actor,
        action="api_comment",
        details={"public": new.public, "comment_id": comment.id},
    )
    if new.public:
        if ticket.first_responded_at is None:
            ticket = tickets.update_ticket(session, ticket.id, now, first_responded_at=now)
        # Without an author, the desk itself answers (as the token's holder).
        staff = new.author or StaffRecord(0, options.desk_name, actor)
        notices = Notices(session, options, now, None)
        relayed_to = notices.staff_reply(ticket, staff, body)
        facts = {
            "relayed_to": relayed_to,
            "attachments": [],
            "blocked_attachments": [],
            "changes": {},
        }
        notices.staff_reply_copy(ticket, staff, body, facts)
    webhooks.comment_created(session, options.webhooks, ticket, comment, now=now)
    return comment
