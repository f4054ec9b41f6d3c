"""Template contexts for the rows the scheduler writes: the SLA states and the digest's ticket
lines (docs/architecture.md gives the shapes; a ticket's own is `store.records.TicketSnapshot`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notify.sla import SlaOptions, reminder_time
from store.records import OutboxRecord, TicketRecord, iso


@dataclass(frozen=True, slots=True)
class SlaState:
    """Where one ticket's SLA clock stands at an instant, for one target."""

    target: str  # first_response | resolution
    due: datetime
    breached: bool
    reminder_due: bool


def sla_states(ticket: TicketRecord, now: datetime, sla: SlaOptions) -> list[SlaState]:
    """The running SLA targets of an active ticket at `now`.

    The first-response clock runs until a staff member replies publicly; the resolution
    clock runs until the ticket is resolved and is paused while waiting on the customer.
    """
    states: list[SlaState] = []
    if ticket.status in ("resolved", "closed"):
        return states
    targets: list[tuple[str, datetime | None]] = []
    if ticket.first_responded_at is None:
        targets.append(("first_response", ticket.first_response_due))
    if ticket.status != "waiting_on_customer":
        targets.append(("resolution", ticket.resolution_due))
    for target, due in targets:
        if due is None:
            continue
        remind = reminder_time(ticket.created_at, due, sla.reminder_at, sla.calendar)
        states.append(SlaState(target, due, now >= due, now >= remind))
    return states


def digest_line(ticket: TicketRecord, state: SlaState | None) -> dict[str, Any]:
    """One ticket line of a digest."""
    due = state.due if state else (ticket.first_response_due or ticket.resolution_due)
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee,
        "requester": ticket.requester,
        "target": state.target if state else "resolution",
        "due": iso(due),
    }


def dead_line(row: OutboxRecord) -> dict[str, Any]:
    """One undeliverable outbox row in a digest."""
    ticket = row.context.get("ticket")
    return {
        "id": row.id,
        "kind": row.kind,
        "ticket": ticket.get("number") if isinstance(ticket, dict) else None,
        "to": row.recipient,
        "last_error": row.last_error,
    }
