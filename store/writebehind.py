"""Rows inserted together just before commit: audit events and outbox rows of a batch.

In a batch of inbound messages (`App.ingest_batch`), audit events and outbox rows are
written many times and read back rarely, so they wait in the session and go to the database
in one multi-row INSERT per statement: before the transaction commits (a session event, so
no caller can forget it), and before any query that reads the outbox (`flush`, called by
the store's outbox readers). Only a session that called `enable` defers anything; every
other session (single messages, the scheduler, the CLI) writes each row at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert
from sqlalchemy.orm import Session

_KEY = "write_behind"


def enable(session: Session) -> None:
    """Defer the inserts `add` is given until `flush` (or commit) in this session."""
    session.info.setdefault(_KEY, {})


def add(session: Session, statement: Insert, values: dict[str, Any]) -> None:
    """Insert `values` with `statement` now, or at the next flush when deferring."""
    pending: dict[Insert, list[dict[str, Any]]] | None = session.info.get(_KEY)
    if pending is None:
        session.connection().execute(statement, values)
    else:
        pending.setdefault(statement, []).append(values)


def flush(session: Session) -> None:
    """Write every deferred row (in the order each statement received them)."""
    pending: dict[Insert, list[dict[str, Any]]] | None = session.info.get(_KEY)
    if not pending:
        return
    connection = session.connection()
    for statement, rows in pending.items():
        connection.execute(statement, rows)
    pending.clear()
