"""The database handle: engine, SQLite pragmas, and one `transaction()` per unit of work.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so several processes can
share one file; writes take the lock at BEGIN (BEGIN IMMEDIATE), which turns concurrent
writers into a queue instead of deadlocks: a writer waits up to the busy timeout
(`[database] busy_timeout_seconds`) for the one before it. A connection marked `READ_ONLY`
begins a plain (deferred) transaction and reads the last committed state without waiting.
PostgreSQL goes through psycopg 3.

A database that cannot be used is raised as `StoreUnavailable`, told apart for the operator
(`store.errors`): `StoreLocked` when another process held the lock past the busy timeout,
`StoreUnreachable` when the server is down or the file cannot be opened or written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from store import writebehind
from store.errors import StoreLocked, StoreMisconfigured, StoreUnavailable, StoreUnreachable

K = TypeVar("K", bound=Hashable)
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
PG_CONNECT_TIMEOUT_SECONDS = 5
# An execution option: a connection with it set reads without taking SQLite's write lock.
READ_ONLY = "postdesk_read_only"
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6  # primary result codes (the low byte of extended ones)
_PG_LOCK_NOT_AVAILABLE = "55P03"
# What a PostgreSQL server says when it answers but will not let this url in (its messages
# name the role or database, never a password).
_PG_MISSING = re.compile(r'FATAL:\s+(role|database) "([^"]*)" does not exist')
_PG_TLS = re.compile(r".*failed: ([^\n]*(?:SSL|certificate)[^\n]*)")
_PG_LOGIN = re.compile(r'FATAL:\s+password authentication failed for user "([^"]*)"')


def _sqlite_on_connect(busy_timeout_seconds: float) -> Callable[[Any, object], None]:
    def on_connect(dbapi_connection: Any, _record: object) -> None:
        # Let SQLAlchemy (not the driver) issue BEGIN, so it can be BEGIN IMMEDIATE below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout_seconds * 1000)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def _sqlite_on_begin(conn: Any) -> None:
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _private_database_file(path: Path) -> None:
    """Create a missing SQLite file (and folder) private to its owner, 0600 (0700): SQLite
    gives its -wal and -shm files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not str(path).startswith("file:") and not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def make_engine(
    url: str, *, busy_timeout_seconds: float = SQLITE_BUSY_TIMEOUT_SECONDS, **kwargs: Any
) -> Engine:
    """An engine for `url` with the pragmas and pool settings this project relies on.

    `busy_timeout_seconds` is how long an SQLite connection waits for another process's
    write lock before it gives up with "database is locked".
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_database_file(Path(parsed.database))
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", busy_timeout_seconds)  # the driver's, at connect
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect(busy_timeout_seconds))
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


def is_locked(exc: DBAPIError) -> bool:
    """Whether `exc` says another process holds the lock (SQLite "database is locked" after
    the busy timeout; PostgreSQL lock_not_available), not that the database is out of reach."""
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    if getattr(orig, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE:
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database table is locked" in text


def unavailable(exc: DBAPIError, engine: Engine, busy_timeout_seconds: float) -> StoreUnavailable:
    """The store's error for a database that could not be used, saying what to do about it."""
    if is_locked(exc):
        return StoreLocked(
            f"the database is locked: another process kept it busy for more than "
            f"{busy_timeout_seconds:g} s ([database] busy_timeout_seconds); nothing was "
            "recorded, try again once the other postdesk command, daemon or backup is done "
            "writing (or raise the timeout)"
        )
    where = engine.url.render_as_string(hide_password=True)
    misconfigured = _pg_misconfigured(str(exc.orig), engine)
    if misconfigured is not None:
        return misconfigured
    detail = type(exc.orig).__name__
    if engine.dialect.name == "sqlite":  # SQLite's reasons name no secret: say which
        detail = f"{detail}: {str(exc.orig).splitlines()[0] if str(exc.orig) else '-'}"
    return StoreUnreachable(
        f"cannot reach the database at {where} ({detail}); check [database] url, that the "
        "database server is running, and for SQLite that the file and its folder exist and "
        "can be read and written by this user"
    )


def _pg_misconfigured(text: str, engine: Engine) -> StoreMisconfigured | None:
    """The error for a PostgreSQL server that is running but lacks the url's role or
    database (or refuses its password), or None for any other failure."""
    host = f"{engine.url.host or 'localhost'}:{engine.url.port or 5432}"
    missing = _PG_MISSING.search(text)
    if missing:
        kind, name = missing.groups()
        owner = engine.url.username or "ROLE"
        how = f"createuser {name}" if kind == "role" else f"createdb -O {owner} {name}"
        return StoreMisconfigured(
            f"the PostgreSQL server at {host} is running but has no {kind} {name!r} (named in "
            f"[database] url): create it (as the postgres user: {how}) or fix the url"
        )
    login = _PG_LOGIN.search(text)
    if login:
        return StoreMisconfigured(
            f"the PostgreSQL server at {host} refused the password of role {login.group(1)!r}: "
            "check the password in [database] url (or POSTDESK_DATABASE_URL)"
        )
    tls = _PG_TLS.search(text)
    if tls:
        return StoreMisconfigured(
            f"the PostgreSQL server at {host} answered, but TLS failed ({tls.group(1)}): check "
            "sslmode and sslrootcert in [database] url against the server's ssl settings"
        )
    return None


class Database:
    """An engine and its session factory."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_seconds: float = SQLITE_BUSY_TIMEOUT_SECONDS,
        **engine_kwargs: Any,
    ) -> None:
        self.url = url
        self.busy_timeout_seconds = busy_timeout_seconds
        self.engine = make_engine(url, busy_timeout_seconds=busy_timeout_seconds, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self._sessions, "before_commit", writebehind.flush)

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error.

        A connection failure is raised as `StoreUnreachable`, a lock held past the busy
        timeout as `StoreLocked` (both `StoreUnavailable`: transient, retry later).
        `read_only`: on SQLite, read the last committed state without the write lock.
        """
        session = (
            self._sessions(bind=self.engine.execution_options(**{READ_ONLY: True}))
            if read_only
            else self._sessions()
        )
        try:
            with session.begin():
                yield session
        except (OperationalError, DBAPIError) as exc:
            if getattr(exc, "connection_invalidated", False) or isinstance(exc, OperationalError):
                raise unavailable(exc, self.engine, self.busy_timeout_seconds) from exc
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
