"""`postdesk contacts forget ADDRESS`: erase a contact's mail for a data-protection request."""

from __future__ import annotations

import argparse
import sys

from postdesk.cli.common import EXIT_OK, UsageError, open_app, print_json
from store.clock import utcnow

__all__ = ["contacts"]


def contacts(args: argparse.Namespace) -> int:
    address = args.address.strip().lower()
    if "@" not in address:
        raise UsageError(f"contacts forget: {args.address!r} is not an email address")
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("contacts forget: pass --yes to erase without a terminal to ask on")
        answer = input(f"Erase every mail, attachment and decision record of {address}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing erased", file=sys.stderr)
            return EXIT_OK
    app = open_app(args)
    try:
        erased = app.forget_contact(address, utcnow())
    finally:
        app.close()
    summary = erased.summary()
    if args.json:
        print_json(summary)
    else:
        print("erased: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
    configured = {c.email for o in app.settings.organisations for c in o.contacts}
    if address in configured:
        print(
            f"postdesk: {address} is still listed in [[organisations]] contacts: remove it "
            "there, or the next start lists it again",
            file=sys.stderr,
        )
    return EXIT_OK
