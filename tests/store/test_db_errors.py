"""A database that cannot be used is told apart: locked (another process holds the write lock
past the busy timeout) or unreachable (server down, file missing or unusable)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from store import migrate
from store.db import Database
from store.errors import StoreLocked, StoreUnavailable, StoreUnreachable


def test_a_write_lock_held_past_the_busy_timeout_is_locked(sqlite_url: str) -> None:
    database = Database(sqlite_url, busy_timeout_seconds=0.2)
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        locked = pytest.raises(StoreLocked, match=r"locked.*0\.2 s.*busy_timeout_seconds")
        with locked as caught, database.transaction() as session:
            session.execute(text("SELECT 1"))
        assert isinstance(caught.value, StoreUnavailable)  # transient: the workers retry it
        # Reading the schema revision does not wait for the writer.
        assert migrate.current_revision(database.engine) == migrate.head_revision()
        holder.execute("ROLLBACK")
        with database.transaction() as session:  # free again: it goes through
            assert session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        holder.close()
        database.dispose()


def test_an_unopenable_sqlite_file_is_unreachable(tmp_path: Path) -> None:
    folder = tmp_path / "postdesk.db"
    folder.mkdir()
    database = Database(f"sqlite:///{folder}", busy_timeout_seconds=0.2)
    try:
        with pytest.raises(StoreUnreachable, match=r"unable to open database file.*folder exist"):
            migrate.current_revision(database.engine)
        unreachable = pytest.raises(StoreUnreachable, match="cannot reach the database")
        with unreachable, database.transaction() as session:
            session.execute(text("SELECT 1"))
    finally:
        database.dispose()


def test_a_postgresql_server_that_is_down_is_unreachable() -> None:
    database = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        unreachable = pytest.raises(StoreUnreachable, match="server is running")
        with unreachable as caught, database.transaction() as session:
            session.execute(text("SELECT 1"))
        assert "locked" not in str(caught.value)
    finally:
        database.dispose()
