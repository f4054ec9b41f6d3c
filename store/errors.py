"""Errors raised by the store.

StoreError                 base of everything the store raises
├── StoreUnavailable       transient: the database cannot be reached or is locked; retry later
├── SchemaOutOfDate        permanent until an operator runs `postdesk db upgrade`
└── NotFound               a ticket or row named by the caller does not exist
"""


class StoreError(Exception):
    """Base of the store's errors."""


class StoreUnavailable(StoreError):
    """Transient: the database is down, unreachable or busy. Retry with backoff."""


class SchemaOutOfDate(StoreError):
    """The database schema is older (or newer) than this code; run `postdesk db upgrade`."""


class NotFound(StoreError):
    """The named row does not exist."""
