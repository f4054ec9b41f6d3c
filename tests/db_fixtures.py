"""Database fixtures: every store test runs on SQLite and on the PostgreSQL server.

PostgreSQL: `POSTDESK_TEST_DATABASE_URL` (default the local server, database `test`) is used
only to create a fresh, uniquely named database for this test session, which is dropped at
the end, so parallel runs never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store import migrate
from store.db import Database
from store.schema import Base
from tests.conftest import skip_or_fail

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def admin_url() -> str:
    url = os.environ.get("POSTDESK_TEST_DATABASE_URL", DEFAULT_PG)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session, at the newest schema."""
    admin = admin_url()
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    name = f"postdesk_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection failure means: no server here
        engine.dispose()
        skip_or_fail(
            f"PostgreSQL not reachable at {make_url(admin).render_as_string()}: {type(exc).__name__}"
        )
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    migrate.upgrade(database.engine)
    database.dispose()
    yield url
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def empty_database(url: str) -> None:
    """Every table of the database at `url` emptied, ids restarted."""
    database = Database(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL at the newest schema, empty: SQLite in tmp_path, or the session's PG."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'postdesk.db'}"
        database = Database(url)
        migrate.upgrade(database.engine)
        database.dispose()
        return url
    url = request.getfixturevalue("pg_url")
    empty_database(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'postdesk.db'}"
    database = Database(url)
    migrate.upgrade(database.engine)
    database.dispose()
    return url
