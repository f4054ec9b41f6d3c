"""Mail from a staff address: verified replies act (commands, relay); unverified ones only note.

A From header is easy to forge, so a staff mail acts as staff only when verified (see
`ingest.decide.actions`). An unverified one is kept as an internal note marked "unverified
sender", changes nothing, relays nothing; ops is told, and so is the staff member (at their
directory address), with the reply-token address to answer instead. A verified public reply
goes to the customer with the agent's attachments, a copy goes to the colleagues, a new
assignee is told, and invalid command lines are reported to the agent. A verified forward of a
customer's mail opens the customer's ticket (`ingest.decide.forward`).
"""

from __future__ import annotations

from typing import Any

from ingest.decide import record, thread
from ingest.decide.context import Context, Decision
from ingest.decide.create import create_ticket
from ingest.decide.forward import forwarded_sender, ticket_for_forwarded_customer
from ingest.decide.staff_commands import VALID_FORMS, StaffCommands, read_staff_commands
from ingest.decide.thread import ThreadMatch
from ingest.model import Outcome
from ingest.redact.derived import strip
from store import directory, subscribers, tickets, webhooks
from store.directory import StaffRecord
from store.records import AttachmentRecord, CommentRecord, TicketRecord
from store.reply_tokens import reply_address


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
    via = f"matched by {match.via}"
    if not ok:
        return _unverified(ctx, match.ticket, via, why)
    return _verified(ctx, match.ticket, via, why)


