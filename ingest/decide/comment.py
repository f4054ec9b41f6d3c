"""A customer's mail on an existing ticket: mute, escalate, reopen, comment, watchers, notices."""

from __future__ import annotations

from ingest.decide import record
from ingest.decide.commands import read_escalation, read_mute
from ingest.decide.context import Context, Decision
from ingest.decide.create import add_watchers, create_ticket
from ingest.decide.thread import ThreadMatch
from ingest.model import Outcome
from ingest.redact.derived import strip, without_head
from store import subscribers, tickets, webhooks
from store.records import CommentRecord, TicketRecord

BALL_BACK_STATUSES = ("waiting_on_customer", "resolved")


def customer_comment(ctx: Context, match: ThreadMatch) -> Decision:
    ticket = match.ticket
    via = f"matched by {match.via}"
    text = ctx.content.visible
    mute = read_mute(text)
    if mute is not None:
        if subscribers.set_muted(ctx.session, ticket.id, ctx.sender.email, mute):
            record.audit(ctx, ticket.id, "muted" if mute else "unmuted")
            ctx.notices.mute_notice(ticket, ctx.sender.email, mute)
        text = strip(without_head(text, 1))  # the mute line
        if not text and not ctx.content.attachments:
            word = "muted" if mute else "unmuted"
            return Decision(Outcome.COMMENTED, ticket, f"{via}; {word} by {ctx.sender.email}")
    previous = ticket.status
    before = ticket
    reopened = False
    if previous == "closed":
        window_end = ticket.status_changed_at + ctx.options.reopen_window
        if ctx.received_at > window_end:
            return create_ticket(ctx, related=ticket)
        reopened = True
    notes = {
        "dropped_attachments": [
            {"filename": d.filename, "reason": d.reason} for d in ctx.content.dropped
        ],
        "defects": list(ctx.content.defects),
    }
    comment, files = record.add_comment(
        ctx, ticket.id, role="customer", public=True, body=strip(text), notes=notes
    )
    escalation = read_escalation(text)
    if escalation is not None:
        new_status = "escalated"
    elif reopened or previous in BALL_BACK_STATUSES:
        new_status = "open"
    else:
        new_status = previous
    if new_status != previous:
        tickets.update_ticket(ctx.session, ticket.id, ctx.now, status=new_status)
        record.audit(
            ctx,
            ticket.id,
            "status",
            {
                "from": previous,
                "to": new_status,
                "reason": "escalation requested" if escalation else "customer reply",
            },
        )
    watchers = add_watchers(ctx, ticket)
    if ctx.content.credential_exposed:
        tickets.set_flag(ctx.session, ticket.id, "credential_exposed", ctx.now)
    record.audit(
        ctx,
        ticket.id,
        "commented",
        {"public": True, "watchers_added": watchers, "redactions": ctx.content.redactions},
    )
    ticket = tickets.get_ticket(ctx.session, ticket.id)
    _events(ctx, before, ticket, comment)
    if escalation is not None:
        ctx.notices.escalation_requested(ticket, escalation)
    ctx.notices.comment_notice(
        ticket,
        ctx.sender.email,
        comment.body,
        reopened=reopened,
        previous_status=previous,
        files=record.files_context(files),
        blocked=record.blocked_context(ctx),
    )
    if ctx.content.redactions:
        ctx.notices.redaction_notice(
            ticket, ctx.sender.email, ctx.content.redactions, ctx.content.credential_exposed
        )
    reason = f"commented: {via}"
    if reopened:
        reason += "; reopened (within the reopen window)"
    elif new_status != previous:
        reason += f"; status {previous} -> {new_status}"
    return Decision(Outcome.COMMENTED, ticket, reason)


def _events(
    ctx: Context, before: TicketRecord, after: TicketRecord, comment: CommentRecord
) -> None:
    """The webhook events of a customer's comment: the comment, and the status it changed
    (an escalation only the customer's "Escalation" line makes)."""
    hooks, actor = ctx.options.webhooks, ctx.sender.email
    webhooks.comment_created(ctx.session, hooks, after, comment, now=ctx.now)
    webhooks.ticket_changed(
        ctx.session, hooks, before, after, now=ctx.now, actor=actor, reason="customer_request"
    )
