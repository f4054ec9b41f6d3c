"""A backlog's decision (`postdesk import`): the ticket flagged as imported, given the status
the import asks for, and its SLA steps that fell due before the import marked as done.

An imported ticket keeps the dates of its mail, so its SLA clocks stand as they were; a
target that passed before the import is not escalated afterwards (no mail to anyone), the
ticket shows as breached in the digest instead.
"""

from __future__ import annotations

from datetime import datetime

from ingest.decide.context import Context, Decision
from ingest.model import Outcome
from store import audit, sweeps, tickets

IMPORTED_FLAG = "imported"


def as_imported(
    ctx: Context,
    decision: Decision,
    now: datetime,
    status: str | None,
    dating: str | None,
) -> Decision:
    """A backlog's ticket: flagged, given the status the import asks for, and its SLA
    steps that fell due before the import marked done (no reminder, no escalation)."""
    ticket = decision.ticket
    if ticket is None or decision.outcome not in (Outcome.CREATED, Outcome.COMMENTED):
        return decision
    if decision.outcome is Outcome.CREATED:
        tickets.set_flag(ctx.session, ticket.id, IMPORTED_FLAG, ctx.now)
        for target, due in (
            ("first_response", ticket.first_response_due),
            ("resolution", ticket.resolution_due),
        ):
            if status != "closed" and due is not None and due <= now:
                sweeps.claim_step(ctx.session, sweeps.breach_step(ticket.id, target), now)
    elif IMPORTED_FLAG not in ticket.flags:
        return decision  # a reply to a ticket the desk had before: left as decided
    reason = decision.reason + (f"; {dating}" if dating else "")
    if status and status != ticket.status:
        previous = ticket.status
        ticket = tickets.update_ticket(ctx.session, ticket.id, ctx.now, status=status)
        audit.record(
            ctx.session,
            ticket.id,
            at=ctx.now,
            actor="import",
            action="status",
            details={"from": previous, "to": status, "reason": "imported"},
            inbound_message_id=ctx.message_row_id,
        )
        reason += f"; imported as {status}"
    return Decision(decision.outcome, tickets.get_ticket(ctx.session, ticket.id), reason)
