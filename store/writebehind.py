"""Rows written together just before commit: a batch's decision records, comments,
attachments, subscribers, audit events, outbox rows and ticket changes.

In a batch of inbound messages (`App.ingest_batch`), these rows are written many times and
read back rarely, so they wait in the session and go to the database in one multi-row
INSERT per statement, parents before children, and one UPDATE per changed row: before the
transaction commits (a session event, so no caller can forget it), and before a query that
reads one of these tables (`flush(session, table)`, called by the store's readers; the
readers of decision records add the unwritten ones in instead, see `store.inbound`). Rows
that others point at take their id in advance (`insert_row`, `store.ids`). Only a session
that called `enable` defers anything; every other session (single messages, the
scheduler, the CLI) writes each row at once.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Insert, MetaData, Table, Update, bindparam, insert
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from store import ids

_KEY = "write_behind"
_UPDATES = "write_behind_updates"  # table -> row id -> column -> its latest value


def enable(session: Session) -> None:
    """Defer the inserts `add` is given until `flush` (or commit) in this session."""
    session.info.setdefault(_KEY, {})


def deferring(session: Session) -> bool:
    """Whether this session writes behind (`enable`)."""
    return _KEY in session.info


def insert_row(session: Session, table: Table, values: dict[str, Any]) -> int:
    """Insert a row of `table` (whose key is `id`) now or at the next flush; its id."""
    if not deferring(session):
        row_id = session.connection().execute(_returning_id(table), values).scalar_one()
        return int(row_id)
    row_id = ids.next_id(session, table)
    add(session, _with_id(table), {"id": row_id, **values})
    return row_id


@functools.cache
def _returning_id(table: Table) -> Insert:
    return insert(table).returning(table.c.id)


@functools.cache
def _with_id(table: Table) -> Insert:
    return insert(table)


def update(session: Session, table: Table, row_id: int, values: dict[str, Any]) -> None:
    """Set columns of the row of `table` with this `id`, now or at the next flush.

    Deferred changes of one row are merged (the latest value of each column wins): at the
    flush the row gets one UPDATE. For rows only this transaction reads back through a
    cache (a batch's tickets, see `store.tickets`)."""
    if not deferring(session):
        session.connection().execute(
            update_statement(table, frozenset(values)),
            {
                **values,
                "b_id": row_id,
            },
        )
        return
    updates: dict[Table, dict[int, dict[str, Any]]] = session.info.setdefault(_UPDATES, {})
    updates.setdefault(table, {}).setdefault(row_id, {}).update(values)


@functools.cache
def update_statement(table: Table, columns: frozenset[str]) -> Update:
    """UPDATE <table> SET <columns> WHERE id = :b_id, built once per set of columns."""
    values: dict[str, Any] = {name: bindparam(name) for name in sorted(columns)}
    return sql_update(table).where(table.c.id == bindparam("b_id")).values(values)


def add(session: Session, statement: Insert, values: dict[str, Any]) -> None:
    """Insert `values` with `statement` now, or at the next flush when deferring."""
    pending: dict[Insert, list[dict[str, Any]]] | None = session.info.get(_KEY)
    if pending is None:
        session.connection().execute(statement, values)
    else:
        pending.setdefault(statement, []).append(values)


def waiting(session: Session, statement: Insert) -> list[dict[str, Any]]:
    """The rows `statement` has been given and not yet written (readers add them in)."""
    pending: dict[Insert, list[dict[str, Any]]] | None = session.info.get(_KEY)
    return pending.get(statement, []) if pending else []


def flush(session: Session, *tables: Table) -> None:
    """Write the deferred rows of `tables` (every deferred row without), in the order each
    statement received them, parents first.

    A reader flushes only the table it reads: rows of other tables may name a row that is
    not written yet (a comment names the decision record its message writes when decided).
    """
    pending: dict[Insert, list[dict[str, Any]]] | None = session.info.get(_KEY)
    if pending:
        due = [s for s in pending if not tables or s.table in tables]
        for statement in sorted(due, key=_parents_first):
            session.connection().execute(statement, pending.pop(statement))
    updates: dict[Table, dict[int, dict[str, Any]]] = session.info.get(_UPDATES) or {}
    for table in [t for t in updates if not tables or t in tables]:
        by_columns: dict[frozenset[str], list[dict[str, Any]]] = {}
        for row_id, values in updates.pop(table).items():
            by_columns.setdefault(frozenset(values), []).append({**values, "b_id": row_id})
        for columns, rows in by_columns.items():
            session.connection().execute(update_statement(table, columns), rows)


def _parents_first(statement: Insert) -> int:
    """Where the statement's table comes when tables are ordered by their foreign keys."""
    table = statement.table
    assert isinstance(table, Table)
    return _table_order(table.metadata)[table.name]


@functools.cache
def _table_order(metadata: MetaData) -> dict[str, int]:
    return {table.name: n for n, table in enumerate(metadata.sorted_tables)}
