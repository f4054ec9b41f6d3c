"""The `postdesk` command line (the README lists the commands); the only place that turns errors
into exit codes.

Exit codes: 0 done (every ingest outcome included), 1 the work could not be done (database
down, message not recorded), 2 bad usage or configuration. `ingest` speaks sysexits to the
MTA instead: 75 (EX_TEMPFAIL) when the mail could not be recorded for a reason that may pass
(also a configuration error when it reads stdin, the MTA's pipe), 65 for empty input.
Files and folders it creates are
private to its user (umask 077: 0600 and 0700).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the application's modules are imported where a command needs them
    from postdesk.config.settings import Settings

DEFAULT_CONFIG = "config.toml"
EX_TEMPFAIL = 75  # sysexits.h; postdesk.cli.mail says when `ingest` returns it
# Each command's handler: (module of postdesk.cli, function), imported when the command runs,
# so that `redact` and `--help` start without the application's imports.
HANDLERS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "serve"),
    "sweep": ("serve", "sweep"),
    "ingest": ("mail", "ingest"),
    "import": ("mail", "import_"),
    "tickets": ("tickets", "tickets"),
    "outbox": ("outbox", "outbox"),
    "quarantine": ("quarantine", "quarantine"),
    "messages": ("messages", "messages"),
    "db": ("database", "db"),
    "check-config": ("database", "check_config"),
    "redact": ("redact", "redact"),
    "imap": ("imap", "imap"),
    "tokens": ("tokens", "tokens"),
}


def _config_path(args: argparse.Namespace) -> Path:
    from postdesk.config.load import ConfigError

    given = args.config or os.environ.get("POSTDESK_CONFIG")
    if given:
        return Path(given)
    for candidate in (Path(DEFAULT_CONFIG), Path("/etc/postdesk/config.toml")):
        if candidate.exists():
            return candidate
    raise ConfigError(
        "no configuration file: pass --config PATH or set POSTDESK_CONFIG "
        "(config.example.toml documents every key)"
    )


def _settings(args: argparse.Namespace) -> Settings:
    from postdesk.config.load import load_settings

    return load_settings(_config_path(args))


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postdesk", description="Email-to-ticket daemon.")
    parser.add_argument(
        "--config", help="configuration file (default: $POSTDESK_CONFIG, ./config.toml)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("serve", help="run the daemon until SIGTERM")
    ingest = sub.add_parser(
        "ingest",
        help="process one raw message (FILE or - for stdin)",
        description="Record one raw message. Exit 0 when it is recorded (every outcome), "
        "75 when it could not be recorded for a reason that may pass (database down or "
        "locked, disk full: the MTA retries), 65 when the input is empty.",
    )
    ingest.add_argument("--json", action="store_true")
    ingest.add_argument("--dry-run", action="store_true", help="print the decision, record nothing")
    ingest.add_argument("--rcpt", action="append", default=[], help="envelope recipient")
    ingest.add_argument("file", nargs="?", default="-")
    imp = sub.add_parser("import", help="import an mbox file or a Maildir folder")
    imp.add_argument("--json", action="store_true")
    imp.add_argument(
        "--jobs",
        type=_non_negative,
        default=None,
        help="processes that parse and redact ahead of the database "
        "(default for large mailboxes: one per CPU but one; 0: all in this process)",
    )
    imp.add_argument(
        "--notify",
        action="store_true",
        help="queue the mails a live message would cause (confirmations, notices, replies); "
        "by default an import mails nobody",
    )
    imp.add_argument(
        "--since", metavar="DATE", help="skip mail dated before DATE (2026-01-31 or ISO-8601)"
    )
    imp.add_argument(
        "--status",
        choices=("open", "closed"),
        default="open",
        help="the status of the tickets the import creates (default: open)",
    )
    imp.add_argument("path", help="an mbox file or a Maildir folder")
    sub.add_parser("redact", help="redact secrets: text on stdin -> stdout")

    tickets = sub.add_parser("tickets", help="list and show tickets").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    listing = tickets.add_parser("list")
    listing.add_argument("--status")
    listing.add_argument("--org")
    listing.add_argument("--requester")
    listing.add_argument("--search")
    listing.add_argument("--limit", type=int)
    listing.add_argument("--json", action="store_true")
    show = tickets.add_parser("show")
    show.add_argument("number")
    show.add_argument("--json", action="store_true")

    sweep = sub.add_parser("sweep", help="run every scheduler job due at an instant, once")
    sweep.add_argument("--now")
    outbox = sub.add_parser("outbox", help="outgoing mail").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    for name in ("list", "retry"):
        outbox.add_parser(name).add_argument("--json", action="store_true")
    flush = outbox.add_parser("flush")
    flush.add_argument("--now")
    flush.add_argument("--json", action="store_true")
    _quarantine_parser(sub)
    _messages_parser(sub)
    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    db.add_parser("upgrade")
    sub.add_parser("check-config", help="validate the configuration file")
    imap = sub.add_parser("imap", help="IMAP mailboxes that log in with OAuth2").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    imap_login = imap.add_parser(
        "login",
        help="sign in interactively (Microsoft device code, Google browser, or a refresh token "
        "on stdin) and store the credential encrypted with the secret key",
    )
    imap_login.add_argument("account", help="the [[imap]] name")
    imap.add_parser("status", help="whether each account can log in").add_argument(
        "--json", action="store_true"
    )
    _add_tokens(sub)
    return parser


def _add_tokens(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`postdesk tokens create|list|revoke`: bearer tokens of the REST API."""
    tokens = sub.add_parser("tokens", help="REST API bearer tokens").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    create = tokens.add_parser("create", help="make a token and print it (shown only once)")
    create.add_argument("--name", required=True, help="what the token is for (unique)")
    create.add_argument("--scope", required=True, choices=("read", "write"))
    create.add_argument(
        "--org", help="organisation name: the token sees only its tickets (read-only)"
    )
    create.add_argument("--json", action="store_true")
    tokens.add_parser("list", help="the tokens (never the token itself)").add_argument(
        "--json", action="store_true"
    )
    revoke = tokens.add_parser("revoke", help="delete a token: it stops working at once")
    revoke.add_argument("token", metavar="NAME|ID")


