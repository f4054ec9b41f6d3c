"""`postdesk quarantine list|retry`."""

from __future__ import annotations

import argparse
import sys

from ingest.model import RawMessage
from postdesk.cli.common import EXIT_OK, open_app, print_json

__all__ = ["quarantine"]


def quarantine(args: argparse.Namespace) -> int:
    app = open_app(args)
    try:
        items = app.quarantine.list()
        if args.action == "list":
            rows = [
                {
                    "id": i.id,
                    "received_at": i.received_at.isoformat(),
                    "reason": i.reason,
                    "source": i.source,
                    "size": i.size,
                    "attempts": i.attempts,
                }
                for i in items
            ]
            if args.json:
                print_json(rows)
            else:
                for row in rows:
                    print(f"{row['id']}  {row['received_at']}  {row['size']:>8}  {row['reason']}")
                print(f"{len(rows)} quarantined message(s)", file=sys.stderr)
            return EXIT_OK
        results = []
        for item in items:
            raw = RawMessage(
                data=app.quarantine.read(item.id),
                rcpts=item.rcpts,
                mail_from=item.mail_from,
                source=item.source,
                received_at=item.received_at,
                released=True,
            )
            result = app.intake.ingest(
                raw
            )  # quarantined again (with the new reason) if it still fails
            app.quarantine.remove(item.id)
            results.append({"id": item.id, **result.as_json()})
        if args.json:
            print_json(results)
        else:
            for row in results:
                print(f"{row['id']}: {row['outcome']} {row['ticket'] or '-'}")
    finally:
        app.close()
    return EXIT_OK
