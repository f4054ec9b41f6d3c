"""`postdesk db upgrade` and `postdesk check-config`."""

from __future__ import annotations

import argparse
import sys

from postdesk.app import pipeline_options
from postdesk.cli.common import EXIT_OK, command_settings
from postdesk.config.intake import missing_inbound_secrets
from store import migrate
from store.db import Database

__all__ = ["check_config", "db"]


def db(args: argparse.Namespace) -> int:
    settings = command_settings(args)
    timeout = settings.database.busy_timeout_seconds
    database = Database(settings.database.url, busy_timeout_seconds=timeout)
    try:
        revision = migrate.upgrade(database.engine, busy_timeout_seconds=timeout)
    finally:
        database.dispose()
    print(f"database schema at revision {revision}")
    return EXIT_OK


def check_config(args: argparse.Namespace) -> int:
    """Loading validated every key; then what `serve` builds from them (not the ports: a
    running daemon holds them)."""
    from postdesk.serve.preflight import check_values

    settings = command_settings(args)
    pipeline_options(settings)
    check_values(settings)
    # Webhook secrets live in the service's environment, which this shell may not have.
    for problem in missing_inbound_secrets(settings):
        print(f"warning: {problem}", file=sys.stderr)
    print("ok")
    return EXIT_OK
