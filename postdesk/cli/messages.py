"""`postdesk messages list|show`: the decision record and reason of every inbound mail.

Whatever became of a mail (a ticket, a comment, ignored, rejected, held, quarantined), its
decision record says so and why; these commands answer "where did my mail go?". Held and
quarantined mail also waits in the quarantine: `messages show` names its quarantine id.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ingest.parse.message import normalise_message_id
from postdesk.app import App
from postdesk.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    open_app,
    parse_since,
    print_json,
)
from postdesk.held import quarantine_ids_for
from store import messages as decision_log
from store.messages import MessageEntry

__all__ = ["messages"]


def _outcome(value: str | None) -> str | None:
    if value is None or value in decision_log.RECORDED_OUTCOMES:
        return value
    raise UsageError(
        f"--outcome: unknown outcome {value!r}; valid: {', '.join(decision_log.RECORDED_OUTCOMES)}"
    )


def _line(entry: MessageEntry) -> str:
    return (
        f"{entry.received_at:%Y-%m-%d %H:%M:%S} {entry.outcome:<11} {entry.ticket or '-':<10} "
        f"{entry.sender or '-':<30} {entry.message_id or '-'}  {entry.reason}"
    )


def _list(app: App, args: argparse.Namespace) -> int:
    outcome = _outcome(args.outcome)
    since = parse_since(args.since) if args.since else None
    with app.db.transaction() as session:
        entries = decision_log.list_messages(
            session, sender=args.sender, outcome=outcome, since=since, limit=args.limit
        )
    if args.json:
        print_json([e.as_json() for e in entries])
    else:
        for entry in entries:
            print(_line(entry))
        print(f"{len(entries)} message(s)", file=sys.stderr)
    return EXIT_OK


def _show(app: App, args: argparse.Namespace) -> int:
    wanted = normalise_message_id(args.message_id) or args.message_id
    with app.db.transaction() as session:
        entries = decision_log.find_messages(session, wanted)
    if not entries:
        print(
            f"postdesk: no message with Message-ID {wanted} was recorded "
            "(`postdesk messages list --from ADDRESS` lists a sender's mail)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    shown: list[dict[str, Any]] = []
    for entry in entries:
        detail = entry.as_json()
        if entry.outcome in ("held", "quarantined"):
            detail["quarantine"] = quarantine_ids_for(app, entry.message_id)
        shown.append(detail)
    if args.json:
        print_json(shown[0] if len(shown) == 1 else shown)
        return EXIT_OK
    for detail in shown:
        redactions = ", ".join(f"{k} x{v}" for k, v in detail["redactions"].items())
        print(f"{detail['message_id']}")
        for key in ("outcome", "reason", "ticket", "sender", "subject", "source"):
            print(f"  {key + ':':<13}{detail[key] or '-'}")
        print(f"  {'received:':<13}{detail['received_at']}")
        print(f"  {'recorded:':<13}{detail['recorded_at']}")
        print(f"  {'redactions:':<13}{redactions or '-'}")
        if "quarantine" in detail:
            ids = ", ".join(detail["quarantine"]) or "- (released, dropped or purged)"
            print(f"  {'quarantine:':<13}{ids}")
    return EXIT_OK


def messages(args: argparse.Namespace) -> int:
    """`postdesk messages list|show`."""
    if args.action == "list":
        _outcome(args.outcome)  # a bad value is reported before the database is opened
        if args.since:
            parse_since(args.since)
    app = open_app(args)
    try:
        return _list(app, args) if args.action == "list" else _show(app, args)
    finally:
        app.close()
