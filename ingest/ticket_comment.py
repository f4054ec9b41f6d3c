"""A customer's mail on an existing ticket: mute, escalate, reopen, comment, watchers, notices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.attachments import store_attachments
from ingest.commands import read_escalation, read_mute
from ingest.model import Outcome
from ingest.thread import ThreadMatch
from ingest.ticket_create import add_watchers, create_ticket
from store import tickets
from store.tickets import NewComment

if TYPE_CHECKING:
    from ingest.actions import Context, Decision

BALL_BACK_STATUSES = ("waiting_on_customer", "resolved")


def customer_comment(c: Context, match: ThreadMatch) -> Decision:
    ticket = match.ticket
    via = f"matched by {match.via}"
    text = c.content.visible
    mute = read_mute(text)
    if mute is not None:
        if tickets.set_muted(c.session, ticket.id, c.sender.email, mute):
            tickets.audit(
                c.session,
                ticket.id,
                at=c.now,
                actor=c.sender.email,
                action="muted" if mute else "unmuted",
                inbound_message_id=c.message_row_id,
            )
            c.notices.mute_notice(ticket, c.sender.email, mute)
        text = "\n".join(text.strip().split("\n")[1:]).strip()
        if not text and not c.content.attachments:
            word = "muted" if mute else "unmuted"
            return Outcome.COMMENTED, ticket, f"{via}; {word} by {c.sender.email}"
    previous = ticket.status
    reopened = False
    if previous == "closed":
        window_end = ticket.status_changed_at + c.options.reopen_window
        if c.received_at > window_end:
            return create_ticket(c, related=ticket)
        reopened = True
    comment = tickets.add_comment(
        c.session,
        ticket.id,
        NewComment(
            author_email=c.sender.email,
            author_role="customer",
            public=True,
            body=text.strip() or "(no text)",
            full_text=c.content.full_text,
            html=c.content.html,
            created_at=c.received_at,
            redactions=c.content.redactions,
            notes={
                "dropped_attachments": [
                    {"filename": d.filename, "reason": d.reason} for d in c.content.dropped
                ],
                "defects": list(c.parsed.defects),
            },
            inbound_message_id=c.message_row_id,
        ),
    )
    store_attachments(c, ticket.id, comment.id)
    escalation = read_escalation(text)
    if escalation is not None:
        new_status = "escalated"
    elif reopened or previous in BALL_BACK_STATUSES:
        new_status = "open"
    else:
        new_status = previous
    if new_status != previous:
        tickets.update_ticket(c.session, ticket.id, c.now, status=new_status)
        tickets.audit(
            c.session,
            ticket.id,
            at=c.now,
            actor=c.sender.email,
            action="status",
            details={
                "from": previous,
                "to": new_status,
                "reason": "escalation requested" if escalation else "customer reply",
            },
            inbound_message_id=c.message_row_id,
        )
    watchers = add_watchers(c, ticket)
    if c.content.credential_exposed:
        tickets.set_flag(c.session, ticket.id, "credential_exposed", c.now)
    tickets.audit(
        c.session,
        ticket.id,
        at=c.now,
        actor=c.sender.email,
        action="commented",
        details={"public": True, "watchers_added": watchers, "redactions": c.content.redactions},
        inbound_message_id=c.message_row_id,
    )
    ticket = tickets.get_ticket(c.session, ticket.id)
    if escalation is not None:
        c.notices.escalation_requested(ticket, escalation)
    c.notices.comment_notice(
        ticket, c.sender.email, comment.body, reopened=reopened, previous_status=previous
    )
    if c.content.redactions:
        c.notices.redaction_notice(
            ticket, c.sender.email, c.content.redactions, c.content.credential_exposed
        )
    reason = f"commented: {via}"
    if reopened:
        reason += "; reopened (within the reopen window)"
    elif new_status != previous:
        reason += f"; status {previous} -> {new_status}"
    return Outcome.COMMENTED, ticket, reason
