"""`postdesk tickets list|show`."""

from __future__ import annotations

import argparse
import sys

from postdesk.cli import views
from postdesk.cli.common import EXIT_OK, CommandError, open_app, print_json
from store import tickets as ticket_store

__all__ = ["tickets"]


def tickets(args: argparse.Namespace) -> int:
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
