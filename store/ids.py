"""Row ids taken before the row is written, so that a batch can write its rows at commit.

In a batch that writes behind (`store.writebehind`), comments and attachments go to the
database in one multi-row INSERT at commit and a decision record once its decision is
taken, yet other rows name them before that (an attachment its comment, a comment its
decision record). Their ids are therefore taken in advance: on PostgreSQL from the table's
own sequence, many in one query (`reserve`); on SQLite counting on from the largest id,
which is safe because a SQLite transaction holds the write lock from its BEGIN IMMEDIATE
(`store.db`) and, in such a batch, every row written to these tables takes its id from
here. PostgreSQL ids taken and not used leave gaps, as rolled back inserts do.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

_KEY = "reserved_ids"
REFILL = 16  # ids taken at once on PostgreSQL when none were reserved
_NEXTVAL = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")


def _taken(session: Session) -> dict[str, Any]:
    """Per table: the ids reserved and not handed out yet (PostgreSQL), or the last id
    handed out (SQLite)."""
    return session.info.setdefault(_KEY, {})  # type: ignore[no-any-return]


def _is_postgresql(session: Session) -> bool:
    return session.connection().dialect.name == "postgresql"


def reserve(session: Session, table: Table, count: int) -> None:
    """Take `count` ids for `table` now: one query on PostgreSQL, nothing on SQLite."""
    if count > 0 and _is_postgresql(session):
        _pool(session, table).extend(_from_sequence(session, table, count))


def next_id(session: Session, table: Table) -> int:
    """An id no row of `table` has or will get from anyone else."""
    if _is_postgresql(session):
        pool = _pool(session, table)
        if not pool:
            pool.extend(_from_sequence(session, table, REFILL))
        return pool.popleft()
    taken = _taken(session)
    last = taken.get(table.name)
    if last is None:  # this transaction alone writes (see above): count on from the largest
        last = session.connection().execute(select(func.max(table.c.id))).scalar() or 0
    taken[table.name] = last + 1
    return int(last) + 1


def _pool(session: Session, table: Table) -> deque[int]:
    return _taken(session).setdefault(table.name, deque())  # type: ignore[no-any-return]


def _from_sequence(session: Session, table: Table, count: int) -> list[int]:
    rows = session.connection().execute(_NEXTVAL, {"table": table.name, "n": count})
    return [int(row[0]) for row in rows]
