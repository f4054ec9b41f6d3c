"""Value objects that cross the ingest stages: raw mail in, parsed mail, the recorded result.

Everything here is a frozen, slotted dataclass: stages hand these to each other, never dicts
or ORM rows. `ParsedMessage` still holds unredacted text; only redacted content may reach
the store (see `ingest.redact.redactor`).
"""

from __future__ import annotations

import email.message
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox from a header: display name and lowercased address."""

    name: str
    email: str


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    """One attachment or inline part, decoded; `charset` is the one its header declares."""

    filename: str
    content_type: str
    payload: bytes
    inline: bool = False
    content_id: str | None = None
    charset: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """A decoded mail: headers that matter, readable text, sanitised HTML, attachments.

    `text` is the text/plain body, or the HTML body converted to readable text when the
    mail has no plain part. `html` is sanitised (no script, no active content) or None.
    `defects` are short operator-readable notes about what was broken in the mail.
    """

    message_id: str | None
    subject: str
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    delivered_to: tuple[str, ...]
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime | None
    text: str
    html: str | None
    attachments: tuple[ParsedAttachment, ...]
    defects: tuple[str, ...]
    authentication_results: tuple[str, ...]
    # The email package's tree, for the classifier; None once classified (`ingest.analyse`).
    message: email.message.Message | None = field(repr=False, compare=False)
    # Where `sender` came from: "from", or "sender", "reply-to", "return-path" when From had
    # no usable mailbox; "" when there is no sender.
    sender_header: str = "from"
    # The Content-Language header as written (a customer's mail client's language), or None.
    content_language: str | None = None


@dataclass(frozen=True, slots=True)
class RawMessage:
    """Raw bytes as they arrived, with the envelope they arrived in."""

    data: bytes
    rcpts: tuple[str, ...] = ()
    mail_from: str = ""
    source: str = "cli"
    received_at: datetime | None = None
    released: bool = False  # re-run from the quarantine: decide afresh, not "duplicate"


class Outcome(StrEnum):
    """What became of one inbound message (the `ingest --json` outcome values)."""

    CREATED = "created"
    COMMENTED = "commented"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    REJECTED = "rejected"
    HELD = "held"
    QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The recorded decision for one message."""

    outcome: Outcome
    ticket: str | None
    message_id: str | None
    reason: str
    redactions: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        """The object `postdesk ingest --json` prints."""
        return {
            "outcome": self.outcome.value,
            "ticket": self.ticket,
            "message_id": self.message_id,
            "reason": self.reason,
            "redactions": dict(sorted(self.redactions.items())),
        }
