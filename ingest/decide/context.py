"""What is known about one message while it is decided (`Context`), and the result (`Decision`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ingest.decide.authres import AuthVerdict
from ingest.decide.notices import Notices
from ingest.decide.policy import Sender
from ingest.model import Outcome, ParsedMessage
from ingest.options import PipelineOptions
from ingest.prepare import Redacted
from store.blobs import BlobStore
from store.records import TicketRecord

__all__ = ["Context", "Decision"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What a person's mail did: the outcome, the ticket it touched, and why (for the log)."""

    outcome: Outcome
    ticket: TicketRecord | None
    reason: str


@dataclass(frozen=True, slots=True)
class Context:
    """Everything known about one message while it is being decided."""

    session: Session
    options: PipelineOptions
    blobs: BlobStore | None
    now: datetime
    received_at: datetime
    parsed: ParsedMessage
    content: Redacted
    sender: Sender
    support_address: str
    recipients: list[str]
    auth: AuthVerdict
    message_row_id: int
    notices: Notices
    automated: bool = False  # alerts and notifications: may open a ticket, never answered
    language: str | None = None  # of the mail's text, when the analysis' detector was sure
    language_checked: bool = False  # the analysis ran the detector (see decide.language)
    holds: bool = True  # False: released by an operator, `unknown_senders = "hold"` passed

    def message_ids(self) -> list[str]:
        ids = [*self.parsed.references]
        if self.parsed.in_reply_to:
            ids.append(self.parsed.in_reply_to)
        return ids
