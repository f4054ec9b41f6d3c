"""A new ticket from a person's mail: fields, organisation, SLA, watchers, attachments, notices."""

from __future__ import annotations

from typing import Any

from ingest.decide import record
from ingest.decide.commands import PRIORITIES, read_field_lines
from ingest.decide.context import Context, Decision
from ingest.decide.language import language_of_mail
from ingest.decide.notices import summary
from ingest.decide.policy import may_watch, partner_clients
from ingest.model import Outcome
from ingest.redact.derived import NO_SUBJECT, NO_TEXT, or_placeholder, strip
from store import directory, subscribers, tickets, webhooks
from store.records import TicketRecord
from store.tickets import AUTOMATED_FLAG, NewTicket


def _duration_text(seconds: float) -> str:
    hours = seconds / 3600
    if hours <= 48 or hours % 24:
        return f"{hours:g} hour" + ("" if hours == 1 else "s")
    days = hours / 24
    return f"{days:g} day" + ("" if days == 1 else "s")


def _requester(ctx: Context) -> tuple[int, int | None]:
    """The requester's contact id (created when the sender is not a contact yet) and org."""
    sender = ctx.sender
    if sender.contact is not None:
        return sender.contact.id, sender.contact.organisation_id
    contact = directory.create_contact(
        ctx.session, sender.email, sender.name, sender.organisation_id, ctx.now
    )
    return contact.id, contact.organisation_id


def create_ticket(ctx: Context, *, related: TicketRecord | None = None) -> Decision:
    """Open a ticket; `related` is a closed ticket this mail answered too late to reopen."""
    options = ctx.options
    fields = read_field_lines(ctx.content.full_text, options.categories, options.custom_fields)
    ignored = [{"line": line, "reason": reason} for line, reason in fields.ignored]
    requester_id, organisation_id = _requester(ctx)
    if fields.organisation:
        target = directory.organisation_id_by_name(ctx.session, fields.organisation)
        if target is not None and target in partner_clients(ctx.session, ctx.sender):
            organisation_id = target
        else:
            ignored.append(
                {
                    "line": f"Organisation: {fields.organisation}",
                    "reason": "not an organisation you may open tickets for",
                }
            )
    priority, lowered = _allowed_priority(ctx, fields.priority, organisation_id)
    category = (
        fields.category
        or options.support_addresses.get(ctx.support_address)
        or (options.default_category)
    )
    first_due, resolution_due = options.dues(priority, ctx.received_at)
    ticket = tickets.create_ticket(
        ctx.session,
        NewTicket(
            prefix=options.ticket_prefix,
            subject=or_placeholder(ctx.content.subject, NO_SUBJECT),
            priority=priority,
            category=category,
            visibility=fields.visibility or "organisation",
            organisation_id=organisation_id,
            requester_id=requester_id,
            support_address=ctx.support_address,
            created_at=ctx.received_at,
            first_response_due=first_due,
            resolution_due=resolution_due,
            call_reference=fields.call_reference,
            fields=fields.custom,
            related_ticket_id=related.id if related else None,
            language=language_of_mail(ctx, organisation_id),
        ),
    )
    body = or_placeholder(strip(fields.body), NO_TEXT)
    notes = _notes(ctx, ignored, fields.custom)
    if lowered is not None:
        notes["priority_lowered"] = {"requested": lowered, "applied": priority}
    comment, files = record.add_comment(
        ctx, ticket.id, role="customer", public=True, body=body, notes=notes
    )
    watchers = add_watchers(ctx, ticket)
    if ctx.content.credential_exposed:
        tickets.set_flag(ctx.session, ticket.id, "credential_exposed", ctx.now)
    if ctx.automated:
        tickets.set_flag(ctx.session, ticket.id, AUTOMATED_FLAG, ctx.now)
    record.audit(
        ctx,
        ticket.id,
        "created",
        {
            "priority": priority,
            "priority_requested": lowered,
            "category": category,
            "watchers": watchers,
            "related": related.number if related else None,
            "redactions": ctx.content.redactions,
        },
    )
    ticket = tickets.get_ticket(ctx.session, ticket.id)
    webhooks.ticket_created(ctx.session, ctx.options.webhooks, ticket, comment, now=ctx.now)
    first_target, resolution_target = options.sla_targets[priority]
    ctx.notices.confirmation(
        ticket,
        {
            "summary": summary(body),
            "sla": {
                "first_response": _duration_text(first_target.total_seconds()),
                "resolution": _duration_text(resolution_target.total_seconds()),
            },
            "notes": notes,
            "related": related.number if related else None,
        },
    )
    ctx.notices.new_ticket_notice(
        ticket,
        body,
        ctx.sender.name or ctx.sender.email,
        record.files_context(files),
        record.blocked_context(ctx),
    )
    if related is not None:
        reason = f"created: reply to {related.number}, closed beyond the reopen window"
    else:
        reason = "created: new ticket" + (
            " (sender added as contact)" if ctx.sender.contact is None else ""
        )
    return Decision(Outcome.CREATED, ticket, reason)


def _allowed_priority(
    ctx: Context, requested: str | None, organisation_id: int | None
) -> tuple[str, str | None]:
    """(the priority to set, the one asked for when it was lowered to the customer's highest:
    the organisation's `max_priority`, else `[desk] customer_max_priority`). Staff may set any."""
    if requested is None:
        return "medium", None
    if ctx.sender.staff is not None:
        return requested, None
    highest = ctx.options.customer_max_priority
    if organisation_id is not None:
        highest = directory.organisation_max_priority(ctx.session, organisation_id) or highest
    if PRIORITIES.index(requested) < PRIORITIES.index(highest):
        return highest, requested
    return requested, None


def _notes(ctx: Context, ignored: list[dict[str, str]], custom: dict[str, str]) -> dict[str, Any]:
    return {
        "fields": dict(custom),
        "redactions": ctx.content.redactions,
        "credential_exposed": ctx.content.credential_exposed,
        "dropped_attachments": [
            {"filename": d.filename, "reason": d.reason} for d in ctx.content.dropped
        ],
        "ignored_fields": ignored,
        "defects": list(ctx.content.defects),
    }


def add_watchers(ctx: Context, ticket: TicketRecord) -> list[str]:
    """CC addresses that may see the ticket become watchers; returns those added."""
    added = []
    support = ctx.options.support_set
    for address in ctx.parsed.cc:
        email = address.email
        base = email.partition("+")[0] + "@" + email.rpartition("@")[2]
        if not email or email == ctx.sender.email or base in support or email in support:
            continue
        if may_watch(ctx.session, email, ticket) and subscribers.add_watcher(
            ctx.session, ticket.id, email
        ):
            added.append(email)
    return added
