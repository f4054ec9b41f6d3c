"""Errors raised by the ingest package.

    IngestError                 base
    └── PermanentIngestError    this message can never be processed: quarantine it
        └── ingest.parse.message.UnparseableMessage

Transient faults (the database is down) are the store's `StoreUnavailable`: the spool worker
keeps the message and retries.
"""


class IngestError(Exception):
    """Base of the ingest package's errors."""


class PermanentIngestError(IngestError):
    """The message cannot be processed, now or later: it goes to quarantine."""
