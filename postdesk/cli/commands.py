"""The command handlers behind `postdesk.cli.main`: each takes parsed arguments, returns a code."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ingest.model import Outcome, RawMessage
from postdesk.app import App
from postdesk.cli.common import EXIT_OK, CommandError, parse_now, print_json
from postdesk.config.settings import Settings
from store import migrate
from store import tickets as ticket_store
from store.clock import utcnow
from store.db import Database
from store.errors import SchemaOutOfDate


def _settings(args: argparse.Namespace) -> Settings:
    settings = args.settings
    assert isinstance(settings, Settings)
    return settings


def _app(args: argparse.Namespace) -> App:
    """The wired application, on a database whose schema is current."""
    app = App.build(_settings(args))
    try:
        migrate.ensure_current(app.db.engine)
    except SchemaOutOfDate:
        app.close()
        raise
    app.sync_directory()
    return app


def db(args: argparse.Namespace) -> int:
    settings = _settings(args)
    database = Database(settings.database.url)
    try:
        revision = migrate.upgrade(database.engine)
    finally:
        database.dispose()
    print(f"database schema at revision {revision}")
    return EXIT_OK


def check_config(args: argparse.Namespace) -> int:
    from postdesk.app import pipeline_options

    pipeline_options(_settings(args))
    print("ok")
    return EXIT_OK


def ingest(args: argparse.Namespace) -> int:
    if args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {args.file}: {exc.strerror}") from exc
    app = _app(args)
    try:
        raw = RawMessage(
            data=data,
            rcpts=tuple(a.lower() for a in args.rcpt),
            source="cli",
            received_at=utcnow(),
        )
        result = app.intake.ingest(raw, dry_run=args.dry_run)
    finally:
        app.close()
    if args.json:
        payload = result.as_json()
        if args.dry_run:
            payload["dry_run"] = True
        print_json(payload)
    else:
        prefix = "[dry run] " if args.dry_run else ""
        print(f"{prefix}{result.outcome.value} {result.ticket or '-'}: {result.reason}")
    return EXIT_OK


def import_(args: argparse.Namespace) -> int:
    from postdesk.cli.importer import ImportSourceError, import_path

    app = _app(args)
    try:
        counts = import_path(app, Path(args.path), jobs=args.jobs)
    except ImportSourceError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        app.close()
    summary = {outcome.value: counts.get(outcome.value, 0) for outcome in Outcome}
    summary["total"] = sum(counts.values())
    if args.json:
        print_json(summary)
    else:
        print(", ".join(f"{k}: {v}" for k, v in summary.items()))
    return EXIT_OK


def tickets(args: argparse.Namespace) -> int:
    from postdesk.cli import views

    app = _app(args)
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


def quarantine(args: argparse.Namespace) -> int:
    app = _app(args)
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


def serve(args: argparse.Namespace) -> int:
    from postdesk.serve.daemon import run_daemon

    return run_daemon(_settings(args))


def sweep(args: argparse.Namespace) -> int:
    from postdesk.notify_build import run_sweep

    app = _app(args)
    try:
        summary = run_sweep(app, parse_now(args.now))
    finally:
        app.close()
    print(json.dumps(summary, default=str))
    return EXIT_OK


def outbox(args: argparse.Namespace) -> int:
    from postdesk.cli.outbox import outbox_command

    app = _app(args)
    try:
        return outbox_command(
            app, args.action, now=parse_now(getattr(args, "now", None)), as_json=args.json
        )
    finally:
        app.close()
