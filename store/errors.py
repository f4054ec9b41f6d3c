"""Errors raised by the store, and which operating-system errors are storage faults.

StoreError                 base of everything the store raises
├── StoreUnavailable       transient: the database cannot be used now; retry later
│   ├── StoreUnreachable   the server is down, or the SQLite file cannot be opened or written
│   │   └── StoreMisconfigured  the server answers but has no such role or database, or refuses
│   │                      the login: the operator creates it or fixes `[database] url`
│   └── StoreLocked        another process held the lock for longer than the busy timeout
├── StorageFault           transient: a file cannot be written (disk full, read-only, I/O
│                          error); not the mail's fault: retry once the storage is back
├── SchemaOutOfDate        permanent until an operator runs `postdesk db upgrade`
└── NotFound               a ticket or row named by the caller does not exist
"""

from __future__ import annotations

import errno

# Errors of the storage itself, never of the content written: a full disk or quota, a
# read-only or failing filesystem, missing permissions, no file descriptors left.
STORAGE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EIO,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EMFILE,
        errno.ENFILE,
    }
)


class StoreError(Exception):
    """Base of the store's errors."""


class StoreUnavailable(StoreError):
    """Transient: the database is down, unreachable or busy. Retry with backoff."""


class StorageFault(StoreError):
    """Transient: a file of the data directory could not be written (disk full, read-only,
    I/O error). Retry with backoff; the message that met it is not to blame."""


class StoreUnreachable(StoreUnavailable):
    """The database server does not answer, or the SQLite file (or its folder) is missing or
    cannot be read and written: the operator checks `[database] url`, the server, the rights."""


class StoreMisconfigured(StoreUnreachable):
    """The database server answers, but the role or database of `[database] url` does not
    exist there, or the login is refused: the operator creates it or fixes the url."""


class StoreLocked(StoreUnavailable):
    """Another process held the database's (write) lock for longer than the busy timeout:
    nothing is wrong with the database; try again once that process is done."""


class SchemaOutOfDate(StoreError):
    """The database schema is older (or newer) than this code; run `postdesk db upgrade`."""


class NotFound(StoreError):
    """The named row does not exist."""


def is_storage_fault(exc: BaseException) -> bool:
    """True for an `OSError` of the storage (`STORAGE_ERRNOS`) or a `StorageFault`."""
    if isinstance(exc, StorageFault):
        return True
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS


def storage_fault(exc: BaseException, what: str) -> StorageFault:
    """A `StorageFault` for `exc` met while writing `what` (its text names the errno only)."""
    code = getattr(exc, "errno", None)
    name = errno.errorcode.get(code, type(exc).__name__) if isinstance(code, int) else "error"
    return StorageFault(f"cannot write {what} ({name}); will retry")
