"""Outbound webhook events: queued in the transaction of the change they report.

An event (`ticket.created`, `ticket.updated`, `comment.created`, `ticket.escalated`,
`sla.breached`, `message.quarantined`) becomes one outbox row of kind `webhook` per
configured webhook that subscribed to it, written by `emit` in the caller's session: the
event is committed with the change, and a change that rolls back emits nothing. Each event
has one id (`evt_` + 32 hex digits), the same for every webhook and every retry, which the
receiver sees as `webhook-id` and dedupes on (delivery is at least once).

The body is fixed when the event is queued, in the Standard Webhooks shape
`{"type", "timestamp", "data"}`; `data` holds ids, numbers, status fields and the stored
(already redacted) text only, never raw mail. The row's recipient is `webhook:NAME`; the
worker finds the URL, secret and format by that name in its configuration when it delivers
(`notify.webhooks`), so a secret is never stored in a row.

Callers (the pipeline's decisions, the sweeps, the HTTP API) use the helper of their event
(`ticket_created`, `ticket_updated`, ...) or `emit` itself, with the targets the composition
root made from the configuration (`postdesk.app.webhook_targets`; the pipeline carries them
as `PipelineOptions.webhooks`), inside the transaction of the change:

    with db.transaction() as session:
        before = tickets.get_ticket(session, ticket_id)
        after = tickets.update_ticket(session, ticket_id, now, status="resolved")
        webhooks.ticket_changed(
            session, targets, before, after, now=now, actor="token:crm", reason="api"
        )

With no webhook subscribed to an event, nothing is built and nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from store import outbox
from store.records import CommentRecord, TicketRecord, iso

__all__ = [
    "EVENT_TYPES",
    "WEBHOOK_KIND",
    "WebhookTarget",
    "comment_created",
    "comment_data",
    "emit",
    "message_quarantined",
    "new_event_id",
    "recipient_for",
    "sla_breached",
    "ticket_changed",
    "ticket_changes",
    "ticket_created",
    "ticket_data",
    "ticket_escalated",
    "ticket_updated",
]

EVENT_TYPES = (
    "ticket.created",
    "ticket.updated",
    "comment.created",
    "ticket.escalated",
    "sla.breached",
    "message.quarantined",
)
WEBHOOK_KIND = "webhook"
RECIPIENT_PREFIX = "webhook:"
MAX_BODY_CHARS = 20_000  # a comment's text in a payload; longer ones are cut and marked
# The ticket fields a `ticket.updated` event reports when they change.
WATCHED_FIELDS = ("status", "priority", "assignee", "category", "visibility", "organisation")


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """A configured webhook as the emitters see it: its name and the events it wants."""

    name: str
    events: frozenset[str]

    def wants(self, event_type: str) -> bool:
        return event_type in self.events


def recipient_for(name: str) -> str:
    """The outbox recipient of webhook `name` (what `outbox list` shows as `to`)."""
    return RECIPIENT_PREFIX + name.lower()


def new_event_id() -> str:
    """A fresh event id: `evt_` and a random UUID's hex digits."""
    return f"evt_{uuid.uuid4().hex}"


def _wanted(targets: Iterable[WebhookTarget], event_type: str) -> list[WebhookTarget]:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    return [t for t in targets if t.wants(event_type)]


def emit(
    session: Session,
    targets: Iterable[WebhookTarget],
    event_type: str,
    data: Mapping[str, Any],
    *,
    now: datetime,
    ticket: TicketRecord | None = None,
    event_id: str | None = None,
) -> str | None:
    """Queue event `event_type` for every target subscribed to it, in `session`'s transaction.

    `data` is the payload's `data` object (JSON values, redacted text only); `ticket`, when
    the event is about one, links the rows to it (`outbox list` and the digest show its
    number). Returns the event id, or None when no target wants this event.
    """
    wanted = _wanted(targets, event_type)
    if not wanted:
        return None
    event_id = event_id or new_event_id()
    payload = {"type": event_type, "timestamp": iso(now), "data": dict(data)}
    context: dict[str, Any] = {"event_id": event_id, "type": event_type, "payload": payload}
    if ticket is not None:
        context["ticket"] = {"number": ticket.number}
    for target in wanted:
        outbox.queue(
            session,
            outbox.NewMail(
                kind=WEBHOOK_KIND,
                recipient=recipient_for(target.name),
                context=context,
                ticket_id=ticket.id if ticket is not None else None,
                automatic=False,
                message_id=event_id,
            ),
            now=now,
            message_id_domain="",
        )
    return event_id


def ticket_data(ticket: TicketRecord) -> dict[str, Any]:
    """A ticket in a payload: number, the stored (redacted) subject and its status fields."""
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "visibility": ticket.visibility,
        "organisation": ticket.organisation,
        "requester": ticket.requester,
        "assignee": ticket.assignee,
        "flags": list(ticket.flags),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "first_response_due": iso(ticket.first_response_due),
        "resolution_due": iso(ticket.resolution_due),
    }


