"""The sweep: every time-driven action due at an instant, in one locked transaction.

`sweep(db, now, options)` sends SLA reminders (at `reminder_at` of the first-response
target while nobody replied publicly, then of the resolution target), escalates at breach
(status `escalated`, an audit event, notices to ops and the requester), reminds requesters
of tickets waiting on them and closes them later, and closes resolved tickets after N days.
Each notice is an outbox row with a dedupe key per (ticket, kind, step) and each status
change is guarded by a one-off step marker, so re-running a sweep does nothing twice and a
sweep after downtime catches up on everything that fell due meanwhile.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from notify.context import SlaState, sla_states
from notify.options import SweepOptions
from store import audit, subscribers, sweeps, webhooks
from store.db import Database
from store.outbox import NewMail, enqueue
from store.records import TicketRecord, iso
from store.tickets import AUTOMATED_FLAG, update_ticket

log = logging.getLogger(__name__)
SWEEP_LOCK = "postdesk.sweep"
ACTOR = "scheduler"


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep did; `ran` is False when another sweep held the lock."""

    ran: bool = True
    reminders: int = 0
    escalations: int = 0
    waiting_reminders: int = 0
    closed: int = 0
    mails: int = 0
    tickets_seen: int = 0


@dataclass(slots=True)
class _Counts:
    reminders: int = 0
    escalations: int = 0
    waiting_reminders: int = 0
    closed: int = 0
    mails: int = 0
    tickets_seen: int = 0


