"""`postdesk quarantine list|show|release|drop|retry`: held and quarantined mail.

Both wait encrypted in the quarantine; `state` says which, in the words the import summary
and `ingest --json` use: `held` (the flood limit or `unknown_senders = "hold"`: released by
itself after its window, or by `release`) and `quarantined` (it could not be used: `retry`).
`show` prints an item's metadata and headers with secrets removed, never its body.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from ingest.errors import QuarantineError
from postdesk import held
from postdesk.app import App
from postdesk.cli.common import EXIT_OK, CommandError, UsageError, open_app, print_json
from store.clock import utcnow

__all__ = ["quarantine"]


def _summary(states: Counter[str]) -> str:
    """ "2 held, 1 quarantined": the words of every listing and summary."""
    return f"{states.get('held', 0)} held, {states.get('quarantined', 0)} quarantined"


def _list(app: App, as_json: bool) -> None:
    items = held.ordered(app.quarantine.list())
    if as_json:
        print_json([held.item_json(item) for item in items])
        return
    for item in items:
        until = item.hold.until if item.hold else None
        after = f" (released after {until:%Y-%m-%d %H:%M} UTC)" if until else ""
        print(
            f"{item.id}  {item.state:<11} {item.received_at:%Y-%m-%d %H:%M}  "
            f"{item.sender or item.mail_from or '-'}  {item.reason}{after}"
        )
    print(_summary(Counter(item.state for item in items)), file=sys.stderr)


def _show(app: App, item_id: str, as_json: bool) -> None:
    detail = held.show(app, item_id)
    if as_json:
        print_json(detail)
        return
    print(detail["id"])
    for key in ("state", "reason", "hold", "release_at", "sender", "mail_from", "source"):
        print(f"  {key + ':':<16}{detail[key] or '-'}")
    for key in ("received_at", "quarantined_at", "attempts", "size"):
        print(f"  {key + ':':<16}{detail[key]}")
    print(f"  {'rcpts:':<16}{', '.join(detail['rcpts']) or '-'}")
    print("  headers (secrets removed; the body is never shown):")
    for name, value in detail["headers"].items():
        print(f"    {name}: {value}")


def _print_released(results: list[held.Released], as_json: bool) -> None:
    if as_json:
        print_json([r.as_json() for r in results])
        return
    for r in results:
        print(f"{r.id}: {r.state} -> {r.outcome} {r.ticket or '-'}: {r.reason}")
    print(f"{len(results)} message(s) taken out of the quarantine", file=sys.stderr)


def _run(app: App, args: argparse.Namespace) -> None:
    action = args.action
    if action == "list":
        _list(app, args.json)
    elif action == "show":
        _show(app, args.id, args.json)
    elif action == "release":
        if bool(args.id) == bool(args.sender):
            raise UsageError("quarantine release: give an ID or --sender ADDRESS (one of them)")
        results = [held.release(app, args.id)] if args.id else held.release_sender(app, args.sender)
        if args.sender and not results:
            raise CommandError(f"no held mail from {args.sender} (`postdesk quarantine list`)")
        _print_released(results, args.json)
    elif action == "drop":
        item = held.drop(app, args.id, utcnow())
        if args.json:
            print_json({"id": item.id, "state": item.state, "dropped": True})
        else:
            print(f"{item.id}: {item.state} mail dropped")
    else:
        _print_released(held.retry(app, args.id), args.json)


def quarantine(args: argparse.Namespace) -> int:
    """`postdesk quarantine list|show|release|drop|retry`."""
    app = open_app(args)
    try:
        _run(app, args)
    except QuarantineError as exc:  # an unknown id, or an item under another key
        raise CommandError(f"{exc} (`postdesk quarantine list` shows the ids)") from exc
    finally:
        app.close()
    return EXIT_OK
