"""`postdesk ingest` (one message) and `postdesk import` (a mailbox)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingest.model import Outcome, RawMessage
from postdesk.cli.common import EXIT_OK, CommandError, open_app, parse_since, print_json
from store.clock import utcnow

__all__ = ["import_", "ingest"]


def ingest(args: argparse.Namespace) -> int:
    if args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {args.file}: {exc.strerror}") from exc
    app = open_app(args)
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
    from dataclasses import replace

    from postdesk.cli.importer import IMPORT_MODE, SKIPPED, ImportSourceError, import_path

    since = parse_since(args.since) if args.since else None
    mode = replace(IMPORT_MODE, notify=args.notify, status=args.status)
    app = open_app(args)
    try:
        counts = import_path(app, Path(args.path), jobs=args.jobs, mode=mode, since=since)
    except ImportSourceError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        app.close()
    summary = {outcome.value: counts.get(outcome.value, 0) for outcome in Outcome}
    summary[SKIPPED] = counts.get(SKIPPED, 0)
    summary["total"] = sum(counts.values())
    if args.json:
        print_json(summary)
    else:
        print(", ".join(f"{k}: {v}" for k, v in summary.items()))
    return EXIT_OK
