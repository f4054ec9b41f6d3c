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
    "contacts": ("contacts", "contacts"),
    "imap": ("imap", "imap"),
    "tokens": ("tokens", "tokens"),
}
# The ticket statuses (store.schema.TICKET_STATUSES; not imported, so that `--help` stays fast).
TICKET_STATUSES = ("open", "in_progress", "waiting_on_customer", "escalated", "resolved", "closed")


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
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {number}")
    return number


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


NOW_HELP = "the instant to act at, ISO-8601 like 2026-01-31T09:00:00Z (default: now)"
JSON_HELP = "print JSON instead of text"


def build_parser() -> argparse.ArgumentParser:
    # Every command, action and option has a help text (tests/postdesk/cli/test_help.py).
    parser = argparse.ArgumentParser(prog="postdesk", description="Email-to-ticket daemon.")
    parser.add_argument(
        "--config", help="configuration file (default: $POSTDESK_CONFIG, ./config.toml)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of an unexpected error here (else it goes to the log)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser(
        "serve",
        help="run the daemon until SIGTERM (SIGHUP: reload the directory, reopen the log)",
    )
    ingest = sub.add_parser(
        "ingest",
        help="process one raw message (FILE or - for stdin)",
        description="Record one raw message. Exit 0 when it is recorded (every outcome), "
        "75 when it could not be recorded for a reason that may pass (database down or "
        "locked, disk full: the MTA retries), 65 when the input is empty.",
    )
    ingest.add_argument("--json", action="store_true", help=JSON_HELP)
    ingest.add_argument("--dry-run", action="store_true", help="print the decision, record nothing")
    ingest.add_argument("--rcpt", action="append", default=[], help="envelope recipient")
    ingest.add_argument("file", nargs="?", default="-", help="the message file (default: stdin)")
    imp = sub.add_parser("import", help="import an mbox file or a Maildir folder")
    imp.add_argument("--json", action="store_true", help=JSON_HELP)
    imp.add_argument(
        "--jobs",
        type=_non_negative,
        default=None,
        help="processes that parse and redact ahead of the database "
        "(default for large mailboxes: one per CPU; 0: all in this process)",
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
    listing = tickets.add_parser("list", help="tickets matching every filter, newest first")
    listing.add_argument("--status", choices=TICKET_STATUSES, help="only tickets in this status")
    listing.add_argument("--org", help="only tickets of this organisation (its configured name)")
    listing.add_argument("--requester", help="only tickets this address opened")
    listing.add_argument("--search", help="only tickets whose subject or comments contain TEXT")
    listing.add_argument("--limit", type=_positive, help="at most N tickets")
    listing.add_argument("--json", action="store_true", help=JSON_HELP)
    show = tickets.add_parser("show", help="one ticket: comments, attachments, messages")
    show.add_argument("number", help="the ticket number, e.g. SUP-1001")
    show.add_argument("--json", action="store_true", help=JSON_HELP)

    sweep = sub.add_parser("sweep", help="run every scheduler job due at an instant, once")
    sweep.add_argument("--now", help=NOW_HELP + "; mail it queues is due at once")
    outbox = sub.add_parser("outbox", help="outgoing mail").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    for name, text in (("list", "every outbox row"), ("retry", "queue dead rows again")):
        outbox.add_parser(name, help=text).add_argument(
            "--json", action="store_true", help=JSON_HELP
        )
    flush = outbox.add_parser("flush", help="send every row due now (or at --now), once")
    flush.add_argument("--now", help=NOW_HELP)
    flush.add_argument("--json", action="store_true", help=JSON_HELP)
    _quarantine_parser(sub)
    _messages_parser(sub)
    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="create or upgrade the schema to this version's")
    sub.add_parser("check-config", help="validate the configuration file")
    contacts = sub.add_parser("contacts", help="a contact's data").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    forget = contacts.add_parser(
        "forget",
        help="erase a contact's mail text, attachments and decision records "
        "(data-protection requests)",
    )
    forget.add_argument("address", help="the contact's email address")
    forget.add_argument(
        "--yes", action="store_true", help="erase without asking (needed without a terminal)"
    )
    forget.add_argument("--json", action="store_true", help=JSON_HELP)
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
        "--json", action="store_true", help=JSON_HELP
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
    create.add_argument(
        "--scope",
        required=True,
        choices=("read", "write"),
        help="read: list and show tickets and messages; write: also change and comment",
    )
    create.add_argument(
        "--org", help="organisation name: the token sees only its tickets (read-only)"
    )
    create.add_argument("--json", action="store_true", help=JSON_HELP)
    tokens.add_parser("list", help="the tokens (never the token itself)").add_argument(
        "--json", action="store_true", help=JSON_HELP
    )
    revoke = tokens.add_parser("revoke", help="delete a token: it stops working at once")
    revoke.add_argument("token", metavar="NAME|ID", help="the token's name or id")


