"""The decision for a person's mail: which ticket, whether the sender may act on it, and what to do.

Order (SPEC sections 2-3): find the ticket the mail names; forget it when the sender may not
comment on it (an outsider sees exactly what a nonexistent number gives); then staff mail,
a customer's comment, or a new ticket (after the unknown-sender policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ingest.decide import thread
from ingest.decide.authres import AuthVerdict
from ingest.decide.comment import customer_comment
from ingest.decide.create import create_ticket
from ingest.decide.notices import Notices
from ingest.decide.policy import Sender, may_comment
from ingest.decide.staff import staff_mail
from ingest.model import Outcome, ParsedMessage
from ingest.options import PipelineOptions
from ingest.prepare import Redacted
from store.blobs import BlobStore
from store.records import TicketRecord
from store.reply_tokens import parse_token_address, token_matches

Decision = tuple[Outcome, TicketRecord | None, str]


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

    def message_ids(self) -> list[str]:
        ids = [*self.parsed.references]
        if self.parsed.in_reply_to:
            ids.append(self.parsed.in_reply_to)
        return ids


class Actions:
    """Decides and carries out what one person's mail does."""

    def __init__(self, context: Context) -> None:
        self.c = context

    def decide(self) -> Decision:
        c = self.c
        match = thread.find_ticket(
            c.session,
            sender=c.sender.email,
            subject=c.parsed.subject,
            recipients=c.recipients,
            message_ids=c.message_ids(),
            prefix=c.options.ticket_prefix,
            secret_key=c.options.secret_key,
            support_addresses=c.options.support_set,
            token_owners=self._team_token_owner(),
        )
        if c.sender.staff is not None:
            return staff_mail(c, match, self._staff_verified(match))
        if match is not None and c.auth.failed:
            match = None  # a failed DMARC/DKIM/SPF sender may not act on existing tickets
        if match is not None and not may_comment(c.session, c.sender, match.ticket):
            match = None  # exactly as if the ticket did not exist
        if match is not None:
            return customer_comment(c, match)
        return self._new_ticket()

    def _team_token_owner(self) -> tuple[str, ...]:
        """Staff may answer a notice that went to the team address, with its token."""
        team = self.c.options.team_address
        return (team,) if team and self.c.sender.staff is not None else ()

    def _staff_verified(self, match: thread.ThreadMatch | None) -> tuple[bool, str]:
        c = self.c
        if c.auth.failed:
            return False, f"authentication failed ({c.auth.detail})"
        for address in thread.token_addresses(c.recipients, c.options.support_set):
            parsed = parse_token_address(address)
            if parsed is None or (match and parsed.ticket_number != match.ticket.number):
                continue
            if token_matches(c.options.secret_key, parsed, c.sender.email):
                return True, "sent to the staff member's own reply token"
            team = c.options.team_address
            if team and token_matches(c.options.secret_key, parsed, team):
                return True, "sent to the team address's reply token"
        if c.auth.passed:
            return True, f"trusted Authentication-Results ({c.auth.detail})"
        if c.options.trust_staff_from:
            return True, "trust_staff_from is enabled"
        return False, "not sent to the staff member's reply token and no trusted DMARC/DKIM pass"

    def _new_ticket(self) -> Decision:
        c = self.c
        if not c.sender.known:
            policy = c.options.unknown_senders
            if policy == "reject":
                sent = c.notices.unknown_sender(
                    c.sender.email, c.support_address, c.content.subject
                )
                note = "told how to get access" if sent else "already told within 24 hours"
                return Outcome.REJECTED, None, f"rejected: unknown sender ({note})"
            if policy == "hold":
                return Outcome.HELD, None, "held for moderation: unknown sender"
        return create_ticket(c)