def _quarantine_parser(sub: Any) -> None:
    quarantine = sub.add_parser(
        "quarantine",
        help="held mail (flood limit, moderation) and mail that could not be processed",
        description="Held mail waits for its release (by itself after the flood window, or "
        "`release`); quarantined mail could not be used (`retry`). Both are kept encrypted.",
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = quarantine.add_parser("list", help="every held and quarantined mail, oldest first")
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = quarantine.add_parser("show", help="one item: reason, attempts, headers (no body)")
    show.add_argument("id", help="the item's id (from `quarantine list`)")
    show.add_argument("--json", action="store_true", help="print JSON")
    release = quarantine.add_parser(
        "release", help="decide held mail now, bypassing the hold (one item, or one sender's)"
    )
    release.add_argument("id", nargs="?", help="the item's id (from `quarantine list`)")
    release.add_argument("--sender", metavar="ADDRESS", help="every held mail from ADDRESS")
    release.add_argument("--json", action="store_true", help="print JSON")
    drop = quarantine.add_parser("drop", help="delete one item for good")
    drop.add_argument("id", help="the item's id (from `quarantine list`)")
    drop.add_argument("--json", action="store_true", help="print JSON")
    retry = quarantine.add_parser(
        "retry", help="run one item (or every item) through the pipeline again; holds bypassed"
    )
    retry.add_argument("id", nargs="?", help="the item's id (default: every item)")
    retry.add_argument("--json", action="store_true", help="print JSON")


def _messages_parser(sub: Any) -> None:
    messages = sub.add_parser(
        "messages",
        help="what became of each inbound mail, and why",
        description="The decision record of every inbound mail, whatever its outcome "
        "(created, commented, ignored, rejected, held, quarantined).",
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = messages.add_parser("list", help="decision records, oldest first")
    listing.add_argument(
        "--from", dest="sender", metavar="ADDRESS", help="only mail from this address"
    )
    listing.add_argument(
        "--outcome",
        metavar="O",
        help="only this outcome: created, commented, ignored, rejected, held, quarantined",
    )
    listing.add_argument(
        "--since", metavar="T", help="only mail received at or after T (2026-01-31 or ISO-8601)"
    )
    listing.add_argument("--limit", type=int, metavar="N", help="at most N records")
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = messages.add_parser("show", help="the decision record of one mail")
    show.add_argument("message_id", metavar="MESSAGE-ID", help="its Message-ID (<> optional)")
    show.add_argument("--json", action="store_true", help="print JSON")


def _handler(command: str) -> Callable[[argparse.Namespace], int]:
    module, name = HANDLERS[command]
    handler: Callable[[argparse.Namespace], int] = getattr(
        importlib.import_module(f"postdesk.cli.{module}"), name
    )
    return handler


PRIVATE_UMASK = 0o077  # files postdesk creates are 0600, its folders 0700


def main(argv: Sequence[str] | None = None) -> int:
    # Before anything is created: the database (and its -wal, -shm), the log file, the spool,
    # quarantine, attachment and outbox folders hold mail; only the daemon's user reads them.
    os.umask(PRIVATE_UMASK)
    args = build_parser().parse_args(argv)
    if args.command == "redact":  # text in, text out: needs neither configuration nor logging
        try:
            return _handler(args.command)(args)
        except KeyboardInterrupt:
            return 130
    from postdesk.cli.common import EXIT_FAILED, EXIT_USAGE, CommandError, UsageError
    from postdesk.config.load import ConfigError
    from postdesk.serve.logs import configure_logging
    from store.errors import StoreError

    try:
        settings = _settings(args)
        configure_logging(settings.logging, verbose=args.verbose)
        args.settings = settings
        return _handler(args.command)(args)
    except UsageError as exc:
        print(f"postdesk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"postdesk: configuration error: {exc}", file=sys.stderr)
        if args.command == "ingest" and args.file == "-":
            return EX_TEMPFAIL  # the MTA's pipe: keep the mail queued until it is fixed
        return EXIT_USAGE
    except (CommandError, StoreError) as exc:
        print(f"postdesk: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
