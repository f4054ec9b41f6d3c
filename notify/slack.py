"""One line of chat text for a webhook event, for `format = "slack"` incoming webhooks.

Slack reads `&`, `<` and `>` as markup, so they are escaped (the ticket's subject and a
comment's text are customer-written). A comment's text is cut to `MAX_EXCERPT` characters.
"""

from __future__ import annotations

from typing import Any

__all__ = ["slack_text"]

MAX_EXCERPT = 300


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_EXCERPT else flat[: MAX_EXCERPT - 1] + "…"


def _ticket(data: dict[str, Any]) -> str:
    ticket = data.get("ticket") or {}
    return f"*{_escape(ticket.get('number', '?'))}* {_escape(ticket.get('subject', ''))}"


def slack_text(payload: dict[str, Any]) -> str:
    """The message text for one event payload (`{"type", "timestamp", "data"}`)."""
    kind = str(payload.get("type", ""))
    data: dict[str, Any] = payload.get("data") or {}
    ticket: dict[str, Any] = data.get("ticket") or {}
    comment: dict[str, Any] = data.get("comment") or {}
    if kind == "ticket.created":
        line = (
            f"New ticket {_ticket(data)} from {_escape(ticket.get('requester', ''))} "
            f"(priority {_escape(ticket.get('priority', ''))})"
        )
        if comment.get("body"):
            line += f"\n> {_escape(_excerpt(str(comment['body'])))}"
        return line
    if kind == "comment.created":
        which = "Reply" if comment.get("public") else "Internal note"
        line = f"{which} on {_ticket(data)} by {_escape(comment.get('author', ''))}"
        if comment.get("body"):
            line += f"\n> {_escape(_excerpt(str(comment['body'])))}"
        return line
    if kind == "ticket.updated":
        changes = data.get("changes") or {}
        shown = ", ".join(
            f"{_escape(name)}: {_escape(change.get('from'))} → {_escape(change.get('to'))}"
            for name, change in changes.items()
        )
        return f"{_ticket(data)} updated by {_escape(data.get('actor', ''))}: {shown}"
    if kind == "ticket.escalated":
        why = "SLA breached" if data.get("reason") == "sla_breach" else "customer asked"
        return f":rotating_light: {_ticket(data)} escalated ({why})"
    if kind == "sla.breached":
        target = str(data.get("target", "")).replace("_", " ")
        return f":alarm_clock: {_ticket(data)}: {_escape(target)} target breached"
    if kind == "message.quarantined":
        message = data.get("message") or {}
        return (
            f"A mail was quarantined: {_escape(message.get('reason', ''))} "
            f"(postdesk quarantine list)"
        )
    return f"postdesk event {_escape(kind)}"
