"""Where an IMAP poller left off: the cursor store protocol and an in-memory store.

A cursor is ``(uidvalidity, last_uid)`` per account key. The poller saves it after the
messages up to ``last_uid`` are in the spool and moved away; when the server reports another
UIDVALIDITY the old ``last_uid`` means nothing and the mailbox is rescanned from UID 1
(dedupe downstream absorbs messages seen twice). The database-backed store lives in
``store/``; ``MemoryCursorStore`` serves tests and one-shot runs.
"""

from __future__ import annotations

import threading
from typing import NamedTuple, Protocol


class ImapCursor(NamedTuple):
    """Highest UID already spooled, valid only under this UIDVALIDITY."""

    uidvalidity: int
    last_uid: int


class CursorStore(Protocol):
    """Persistent cursors, one per IMAP account key."""

    def load(self, account_key: str) -> tuple[int, int] | None:
        """The saved ``(uidvalidity, last_uid)``, or None when the account is new."""
        ...

    def save(self, account_key: str, uidvalidity: int, last_uid: int) -> None:
        """Remember ``(uidvalidity, last_uid)`` durably for the account."""
        ...


class MemoryCursorStore:
    """A thread-safe ``CursorStore`` held in memory (lost on exit)."""

    def __init__(self) -> None:
        self._cursors: dict[str, ImapCursor] = {}
        self._lock = threading.Lock()
        self.saves = 0

    def load(self, account_key: str) -> ImapCursor | None:
        """The saved cursor, or None."""
        with self._lock:
            return self._cursors.get(account_key)

    def save(self, account_key: str, uidvalidity: int, last_uid: int) -> None:
        """Replace the account's cursor."""
        with self._lock:
            self._cursors[account_key] = ImapCursor(uidvalidity, last_uid)
            self.saves += 1
