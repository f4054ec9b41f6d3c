"""IMAP cursors in the database: UIDVALIDITY and the last processed UID per account."""

from __future__ import annotations

from store.clock import utcnow
from store.db import Database
from store.schema import ImapCursorRow


class DatabaseCursorStore:
    """The `ingest.listen.imap_cursor.CursorStore` protocol, kept in the `imap_cursors` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self, account_key: str) -> tuple[int, int] | None:
        with self.db.transaction() as session:
            row = session.get(ImapCursorRow, account_key)
            return (row.uidvalidity, row.last_uid) if row else None

    def save(self, account_key: str, uidvalidity: int, last_uid: int) -> None:
        with self.db.transaction() as session:
            row = session.get(ImapCursorRow, account_key)
            if row is None:
                row = ImapCursorRow(account=account_key)
                session.add(row)
            row.uidvalidity, row.last_uid = uidvalidity, last_uid
            row.updated_at = utcnow()
