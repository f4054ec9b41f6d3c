"""`postdesk tokens create|list|revoke`: bearer tokens of the REST API.

`create` prints the token once (only its SHA-256 is stored): keep it in the integration's
secret store. An organisation token (`--org`) is read-only and sees that organisation's
tickets (and its partner clients').
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import IntegrityError

from postdesk.cli.common import EXIT_OK, CommandError, open_app, print_json
from store import api_tokens, directory
from store.clock import utcnow
from store.records import iso

__all__ = ["tokens"]


def _create(args: argparse.Namespace) -> int:
    if args.org and args.scope != "read":
        raise CommandError("organisation tokens are read-only: use --scope read with --org")
    app = open_app(args)
    try:
        with app.db.transaction() as session:
            organisation_id = None
            if args.org:
                organisation_id = directory.organisation_id_by_name(session, args.org)
                if organisation_id is None:
                    raise CommandError(
                        f"no organisation {args.org!r}: use a name from [[organisations]]"
                    )
            try:
                created, token = api_tokens.create_token(
                    session, args.name, args.scope, organisation_id, utcnow()
                )
            except IntegrityError as exc:
                raise CommandError(
                    f"a token named {args.name!r} exists: choose another name, "
                    "or revoke it first (postdesk tokens revoke NAME)"
                ) from exc
    finally:
        app.close()
    if args.json:
        print_json({"id": created.id, "name": created.name, "token": token})
    else:
        print(token)
        print(
            f"token {created.name!r} ({created.scope}"
            + (f", organisation {created.organisation}" if created.organisation else "")
            + "): shown only now; send it as Authorization: Bearer TOKEN",
            file=sys.stderr,
        )
    return EXIT_OK


def tokens(args: argparse.Namespace) -> int:
    if args.action == "create":
        return _create(args)
    app = open_app(args)
    try:
        with app.db.transaction() as session:
            if args.action == "revoke":
                revoked = api_tokens.revoke_token(session, args.token)
                if revoked is None:
                    raise CommandError(f"no token named (or numbered) {args.token!r}")
                print(f"token {revoked.name!r} revoked")
                return EXIT_OK
            listed = api_tokens.list_tokens(session)
    finally:
        app.close()
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "scope": t.scope,
            "organisation": t.organisation,
            "created_at": iso(t.created_at),
            "last_used_at": iso(t.last_used_at),
        }
        for t in listed
    ]
    if args.json:
        print_json(rows)
    else:
        for row in rows:
            print(
                f"{row['id']:>4} {row['name']:<24} {row['scope']:<6} "
                f"{row['organisation'] or '-':<20} created {row['created_at']} "
                f"last used {row['last_used_at'] or 'never'}"
            )
    return EXIT_OK
