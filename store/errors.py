"""Errors raised by the store.

StoreError                 base of everything the store raises
├── StoreUnavailable       transient: the database cannot be used now; retry later
│   ├── StoreUnreachable   the server is down, or the SQLite file cannot be opened or written
│   └── StoreLocked        another process held the lock for longer than the busy timeout
├── SchemaOutOfDate        permanent until an operator runs `postdesk db upgrade`
└── NotFound               a ticket or row named by the caller does not exist
"""


class StoreError(Exception):
    """Base of the store's errors."""


class StoreUnavailable(StoreError):
    """Transient: the database is down, unreachable or busy. Retry with backoff."""


class StoreUnreachable(StoreUnavailable):
    """The database server does not answer, or the SQLite file (or its folder) is missing or
    cannot be read and written: the operator checks `[database] url`, the server, the rights."""


class StoreLocked(StoreUnavailable):
    """Another process held the database's (write) lock for longer than the busy timeout:
    nothing is wrong with the database; try again once that process is done."""


class SchemaOutOfDate(StoreError):
    """The database schema is older (or newer) than this code; run `postdesk db upgrade`."""


class NotFound(StoreError):
    """The named row does not exist."""
