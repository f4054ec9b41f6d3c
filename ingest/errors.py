"""Errors raised by the ingest package.

    IngestError                     base
    ├── PermanentIngestError        this message can never be processed: quarantine it
    │   └── ingest.parse.message.UnparseableMessage
    └── QuarantineError             the quarantine store cannot do what was asked
        ├── QuarantineItemNotFound  no quarantined item has that id
        └── QuarantineKeyError      the item was sealed with another secret key

Transient faults (the database is down) are the store's `StoreUnavailable`: the spool worker
keeps the message and retries.
"""


class IngestError(Exception):
    """Base of the ingest package's errors."""


class PermanentIngestError(IngestError):
    """The message cannot be processed, now or later: it goes to quarantine."""


class QuarantineError(IngestError):
    """Base error of the quarantine store."""


class QuarantineItemNotFound(QuarantineError):
    """No quarantined item has the given id."""


class QuarantineKeyError(QuarantineError):
    """The item cannot be decrypted with the configured secret_key."""
