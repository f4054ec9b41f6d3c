"""`postdesk outbox list|retry|flush`."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import datetime

from postdesk.app import App
from postdesk.cli.common import open_app, parse_now
from postdesk.notify_build import outbox_worker
from store import outbox as outbox_store
from store.records import iso
from store.tickets import get_ticket

__all__ = ["outbox", "outbox_command"]


def outbox_command(app: App, action: str, *, now: datetime, as_json: bool) -> int:
    """`postdesk outbox list|retry|flush`."""
    if action == "flush":
        report = outbox_worker(app).drain(now)
        summary = {**asdict(report), "now": iso(now)}
        print(
            json.dumps(summary) if as_json else ", ".join(f"{k}: {v}" for k, v in summary.items())
        )
        return 0
    with app.db.transaction() as session:
        if action == "retry":
            count = outbox_store.retry_dead(session, now)
            print(
                json.dumps({"requeued": count}) if as_json else f"{count} dead row(s) queued again"
            )
            return 0
        rows = outbox_store.list_rows(session)
        number = {i: get_ticket(session, i).number for i in {r.ticket_id for r in rows} if i}
    listing = [
        {
            "id": r.id,
            "kind": r.kind,
            "ticket": number.get(r.ticket_id or 0),
            "to": r.recipient,
            "status": r.status,
            "attempts": r.attempts,
            "next_attempt_at": iso(r.next_attempt_at),
            "last_error": r.last_error,
        }
        for r in rows
    ]
    if as_json:
        print(json.dumps(listing, indent=2))
    else:
        for row in listing:
            print(
                f"{row['id']:>6} {row['status']:<8} {row['kind']:<20} {row['ticket'] or '-':<10} "
                f"{row['to']:<30} attempts={row['attempts']} {row['last_error'] or ''}"
            )
    return 0


def outbox(args: argparse.Namespace) -> int:
    app = open_app(args)
    try:
        return outbox_command(
            app, args.action, now=parse_now(getattr(args, "now", None)), as_json=args.json
        )
    finally:
        app.close()
