"""Messages recorded per intake path by the commands that run outside the daemon.

`postdesk ingest` (the MTA's pipe, or a file) and `postdesk import` decide mail in their own
process, where no `/metrics` endpoint lives; they add their count here after their commit, and
the daemon's `/metrics` reports these rows beside what it counted itself. A count is a plain
upsert in a short transaction of its own, never inside the transaction that records the mail
(no lock on a shared row while a message is decided); a crash between the two loses one count,
never a message.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.schema import IntakeCountRow

__all__ = ["add", "counts", "path_of"]


def add(session: Session, path: str, messages: int = 1) -> None:
    """Add `messages` to the count of `path` (created at 0 when new)."""
    if messages <= 0:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(IntakeCountRow).values(path=path, messages=messages)
    statement = statement.on_conflict_do_update(
        index_elements=[IntakeCountRow.path],
        set_={"messages": IntakeCountRow.messages + messages},
    )
    session.execute(statement)


def counts(session: Session) -> dict[str, int]:
    """Every path's count."""
    rows = session.execute(select(IntakeCountRow.path, IntakeCountRow.messages))
    return {str(path): int(messages) for path, messages in rows}


def path_of(source: str) -> str:
    """The intake path of a spool or decision-record source: ``imap:support`` -> ``imap``,
    ``import:backlog.mbox`` -> ``import``, ``smtp`` -> ``smtp``."""
    return source.partition(":")[0] or "unknown"
