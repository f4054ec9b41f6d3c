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

from store.errors import SchemaOutOfDate, StoreUnavailable

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


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise StoreUnavailable(
            f"cannot reach the database at {where} ({type(exc.orig).__name__}); "
            "check [database] url and that the server is running"
        ) from exc


def upgrade(engine: Engine) -> str:
    """Create or upgrade the schema to the newest revision; returns it."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return head_revision()


def ensure_current(engine: Engine) -> None:
    """Raise `SchemaOutOfDate` unless the database is at the newest revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        found = current or "an empty database"
        raise SchemaOutOfDate(
            f"the database schema is at {found}, this postdesk needs {head}: "
            "run `postdesk db upgrade` first"
        )
