"""The database handle: engine, SQLite pragmas, and one `transaction()` per unit of work.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so several processes can
share one file; writes take the lock at BEGIN (BEGIN IMMEDIATE), which turns concurrent
writers into a queue instead of deadlocks. PostgreSQL goes through psycopg 3.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from store import writebehind
from store.errors import StoreUnavailable

K = TypeVar("K", bound=Hashable)
SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_SECONDS = 5


def _sqlite_on_connect(dbapi_connection: Any, _record: object) -> None:
    # Let SQLAlchemy (not the driver) issue BEGIN, so it can be BEGIN IMMEDIATE below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _private_database_file(path: Path) -> None:
    """Create a missing SQLite file (and folder) private to its owner, 0600 (0700): SQLite
    gives its -wal and -shm files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not str(path).startswith("file:") and not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` with the pragmas and pool settings this project relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_database_file(Path(parsed.database))
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # A host that drops packets must not hang health checks and workers for minutes.
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("connect_timeout", PG_CONNECT_TIMEOUT_SECONDS)
    return create_engine(url, connect_args=connect_args, **kwargs)


PREFETCH_CHUNK = 500  # keys per query (well below every database's parameter limit)


def prefetch(
    cache: dict[Any, Any], keys: Iterable[K], lookup: Callable[[list[K]], Mapping[K, Any]]
) -> None:
    """Fill a per-transaction lookup cache for the `keys` it lacks, with one `lookup` query
    per PREFETCH_CHUNK keys; a key the lookup does not find is cached as None."""
    wanted = [key for key in dict.fromkeys(keys) if key not in cache]
    for start in range(0, len(wanted), PREFETCH_CHUNK):
        chunk = wanted[start : start + PREFETCH_CHUNK]
        found = lookup(chunk)
        cache.update({key: found.get(key) for key in chunk})


def forget_cached(session: Session) -> None:
    """Drop the per-transaction lookup caches (`store.directory`, `store.tickets`,
    `store.inbound`) after a savepoint rollback: they may hold rows the rollback took away.
    (Sessions that roll back savepoints do not defer writes: see `store.writebehind`.)"""
    session.info.clear()


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self._sessions, "before_commit", writebehind.flush)

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error.

        A connection failure is raised as `StoreUnavailable` (transient: retry later).
        """
        session = self._sessions()
        try:
            with session.begin():
                yield session
        except (OperationalError, DBAPIError) as exc:
            if getattr(exc, "connection_invalidated", False) or isinstance(exc, OperationalError):
                raise StoreUnavailable(
                    f"database unavailable ({type(exc.orig).__name__}); will retry"
                ) from exc
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