def _quarantine_parser(sub: Any) -> None:
    quarantine = sub.add_parser(
        "quarantine",
        help="held mail (flood limit, moderation) and mail that could not be processed",
        description="Held mail waits for its release (by itself after the flood window, or "
        "`release`); quarantined mail could not be used (`retry`). Both are kept encrypted.",
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = quarantine.add_parser("list", help="every held and quarantined mail, oldest first")
    listing.add_argument("--json", action="store_true", help=JSON_HELP)
    show = quarantine.add_parser("show", help="one item: reason, attempts, headers (no body)")
    show.add_argument("id", help="the item's id (from `quarantine list`)")
    show.add_argument("--json", action="store_true", help=JSON_HELP)
    release = quarantine.add_parser(
        "release", help="decide held mail now, bypassing the hold (one item, or one sender's)"
    )
    release.add_argument("id", nargs="?", help="the item's id (from `quarantine list`)")
    release.add_argument("--sender", metavar="ADDRESS", help="every held mail from ADDRESS")
    release.add_argument("--json", action="store_true", help=JSON_HELP)
    drop = quarantine.add_parser("drop", help="delete one item for good")
    drop.add_argument("id", help="the item's id (from `quarantine list`)")
    drop.add_argument("--json", action="store_true", help=JSON_HELP)
    retry = quarantine.add_parser(
        "retry", help="run one item (or every item) through the pipeline again; holds bypassed"
    )
    retry.add_argument("id", nargs="?", help="the item's id (default: every item)")
    retry.add_argument("--json", action="store_true", help=JSON_HELP)


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
    listing.add_argument("--json", action="store_true", help=JSON_HELP)
    show = messages.add_parser("show", help="the decision record of one mail")
    show.add_argument("message_id", metavar="MESSAGE-ID", help="its Message-ID (<> optional)")
    show.add_argument("--json", action="store_true", help=JSON_HELP)


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
            code = _handler(args.command)(args)
            sys.stdout.flush()
            return code
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            return _reader_gone()
    from postdesk.cli.common import EXIT_FAILED, EXIT_USAGE, CommandError, UsageError
    from postdesk.config.load import ConfigError
    from postdesk.serve.logs import configure_logging
    from store.errors import StoreError, StoreMisconfigured

    settings: Settings | None = None
    try:
        settings = _settings(args)
        configure_logging(settings.logging, verbose=args.verbose)
        args.settings = settings
        code = _handler(args.command)(args)
        sys.stdout.flush()  # here, where a reader that went away is caught, not at exit
        return code
    except (ConfigError, UsageError, StoreMisconfigured) as exc:
        kind = exc.label if isinstance(exc, ConfigError) else ""
        print(f"postdesk: {kind}{exc}", file=sys.stderr)
        if args.command == "ingest" and args.file == "-":
            return EX_TEMPFAIL  # the MTA's pipe: keep the mail queued until it is fixed
        return exc.exit_code if isinstance(exc, ConfigError) else EXIT_USAGE
    except (CommandError, StoreError) as exc:
        print(f"postdesk: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `postdesk tickets show ... | head`: the reader has enough
        return _reader_gone()
    except Exception as exc:
        if args.debug:
            raise
        return _unexpected(args.command, exc, settings)


def _reader_gone() -> int:
    """The reader of standard output went away: stop quietly (no error, no traceback)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # so that flushing at exit does not fail again
    return 0


def _unexpected(command: str, exc: Exception, settings: Settings | None) -> int:
    """A bug or an unforeseen failure: one line here, the traceback in the log file."""
    import logging
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    log_file = settings.logging.file if settings is not None else None
    if log_file is not None:
        logging.getLogger(__name__).error(
            "unexpected error in `postdesk %s`", command, exc_info=exc
        )
        detail = f"the traceback is in the log {log_file}"
    else:
        detail = "run it again with --debug for the traceback"
    print(
        f"postdesk: unexpected error in `{command}` ({type(exc).__name__}{where}); {detail}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
