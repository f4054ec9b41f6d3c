"""A customer's mail on an existing ticket: mute, escalate, reopen, comment, watchers, notices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.decide import record
from ingest.decide.commands import read_escalation, read_mute
from ingest.decide.create import add_watchers, create_ticket
from ingest.decide.thread import ThreadMatch
from ingest.model import Outcome
from store import tickets

if TYPE_CHECKING:
    from ingest.decide.actions import Context, Decision

BALL_BACK_STATUSES = ("waiting_on_customer", "resolved")


def customer_comment(c: Context, match: ThreadMatch) -> Decision:
    ticket = match.ticket
    via = f"matched by {match.via}"
    text = c.content.visible
    mute = read_mute(text)
    if mute is not None:
        if tickets.set_muted(c.session, ticket.id, c.sender.email, mute):
            record.audit(c, ticket.id, "muted" if mute else "unmuted")
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
    notes = {
        "dropped_attachments": [
            {"filename": d.filename, "reason": d.reason} for d in c.content.dropped
        ],
        "defects": list(c.parsed.defects),
    }
    comment = record.add_comment(
        c, ticket.id, role="customer", public=True, body=text.strip(), notes=notes
    )
    escalation = read_escalation(text)
    if escalation is not None:
        new_status = "escalated"
    elif reopened or previous in BALL_BACK_STATUSES:
        new_status = "open"
    else:
        new_status = previous
    if new_status != previous:
        tickets.update_ticket(c.session, ticket.id, c.now, status=new_status)
        record.audit(
            c,
            ticket.id,
            "status",
            {
                "from": previous,
                "to": new_status,
                "reason": "escalation requested" if escalation else "customer reply",
            },
        )
    watchers = add_watchers(c, ticket)
    if c.content.credential_exposed:
        tickets.set_flag(c.session, ticket.id, "credential_exposed", c.now)
    record.audit(
        c,
        ticket.id,
        "commented",
        {"public": True, "watchers_added": watchers, "redactions": c.content.redactions},
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
