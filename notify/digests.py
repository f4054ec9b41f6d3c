"""Digests for operations: the escalation digest (sent when non-empty) and the daily summary.

Both are outbox rows to every `digest_to` address with a dedupe key per period (the cron
fire time they stand for), so a digest re-run or caught up after downtime goes out once.
The escalation digest lists escalated tickets, SLA breaches and near breaches (and the
number of undeliverable mails, and the OAuth2 mailboxes that cannot log in); the daily
summary adds open tickets by status, dead outbox rows, quarantined mails, held senders and
credential exposures.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from notify.context import dead_line, digest_line, sla_states
from notify.options import SweepOptions
from store import sweeps
from store.imap_credentials import login_problems
from store.outbox import NewMail, count_by_status, enqueue, list_rows
from store.records import iso

log = logging.getLogger(__name__)
MAX_DEAD_LISTED = 20
QuarantineCount = Callable[[], int]


def _overview(session: Session, now: datetime, options: SweepOptions) -> dict[str, Any]:
    escalated: list[dict[str, Any]] = []
    breached: list[dict[str, Any]] = []
    near: list[dict[str, Any]] = []
    for ticket in sweeps.active_tickets(session):
        states = sla_states(ticket, now, options.sla)
        late = [s for s in states if s.breached]
        close = [s for s in states if s.reminder_due and not s.breached]
        if ticket.status == "escalated":
            escalated.append(digest_line(ticket, late[0] if late else None))
        if late:
            breached.append(digest_line(ticket, late[0]))
        elif close:
            near.append(digest_line(ticket, close[0]))
    dead_count = count_by_status(session).get("dead", 0)
    dead = [dead_line(r) for r in list_rows(session, status="dead", limit=MAX_DEAD_LISTED)]
    return {
        "escalated": escalated,
        "breached": breached,
        "near_breach": near,
        "dead_outbox": dead,
        "dead_outbox_count": dead_count,
        "mailbox_logins": _mailbox_logins(session),
    }


def _mailbox_logins(session: Session) -> list[dict[str, Any]]:
    """OAuth2 mailboxes that cannot log in: no mail comes in from them until fixed."""
    return [
        {
            "account": p.account,
            "since": iso(p.since),
            "failures": p.failures,
            "error": p.error,
            "command": f"postdesk imap login {p.account}",
        }
        for p in login_problems(session)
    ]


def _send(
    session: Session,
    kind: str,
    *,
    period: datetime,
    now: datetime,
    options: SweepOptions,
    context: dict[str, Any],
) -> int:
    stamp = period.strftime("%Y%m%dT%H%M")
    sent = 0
    for address in options.digest_to:
        mail = NewMail(
            kind=kind,
            recipient=address,
            context={"period": iso(period), "generated_at": iso(now), **context},
            dedupe_key=f"{kind}:{stamp}:{address.lower()}",
        )
        if enqueue(session, mail, now=now, message_id_domain=options.message_id_domain):
            sent += 1
    log.info("%s for %s: %d mail(s) queued", kind, iso(period), sent)
    return sent


def escalation_digest_in(
    session: Session, period: datetime, now: datetime, options: SweepOptions
) -> int:
    """Queue the escalation digest for `period` when it has tickets to show; returns rows queued."""
    context = _overview(session, now, options)
    if not (
        context["escalated"]
        or context["breached"]
        or context["near_breach"]
        or context["mailbox_logins"]
    ):
        log.info("digest for %s: nothing to report", iso(period))
        return 0
    return _send(session, "digest", period=period, now=now, options=options, context=context)


def daily_digest_in(
    session: Session,
    period: datetime,
    now: datetime,
    options: SweepOptions,
    quarantined: QuarantineCount,
) -> int:
    """Queue the daily summary for `period` (always sent); returns rows queued."""
    day_ago = now - timedelta(days=1)
    context = _overview(session, now, options)
    context["status_counts"] = sweeps.status_counts(session)
    context["quarantined"] = int(quarantined())
    context["held_senders"] = [
        {"sender": sender, "count": count}
        for sender, count in sweeps.held_senders(session, day_ago)
    ]
    context["credential_exposures"] = [
        {"number": t.number, "subject": t.subject, "status": t.status, "requester": t.requester}
        for t in sweeps.credential_exposures(session, day_ago)
    ]
    return _send(session, "daily_digest", period=period, now=now, options=options, context=context)
