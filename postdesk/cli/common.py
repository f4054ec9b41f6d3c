"""What the command handlers share: exit codes, the command error, the settings and the wired
application, time and JSON output."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from postdesk.app import App
from postdesk.config.load import ConfigError
from postdesk.config.settings import Settings
from store import migrate
from store.clock import utcnow
from store.errors import SchemaOutOfDate

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """A command could not do its work; the message tells the operator what to do."""


class UsageError(Exception):
    """A command was given a value it cannot use (exit 2); the message lists the valid ones."""


def parse_now(value: str | None) -> datetime:
    """`--now` as an aware UTC datetime (default: the current time)."""
    if not value:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(
            f"--now: expected an ISO-8601 time like 2026-01-31T09:00:00Z, got {value!r}"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_since(value: str, option: str = "--since") -> datetime:
    """A date (2026-01-31, midnight UTC) or an ISO-8601 time as an aware UTC datetime;
    `UsageError` naming the option when it is neither."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(
            f"{option}: expected a date like 2026-01-31 or a time like 2026-01-31T09:00:00Z, "
            f"got {value!r}"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def command_settings(args: argparse.Namespace) -> Settings:
    """The settings `main` loaded for this command."""
    settings = args.settings
    assert isinstance(settings, Settings)
    return settings


def open_app(args: argparse.Namespace) -> App:
    """The wired application, on a database whose schema is current."""
    app = App.build(command_settings(args))
    try:
        migrate.ensure_current(app.db.engine, busy_timeout_seconds=app.db.busy_timeout_seconds)
    except SchemaOutOfDate:
        app.close()
        raise
    app.sync_directory()
    return app
