"""Schema and migrations: Alembic creates exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from store import migrate
from store.db import Database
from store.errors import SchemaOutOfDate
from store.schema import Base


def test_migrations_match_the_models(db_url: str) -> None:
    database = Database(db_url)
    with database.engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    database.dispose()
    assert diff == []


def test_upgrade_is_idempotent_and_current(db_url: str) -> None:
    database = Database(db_url)
    assert migrate.upgrade(database.engine) == migrate.head_revision()
    migrate.ensure_current(database.engine)
    database.dispose()


def test_empty_database_is_out_of_date(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaOutOfDate, match="postdesk db upgrade"):
        migrate.ensure_current(database.engine)
    database.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str) -> None:
    database = Database(sqlite_url)
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    database.dispose()


def test_dedupe_key_is_unique_in_the_database(db_url: str) -> None:
    database = Database(db_url)
    insert = text(
        "INSERT INTO inbound_messages (dedupe_key, sender, sender_domain, subject, source, "
        "received_at, recorded_at, outcome, reason, redactions, details) VALUES "
        "('mid:<a@b>', '', '', '', 'cli', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'ignored', 'x', "
        "'{}', '{}')"
    )
    with database.engine.begin() as connection:
        connection.execute(insert)
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        connection.execute(insert)
    database.dispose()