def _unverified(ctx: Context, ticket: TicketRecord, via: str, why: str) -> Decision:
    """An internal note that changes nothing; ops and the staff member's own mailbox are told."""
    staff = ctx.sender.staff
    assert staff is not None
    note, _ = record.add_comment(
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
    commands = read_staff_commands(ctx.content.visible, ctx.options.categories)
    ctx.notices.unverified_staff_reply(
        ticket,
        staff,
        {
            "why": why,
            "commands": list(commands.lines),
            "relayed": bool(strip(commands.body)) and not commands.internal,
            "attachments": [a.filename for a in ctx.content.attachments],
            "reply_address": reply_address(
                ctx.options.secret_key, ticket.support_address, ticket.number, staff.email
            ),
        },
    )
    return Decision(
        Outcome.COMMENTED,
        ticket,
        f"commented: {via}; internal note, unverified staff sender ({why})",
    )


def _verified(ctx: Context, ticket: TicketRecord, via: str, why: str) -> Decision:
    staff = ctx.sender.staff
    assert staff is not None
    commands = read_staff_commands(ctx.content.visible, ctx.options.categories)
    notes: dict[str, Any] = {"verified_by": why}
    changes, invalid, assignee = _changes(ctx, ticket, commands)
    watchers = [a for a in commands.cc if _add_watcher(ctx, ticket, a)]
    if invalid:
        notes["invalid_commands"] = [f"{line}: {problem}" for line, problem in invalid]
    public = not commands.internal
    body = strip(commands.body)
    files: list[AttachmentRecord] = []
    comment: CommentRecord | None = None
    if body or ctx.content.attachments or not commands.any:
        comment, files = record.add_comment(
            ctx, ticket.id, role="staff", public=public, body=body, notes=notes
        )
    relayed = public and bool(body or files)
    if relayed and ticket.first_responded_at is None:
        changes["first_responded_at"] = ctx.received_at
    previous, before = ticket.status, ticket
    if changes:
        ticket = tickets.update_ticket(ctx.session, ticket.id, ctx.now, **changes)
    if changes or watchers:
        record.audit(
            ctx,
            ticket.id,
            "staff_update",
            {"changes": _shown(changes), "from_status": previous, "watchers_added": watchers},
        )
    if ctx.content.credential_exposed:
        tickets.set_flag(ctx.session, ticket.id, "credential_exposed", ctx.now)
        ticket = tickets.get_ticket(ctx.session, ticket.id)
    _events(ctx, before, ticket, comment)
    _notify(
        ctx,
        ticket,
        staff=staff,
        relayed_body=body if relayed else None,
        files=files,
        changes=changes,
        assignee=assignee,
    )
    if invalid:
        ctx.notices.command_problems(ticket, staff.email, invalid, VALID_FORMS)
    kind = "public reply relayed" if relayed else "internal note" if body else "commands only"
    applied = ", ".join(f"{k}={v}" for k, v in _shown(changes).items() if k in _REPORTED)
    if invalid:
        applied += ("; " if applied else "") + f"{len(invalid)} invalid command(s) reported"
    return Decision(
        Outcome.COMMENTED,
        ticket,
        f"commented: {via}; staff {kind}" + (f"; {applied}" if applied else ""),
    )


_REPORTED = ("status", "priority", "assignee_id", "category", "visibility")


def _changes(
    ctx: Context, ticket: TicketRecord, commands: StaffCommands
) -> tuple[dict[str, Any], list[tuple[str, str]], StaffRecord | None]:
    """The ticket columns the commands change, the invalid lines, and a new assignee."""
    staff = ctx.sender.staff
    assert staff is not None
    changes: dict[str, Any] = {}
    invalid = list(commands.invalid)
    assignee = None
    if commands.status and commands.status != ticket.status:
        changes["status"] = commands.status
    if commands.priority and commands.priority != ticket.priority:
        changes["priority"] = commands.priority
        first_due, resolution_due = ctx.options.dues(commands.priority, ticket.created_at)
        changes["first_response_due"], changes["resolution_due"] = first_due, resolution_due
    if commands.assign:
        wanted = commands.assign
        found = staff if wanted.lower() == "me" else directory.staff_by_name(ctx.session, wanted)
        if found is None:
            invalid.append((f"#assign {wanted}", "no staff member of that name or address"))
        elif found.email != ticket.assignee_email:
            changes["assignee_id"] = found.id
            assignee = found
    elif commands.unassign and ticket.assignee_email is not None:
        changes["assignee_id"] = None
    if commands.category and commands.category != ticket.category:
        changes["category"] = commands.category
    if commands.visibility and commands.visibility != ticket.visibility:
        changes["visibility"] = commands.visibility
    return changes, invalid, assignee


def _add_watcher(ctx: Context, ticket: TicketRecord, address: str) -> bool:
    """`#cc ADDRESS`: a staff member's choice, so no visibility check; never a desk address."""
    base = address.partition("+")[0] + "@" + address.rpartition("@")[2]
    if address in ctx.options.support_set or base in ctx.options.support_set:
        return False
    return subscribers.add_watcher(ctx.session, ticket.id, address)


def _shown(changes: dict[str, Any]) -> dict[str, str]:
    hidden = ("first_response_due", "resolution_due", "first_responded_at")
    return {k: str(v) for k, v in changes.items() if k not in hidden}


def _notify(
    ctx: Context,
    ticket: TicketRecord,
    *,
    staff: StaffRecord,
    relayed_body: str | None,
    files: list[AttachmentRecord],
    changes: dict[str, Any],
    assignee: StaffRecord | None,
) -> None:
    """The relay to the customer, the colleagues' copy, and the new assignee's notice."""
    if relayed_body is not None:
        attached = record.files_context(files)
        relayed_to = ctx.notices.staff_reply(ticket, staff, relayed_body, attached)
        facts = {
            "relayed_to": relayed_to,
            "attachments": attached,
            "blocked_attachments": record.blocked_context(ctx),
            "changes": {k: v for k, v in _shown(changes).items() if k != "assignee_id"},
        }
        ctx.notices.staff_reply_copy(ticket, staff, relayed_body, facts)
    if assignee is not None and assignee.email != staff.email:
        ctx.notices.assignment_notice(ticket, assignee.email, staff.shown_name)


def _events(
    ctx: Context, before: TicketRecord, after: TicketRecord, comment: CommentRecord | None
) -> None:
    """The webhook events of a staff mail: its comment (reply or note), and what its
    commands changed (status, priority, assignee, category, visibility)."""
    hooks = ctx.options.webhooks
    if comment is not None:
        webhooks.comment_created(ctx.session, hooks, after, comment, now=ctx.now)
    webhooks.ticket_changed(
        ctx.session, hooks, before, after, now=ctx.now, actor=ctx.sender.email, reason="staff"
    )
