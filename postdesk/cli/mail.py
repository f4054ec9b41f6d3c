"""`postdesk ingest` (one message) and `postdesk import` (a mailbox)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ingest.model import IngestResult, Outcome, RawMessage
from postdesk.app import App
from postdesk.cli.common import EXIT_OK, CommandError, open_app, print_json
from store import intake_counts
from store.clock import utcnow
from store.errors import SchemaOutOfDate, StorageFault, StoreError, StoreUnavailable

EX_DATAERR, EX_TEMPFAIL = 65, 75  # sysexits.h: the MTA bounces the first, retries the second
PIPE_SOURCE, CLI_SOURCE = "pipe", "cli"  # the intake path the decision record names
log = logging.getLogger(__name__)

__all__ = ["import_", "ingest"]


def ingest(args: argparse.Namespace) -> int:
    """One message from FILE or stdin (``-``: the MTA's pipe). Exit codes an MTA understands
    (sysexits): 0 recorded, whatever the outcome; 75 (EX_TEMPFAIL) not recorded for a
    reason that may pass (database unreachable or locked, schema being upgraded, disk full),
    so the MTA keeps the mail and retries; 65 (EX_DATAERR) for input that can never be read.
    """
    piped = args.file == "-"
    if piped:
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {args.file}: {exc.strerror}") from exc
    if not data.strip():
        print("postdesk: the input is empty: there is no message to record", file=sys.stderr)
        return EX_DATAERR
    try:
        result = _record(args, data, source=PIPE_SOURCE if piped else CLI_SOURCE)
    except (StoreUnavailable, StorageFault, SchemaOutOfDate) as exc:
        print(f"postdesk: not recorded, try again later: {exc}", file=sys.stderr)
        return EX_TEMPFAIL
    except Exception as exc:
        if not piped:
            raise
        # The MTA bounces the mail on any other status: keep it queued instead, the operator
        # reads the reason in the MTA's log, fixes it, and the retry records it.
        print(f"postdesk: not recorded, try again later: {exc!r}", file=sys.stderr)
        return EX_TEMPFAIL
    if args.json:
        payload = result.as_json()
        if args.dry_run:
            payload["dry_run"] = True
        print_json(payload)
    else:
        prefix = "[dry run] " if args.dry_run else ""
        print(f"{prefix}{result.outcome.value} {result.ticket or '-'}: {result.reason}")
    return EXIT_OK


def _record(args: argparse.Namespace, data: bytes, *, source: str) -> IngestResult:
    app = open_app(args)
    try:
        raw = RawMessage(
            data=data,
            rcpts=tuple(a.lower() for a in args.rcpt),
            source=source,
            received_at=utcnow(),
        )
        result = app.intake.ingest(raw, dry_run=args.dry_run)
        if not args.dry_run:
            count_intake(app, source)
    finally:
        app.close()
    return result


def count_intake(app: App, source: str, messages: int = 1) -> None:
    """Add to the path's count for the daemon's /metrics (store.intake_counts); the mail is
    recorded already, so a failure here is only logged."""
    try:
        with app.db.transaction() as session:
            intake_counts.add(session, intake_counts.path_of(source), messages)
    except StoreError as exc:
        log.warning("intake count of %s not updated (%s)", source, type(exc).__name__)


def import_(args: argparse.Namespace) -> int:
    from postdesk.cli.importer import ImportSourceError, import_path

    app = open_app(args)
    try:
        counts = import_path(app, Path(args.path), jobs=args.jobs)
        count_intake(app, "import", sum(counts.values()))
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
