"""Mail from a staff address: verified replies act (commands, relay); unverified ones only note.

A From header is easy to forge, so a staff mail acts as staff only when verified (see
`ingest.decide.actions`). An unverified one is kept as an internal note marked "unverified
sender", changes nothing, relays nothing, and ops is told. A verified forward of a customer's
mail opens the customer's ticket (`ingest.decide.forward`).
"""

from __future__ import annotations

from typing import Any

from ingest.decide import record, thread
from ingest.decide.commands import read_staff_commands
from ingest.decide.context import Context, Decision
from ingest.decide.create import create_ticket
from ingest.decide.forward import forwarded_sender, ticket_for_forwarded_customer
from ingest.decide.thread import ThreadMatch
from ingest.model import Outcome
from ingest.redact.derived import strip
from store import directory, tickets, webhooks
from store.records import CommentRecord, TicketRecord


def _is_customer(ctx: Context, address: str) -> bool:
    """Neither staff nor one of the desk's own addresses."""
    support = ctx.options.support_set
    return address not in support and directory.staff_by_email(ctx.session, address) is None


def staff_mail(ctx: Context, match: ThreadMatch | None, verified: tuple[bool, str]) -> Decision:
    ok, why = verified
    staff = ctx.sender.staff
    assert staff is not None
    if match is None:
        number = thread.named_number(
            ctx.parsed.subject, ctx.recipients, ctx.options.ticket_prefix, ctx.options.support_set
        )
        if number is not None:
            ctx.notices.not_found(ctx.sender.email, number, ctx.content.subject)
            return Decision(
                Outcome.REJECTED,
                None,
                f"rejected: staff mail names {number}, which does not exist",
            )
        original = forwarded_sender(ctx.parsed) if ok else None
        if original is not None and _is_customer(ctx, original[1]):
            return ticket_for_forwarded_customer(ctx, *original)
        return create_ticket(ctx)
    ticket = match.ticket
    via = f"matched by {match.via}"
    if not ok:
        note = record.add_comment(
            ctx,
            ticket.id,
            role="staff",
            public=False,
            body=ctx.content.visible,
            notes={"unverified_sender": why},
            keep_html=False,
            keep_attachments=False,
        )
        record.audit(ctx, ticket.id, "unverified_staff_mail", {"why": why})
        _events(ctx, ticket, ticket, note)
        ctx.notices.unverified_staff(ticket, ctx.sender.email, why)
        return Decision(
            Outcome.COMMENTED,
            ticket,
            f"commented: {via}; internal note, unverified staff sender ({why})",
        )
    commands = read_staff_commands(ctx.content.visible)
    changes: dict[str, Any] = {}
    notes: dict[str, Any] = {"verified_by": why}
    if commands.invalid:
        notes["invalid_commands"] = list(commands.invalid)
    if commands.status and commands.status != ticket.status:
        changes["status"] = commands.status
    if commands.priority and commands.priority != ticket.priority:
        changes["priority"] = commands.priority
        first_due, resolution_due = ctx.options.dues(commands.priority, ticket.created_at)
        changes["first_response_due"], changes["resolution_due"] = first_due, resolution_due
    if commands.assign:
        assignee = directory.staff_by_name(ctx.session, commands.assign)
        if assignee is None:
            notes.setdefault("invalid_commands", []).append(
                f"#assign {commands.assign}: no such staff"
            )
        else:
            changes["assignee_id"] = assignee.id
    public = not commands.internal
    body = strip(commands.body)
    comment = None
    if body or not commands.any:
        comment = record.add_comment(
            ctx, ticket.id, role="staff", public=public, body=body, notes=notes
        )
    if public and body and ticket.first_responded_at is None:
        changes["first_responded_at"] = ctx.received_at
    if changes:
        updated = tickets.update_ticket(ctx.session, ticket.id, ctx.now, **changes)
        shown = {
            k: str(v)
            for k, v in changes.items()
            if k not in ("first_response_due", "resolution_due")
        }
        record.audit(
            ctx, ticket.id, "staff_update", {"changes": shown, "from_status": ticket.status}
        )
        ticket = updated
    if ctx.content.credential_exposed:
        tickets.set_flag(ctx.session, ticket.id, "credential_exposed", ctx.now)
    _events(ctx, match.ticket, ticket, comment)
    if public and body:
        ctx.notices.staff_reply(ticket, staff.name, body)
    kind = (
        "public reply relayed" if public and body else "internal note" if body else "commands only"
    )
    applied = ", ".join(
        f"{k}={v}" for k, v in changes.items() if k in ("status", "priority", "assignee_id")
    )
    return Decision(
        Outcome.COMMENTED,
        ticket,
        f"commented: {via}; staff {kind}" + (f"; {applied}" if applied else ""),
    )


def _events(
    ctx: Context, before: TicketRecord, after: TicketRecord, comment: CommentRecord | None
) -> None:
    """The webhook events of a staff mail: its comment (reply or note), and what its
    commands changed (status, priority, assignee)."""
    hooks = ctx.options.webhooks
    if comment is not None:
        webhooks.comment_created(ctx.session, hooks, after, comment, now=ctx.now)
    actor = ctx.sender.email
    webhooks.ticket_updated(ctx.session, hooks, before, after, now=ctx.now, actor=actor)
    if after.status == "escalated" != before.status:
        webhooks.ticket_escalated(
            ctx.session, hooks, after, now=ctx.now, reason="staff", actor=actor
        )