def comment_data(comment: CommentRecord) -> dict[str, Any]:
    """A comment in a payload: its stored (redacted) visible text, cut at `MAX_BODY_CHARS`."""
    return {
        "id": comment.id,
        "author": comment.author,
        "author_role": comment.author_role,
        "public": comment.public,
        "body": comment.body[:MAX_BODY_CHARS],
        "truncated": len(comment.body) > MAX_BODY_CHARS,
        "created_at": iso(comment.created_at),
        "redactions": dict(comment.redactions),
    }


def ticket_changes(before: TicketRecord, after: TicketRecord) -> dict[str, dict[str, Any]]:
    """The watched fields that differ: `{"status": {"from": "open", "to": "resolved"}}`."""
    return {
        name: {"from": getattr(before, name), "to": getattr(after, name)}
        for name in WATCHED_FIELDS
        if getattr(before, name) != getattr(after, name)
    }


def ticket_created(
    session: Session,
    targets: Iterable[WebhookTarget],
    ticket: TicketRecord,
    comment: CommentRecord | None,
    *,
    now: datetime,
) -> str | None:
    """`ticket.created`: the ticket and its first comment (the mail that opened it)."""
    if not _wanted(targets, "ticket.created"):
        return None
    data = {"ticket": ticket_data(ticket), "comment": comment_data(comment) if comment else None}
    return emit(session, targets, "ticket.created", data, now=now, ticket=ticket)


def ticket_updated(
    session: Session,
    targets: Iterable[WebhookTarget],
    before: TicketRecord,
    after: TicketRecord,
    *,
    now: datetime,
    actor: str,
) -> str | None:
    """`ticket.updated` when a watched field changed from `before` to `after` (else nothing).

    `actor` is who changed it: a staff or customer address, `scheduler`, or an API token's
    name.
    """
    if not _wanted(targets, "ticket.updated"):
        return None
    changes = ticket_changes(before, after)
    if not changes:
        return None
    data = {"ticket": ticket_data(after), "changes": changes, "actor": actor}
    return emit(session, targets, "ticket.updated", data, now=now, ticket=after)


def ticket_changed(
    session: Session,
    targets: Iterable[WebhookTarget],
    before: TicketRecord,
    after: TicketRecord,
    *,
    now: datetime,
    actor: str,
    reason: str,
) -> None:
    """A change of a ticket: `ticket.updated` for the watched fields that changed, and
    `ticket.escalated` (with `reason`) when its status became `escalated`."""
    ticket_updated(session, targets, before, after, now=now, actor=actor)
    if after.status == "escalated" != before.status:
        ticket_escalated(session, targets, after, now=now, reason=reason, actor=actor)


def comment_created(
    session: Session,
    targets: Iterable[WebhookTarget],
    ticket: TicketRecord,
    comment: CommentRecord,
    *,
    now: datetime,
) -> str | None:
    """`comment.created`: a comment added to an existing ticket (public or internal)."""
    if not _wanted(targets, "comment.created"):
        return None
    data = {"ticket": ticket_data(ticket), "comment": comment_data(comment)}
    return emit(session, targets, "comment.created", data, now=now, ticket=ticket)


def ticket_escalated(
    session: Session,
    targets: Iterable[WebhookTarget],
    ticket: TicketRecord,
    *,
    now: datetime,
    reason: str,
    actor: str,
) -> str | None:
    """`ticket.escalated`: `reason` is `customer_request`, `staff`, `api` or `sla_breach`."""
    if not _wanted(targets, "ticket.escalated"):
        return None
    data = {"ticket": ticket_data(ticket), "reason": reason, "actor": actor}
    return emit(session, targets, "ticket.escalated", data, now=now, ticket=ticket)


def sla_breached(
    session: Session,
    targets: Iterable[WebhookTarget],
    ticket: TicketRecord,
    *,
    now: datetime,
    target: str,
    due: datetime | None,
) -> str | None:
    """`sla.breached`: the `first_response` or `resolution` target passed its due time."""
    if not _wanted(targets, "sla.breached"):
        return None
    data = {"ticket": ticket_data(ticket), "target": target, "due": iso(due)}
    return emit(session, targets, "sla.breached", data, now=now, ticket=ticket)


def message_quarantined(
    session: Session,
    targets: Iterable[WebhookTarget],
    *,
    now: datetime,
    message_id: str | None,
    sender: str,
    reason: str,
    source: str,
    received_at: datetime | None,
) -> str | None:
    """`message.quarantined`: a mail that could not be used (its stored Message-ID, never
    its content; `postdesk quarantine list` shows it)."""
    if not _wanted(targets, "message.quarantined"):
        return None
    data = {
        "message": {
            "message_id": message_id,
            "sender": sender,
            "reason": reason,
            "source": source,
            "received_at": iso(received_at),
        }
    }
    return emit(session, targets, "message.quarantined", data, now=now)
