"""`postdesk imap login ACCOUNT` and `postdesk imap status`: OAuth2 mailboxes."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from postdesk.cli.common import EXIT_FAILED, EXIT_OK, CommandError, open_app, print_json

if TYPE_CHECKING:
    from store.imap_credentials import ImapCredentials

__all__ = ["imap"]


def imap(args: argparse.Namespace) -> int:
    from ingest.listen.imap_auth import LoginFailed
    from postdesk.imap_oauth import login
    from store.imap_credentials import ImapCredentials

    app = open_app(args)
    try:
        settings = app.settings
        credentials = ImapCredentials(
            app.db, settings.desk.secret_key, settings.desk.previous_secret_keys
        )
        if args.action == "status":
            return _status(args, credentials)
        accounts = {a.name: a for a in settings.imap}
        account = accounts.get(args.account)
        if account is None:
            known = ", ".join(sorted(accounts)) or "none is configured"
            raise CommandError(f"no [[imap]] account named {args.account!r} (accounts: {known})")
        if account.auth != "oauth2":
            raise CommandError(
                f'IMAP account {account.name!r} logs in with a password (auth = "password"); '
                'set auth = "oauth2" and an [imap.oauth2] table to use OAuth2'
            )
        try:
            token = login(account, credentials)
        except LoginFailed as exc:
            print(f"postdesk: imap login {account.name}: {exc}", file=sys.stderr)
            return EXIT_FAILED
        credentials.login_succeeded(account.name)
        print(
            f"ok: {account.name} ({account.username}) can log in; access token valid until "
            f"{token.expires_at.isoformat(timespec='seconds')}. The running daemon uses the "
            "stored credential at its next login."
        )
        return EXIT_OK
    finally:
        app.close()


def _status(args: argparse.Namespace, credentials: ImapCredentials) -> int:
    from store.imap_credentials import CredentialKeyError

    problems = {p.account: p for p in credentials.problems()}
    rows = []
    for account in args.settings.imap:
        try:
            stored = credentials.load(account.name) is not None
        except CredentialKeyError:
            stored = False
        problem = problems.get(account.name)
        rows.append(
            {
                "account": account.name,
                "auth": account.auth,
                "provider": account.oauth2.provider if account.oauth2 else None,
                "credential_stored": stored,
                "login_failing_since": problem.since.isoformat() if problem else None,
                "login_failures": problem.failures if problem else 0,
                "login_error": problem.error if problem else None,
            }
        )
    if args.json:
        print_json(rows)
        return EXIT_OK
    for row in rows:
        state = (
            f"cannot log in since {row['login_failing_since']}: {row['login_error']}"
            if row["login_failing_since"]
            else "ok"
        )
        held = "credential stored" if row["credential_stored"] else "no stored credential"
        print(f"{row['account']}  {row['auth']}  {held}  {state}")
    return EXIT_OK
