"""`postdesk tickets list|show`."""

from __future__ import annotations

import argparse
import sys

from postdesk.cli import views
from postdesk.cli.common import (
    EXIT_OK,
    CommandError,
    UsageError,
    command_settings,
    open_app,
    print_json,
)
from store import tickets as ticket_store

__all__ = ["tickets"]


def _check_filters(args: argparse.Namespace) -> None:
    """A filter value that can match nothing is a mistake: name the valid ones (exit 2)."""
    if args.action != "list" or not args.org:
        return
    names = [o.name for o in command_settings(args).organisations]
    if args.org.lower() not in {n.lower() for n in names}:
        valid = ", ".join(repr(n) for n in names) or "none are configured"
        raise UsageError(f"tickets list --org: no organisation {args.org!r}; valid: {valid}")


def tickets(args: argparse.Namespace) -> int:
    _check_filters(args)
    app = open_app(args)
    try:
        with app.db.transaction() as session:
            if args.action == "list":
                found = ticket_store.list_tickets(
                    session,
                    status=args.status,
                    organisation=args.org,
                    requester=args.requester,
                    search=args.search,
                    limit=args.limit,
                )
                if args.json:
                    print_json([views.ticket_summary(session, t) for t in found])
                else:
                    for listed in found:
                        print(views.ticket_line(listed))
                    print(f"{len(found)} ticket(s)", file=sys.stderr)
                return EXIT_OK
            ticket = ticket_store.find_ticket(session, args.number)
            if ticket is None:
                raise CommandError(f"no ticket {args.number}")
            detail = views.ticket_detail(session, ticket)
            if args.json:
                print_json(detail)
            else:
                print(views.detail_text(detail))
    finally:
        app.close()
    return EXIT_OK
