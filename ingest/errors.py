"""Errors raised by the ingest package.

IngestError                 base
├── PermanentIngestError    this message can never be processed: quarantine it
│   └── (ingest.parse.UnparseableMessage is one)
└── TransientIngestError    try again later (the database is down, a disk is full)
"""


class IngestError(Exception):
    """Base of the ingest package's errors."""


class PermanentIngestError(IngestError):
    """The message cannot be processed, now or later: it goes to quarantine."""


class TransientIngestError(IngestError):
    """Processing failed for a reason that may pass: keep the message and retry."""
