"""Schema migrations (Alembic): upgrade to the newest revision, and tell whether one is due.

No alembic.ini is needed: the script location is this package's `migrations/` folder, and
the connection comes from the caller, so `postdesk db upgrade` and the tests share one path.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from store.db import READ_ONLY, SQLITE_BUSY_TIMEOUT_SECONDS, is_locked, unavailable
from store.errors import SchemaOutOfDate

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(
    engine: Engine, *, busy_timeout_seconds: float = SQLITE_BUSY_TIMEOUT_SECONDS
) -> str | None:
    """The revision the database is at, or None for an empty database.

    A read: on SQLite it does not wait for another process's write lock. A database that
    cannot be used raises `StoreUnreachable` or `StoreLocked` (`store.db.unavailable`).
    """
    try:
        with engine.connect() as connection:
            connection.execution_options(**{READ_ONLY: True})
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise unavailable(exc, engine, busy_timeout_seconds) from exc


def upgrade(engine: Engine, *, busy_timeout_seconds: float = SQLITE_BUSY_TIMEOUT_SECONDS) -> str:
    """Create or upgrade the schema to the newest revision; returns it."""
    config = _config()
    try:
        connection = engine.connect()
    except OperationalError as exc:  # no connection: nothing of a migration ran
        raise unavailable(exc, engine, busy_timeout_seconds) from exc
    try:
        with connection, connection.begin():
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        if is_locked(exc):  # (a migration's own SQL errors are OperationalErrors too: kept)
            raise unavailable(exc, engine, busy_timeout_seconds) from exc
        raise
    return head_revision()


def ensure_current(
    engine: Engine, *, busy_timeout_seconds: float = SQLITE_BUSY_TIMEOUT_SECONDS
) -> None:
    """Raise `SchemaOutOfDate` unless the database is at the newest revision."""
    current = current_revision(engine, busy_timeout_seconds=busy_timeout_seconds)
    head = head_revision()
    if current != head:
        found = current or "an empty database"
        raise SchemaOutOfDate(
            f"the database schema is at {found}, this postdesk needs {head}: "
            "run `postdesk db upgrade` first"
        )
