"""How tickets look on the command line: the `--json` objects the README lists, and text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from store import attachments, comments, inbound, subscribers, tickets
from store.records import TicketRecord, iso


def ticket_summary(session: Session, ticket: TicketRecord) -> dict[str, Any]:
    """The fields of `tickets list --json` for one ticket."""
    ticket_subscribers = subscribers.of_ticket(session, ticket.id)
    related = (
        [tickets.get_ticket(session, ticket.related_ticket_id).number]
        if ticket.related_ticket_id
        else []
    )
    watchers = [s.email for s in ticket_subscribers if s.role == "watcher"]
    return summary_of(ticket, watchers, related)


def summary_of(
    ticket: TicketRecord, watchers: Sequence[str], related: Sequence[str]
) -> dict[str, Any]:
    """The summary of a ticket whose watchers and related ticket numbers are known."""
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "organisation": ticket.organisation,
        "requester": ticket.requester,
        "watchers": list(watchers),
        "assignee": ticket.assignee,
        "visibility": ticket.visibility,
        "flags": list(ticket.flags),
        "related": list(related),
        "call_reference": ticket.call_reference,
        "fields": ticket.fields,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "first_response_due": iso(ticket.first_response_due),
        "resolution_due": iso(ticket.resolution_due),
    }


def ticket_detail(session: Session, ticket: TicketRecord) -> dict[str, Any]:
    """`tickets show --json`: the summary plus comments, attachments and decision records."""
    detail = ticket_summary(session, ticket)
    detail["language"] = ticket.language  # of mail to the customer; None: the desk's default
    detail["comments"] = [
        {
            "author": c.author,
            "role": c.author_role,
            "public": c.public,
            "body": c.body,
            "created_at": iso(c.created_at),
            "redactions": c.redactions,
            "notes": c.notes,
        }
        for c in comments.of_ticket(session, ticket.id)
    ]
    detail["attachments"] = [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size}
        for a in attachments.of_ticket(session, ticket.id)
    ]
    detail["messages"] = [
        {
            "message_id": m.message_id,
            "outcome": m.outcome,
            "reason": m.reason,
            "received_at": iso(m.received_at),
            "source": m.source,  # the intake path the message came in on
        }
        for m in inbound.messages_for_ticket(session, ticket.id)
    ]
    return detail


def ticket_line(ticket: TicketRecord) -> str:
    """One line of `tickets list`."""
    subject = ticket.subject if len(ticket.subject) <= 60 else ticket.subject[:59] + "…"
    return (
        f"{ticket.number:<10} {ticket.status:<20} {ticket.priority:<7} "
        f"{ticket.requester:<30} {subject}"
    )


def detail_text(detail: dict[str, Any]) -> str:
    """`tickets show` as text for a person."""
    lines = [
        f"{detail['number']}  {detail['subject']}",
        f"  status: {detail['status']}   priority: {detail['priority']}   "
        f"category: {detail['category']}   visibility: {detail['visibility']}",
        f"  requester: {detail['requester']}   organisation: {detail['organisation'] or '-'}"
        f"   assignee: {detail['assignee'] or '-'}",
        f"  watchers: {', '.join(detail['watchers']) or '-'}   flags: "
        f"{', '.join(detail['flags']) or '-'}   related: {', '.join(detail['related']) or '-'}",
        f"  created: {detail['created_at']}   first response due: "
        f"{detail['first_response_due']}   resolution due: {detail['resolution_due']}",
    ]
    if detail["fields"] or detail["call_reference"]:
        fields = dict(detail["fields"])
        if detail["call_reference"]:
            fields["Call reference"] = detail["call_reference"]
        lines.append("  fields: " + "; ".join(f"{k}: {v}" for k, v in fields.items()))
    if detail.get("language"):
        lines.append(f"  language of mail to the customer: {detail['language']}")
    for comment in detail["comments"]:
        kind = "public" if comment["public"] else "internal"
        lines += [
            "",
            f"--- {comment['created_at']} {comment['author']} ({comment['role']}, {kind})",
        ]
        if comment["redactions"]:
            removed = ", ".join(f"{k} x{v}" for k, v in comment["redactions"].items())
            lines.append(f"    [secrets removed: {removed}]")
        lines += ["    " + line for line in comment["body"].splitlines()]
    if detail["attachments"]:
        lines += ["", "Attachments:"]
        lines += [
            f"  {a['filename']} ({a['content_type']}, {a['size']} bytes)"
            for a in detail["attachments"]
        ]
    lines += ["", "Messages:"]
    lines += [
        f"  {m['received_at']} {m['outcome']:<11} {m['message_id'] or '-'} "
        f"(via {m['source'] or '-'}): {m['reason']}"
        for m in detail["messages"]
    ]
    return "\n".join(lines)