class _Sweeper:
    def __init__(self, session: Session, now: datetime, options: SweepOptions) -> None:
        self.session, self.now, self.options = session, now, options
        self.report = _Counts()

    def mail(self, kind: str, to: str | None, ticket: TicketRecord, key: str, **extra: Any) -> None:
        if not to:
            return
        row = NewMail(
            kind=kind,
            recipient=to,
            context={"in_reply_to": None, **extra},
            ticket_id=ticket.id,
            ticket=ticket.snapshot(),
            dedupe_key=key,
        )
        if enqueue(
            self.session, row, now=self.now, message_id_domain=self.options.message_id_domain
        ):
            self.report.mails += 1

    def requester_mail(self, kind: str, ticket: TicketRecord, key: str, **extra: Any) -> None:
        if AUTOMATED_FLAG in ticket.flags:
            return  # opened by automated mail (an alert): its sender is never answered
        muted = {s.email for s in subscribers.of_ticket(self.session, ticket.id) if s.muted}
        if ticket.requester.lower() not in muted:
            self.mail(kind, ticket.requester, ticket, key, **extra)

    def staff_address(self, ticket: TicketRecord) -> str | None:
        if ticket.assignee_email:
            return ticket.assignee_email
        if self.options.team_address:
            return self.options.team_address
        return self.options.digest_to[0] if self.options.digest_to else None

    def sla(self, ticket: TicketRecord) -> None:
        for state in sla_states(ticket, self.now, self.options.sla):
            if state.breached:
                ticket = self.escalate(ticket, state)
            elif state.reminder_due:
                before = self.report.mails
                self.mail(
                    "sla_reminder",
                    self.staff_address(ticket),
                    ticket,
                    f"sla_reminder:{ticket.id}:{state.target}",
                    target=state.target,
                    due=iso(state.due),
                    percent=round(self.options.sla.reminder_at * 100),
                )
                self.report.reminders += self.report.mails - before

    def escalate(self, ticket: TicketRecord, state: SlaState) -> TicketRecord:
        if not sweeps.claim_step(self.session, f"breach:{ticket.id}:{state.target}", self.now):
            return ticket
        self.report.escalations += 1
        previous, before = ticket.status, ticket
        if previous != "escalated":
            ticket = update_ticket(self.session, ticket.id, self.now, status="escalated")
        self.events_of_breach(before, ticket, state)
        audit.record(
            self.session,
            ticket.id,
            at=self.now,
            actor=ACTOR,
            action="escalated",
            details={
                "reason": f"{state.target} target breached",
                "due": iso(state.due),
                "previous_status": previous,
            },
        )
        for address in self.options.digest_to:
            self.mail(
                "escalation_notice",
                address,
                ticket,
                f"escalation_notice:{ticket.id}:{state.target}:{address.lower()}",
                target=state.target,
                due=iso(state.due),
            )
        if not self.options.customer_escalation_mail:
            return ticket
        self.requester_mail(
            "escalation_customer",
            ticket,
            f"escalation_customer:{ticket.id}",
            target=state.target,
            due=iso(state.due),
        )
        return ticket

    def events_of_breach(self, before: TicketRecord, after: TicketRecord, state: SlaState) -> None:
        """Webhook events: the breach, and the escalation when it changed the status."""
        hooks, now = self.options.webhooks, self.now
        webhooks.sla_breached(
            self.session, hooks, after, now=now, target=state.target, due=state.due
        )
        webhooks.ticket_changed(
            self.session, hooks, before, after, now=now, actor=ACTOR, reason="sla_breach"
        )

    def close(self, ticket: TicketRecord, since: datetime, after_days: int) -> None:
        previous, before = ticket.status, ticket
        ticket = update_ticket(self.session, ticket.id, self.now, status="closed")
        webhooks.ticket_updated(
            self.session, self.options.webhooks, before, ticket, now=self.now, actor=ACTOR
        )
        audit.record(
            self.session,
            ticket.id,
            at=self.now,
            actor=ACTOR,
            action="auto_closed",
            details={"previous_status": previous, "days": after_days},
        )
        self.report.closed += 1
        self.requester_mail(
            "auto_close_notice",
            ticket,
            f"auto_close_notice:{ticket.id}:{iso(since)}",
            previous_status=previous,
            closed_after_days=after_days,
        )

    def waiting(self) -> None:
        remind_after = timedelta(days=self.options.waiting_reminder_days)
        close_after = remind_after + timedelta(days=self.options.waiting_close_days)
        due = sweeps.tickets_in_status_since(
            self.session, "waiting_on_customer", self.now - remind_after
        )
        for ticket in due:
            since = ticket.status_changed_at
            if self.now >= since + close_after:
                self.close(ticket, since, close_after.days)
                continue
            if not self.options.customer_reminder_mail:
                continue
            before = self.report.mails
            self.requester_mail(
                "waiting_reminder",
                ticket,
                f"waiting_reminder:{ticket.id}:{iso(since)}",
                waiting_since=iso(since),
                close_at=iso(since + close_after),
            )
            self.report.waiting_reminders += self.report.mails - before

    def resolved(self) -> None:
        days = self.options.resolved_close_days
        cutoff = self.now - timedelta(days=days)
        for ticket in sweeps.tickets_in_status_since(self.session, "resolved", cutoff):
            self.close(ticket, ticket.status_changed_at, days)


def sweep_in(session: Session, now: datetime, options: SweepOptions) -> SweepReport:
    """Run every sweep step due at `now` inside the caller's (locked) transaction."""
    sweeper = _Sweeper(session, now, options)
    tickets = sweeps.active_tickets(session)
    sweeper.report.tickets_seen = len(tickets)
    for ticket in tickets:
        sweeper.sla(ticket)
    sweeper.waiting()
    sweeper.resolved()
    return SweepReport(ran=True, **asdict(sweeper.report))


def sweep(db: Database, now: datetime, options: SweepOptions) -> SweepReport:
    """One sweep at `now`, unless another one (any daemon) is running: then `ran=False`."""
    with db.transaction() as session:
        if not sweeps.lock_sweep(session, SWEEP_LOCK, wait=False):
            log.info("sweep at %s skipped: another sweep is running", iso(now))
            return SweepReport(ran=False)
        report = sweep_in(session, now, options)
        sweeps.set_last_run(session, "sweep", now)
    log.info(
        "sweep at %s: tickets=%d reminders=%d escalations=%d waiting_reminders=%d "
        "closed=%d mails=%d",
        iso(now),
        report.tickets_seen,
        report.reminders,
        report.escalations,
        report.waiting_reminders,
        report.closed,
        report.mails,
    )
    return report
