"""Who may do what: who a sender is, and whether they may comment on or watch a ticket.

A sender who may not comment on a ticket is treated exactly as if it did not exist; this
module only answers the questions, the pipeline applies the answer the same way every time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ingest.options import PipelineOptions
from ingest.redact.derived import NO_NAME
from store import directory, subscribers
from store.directory import StaffRecord
from store.records import ContactRecord, TicketRecord
from store.redacted import RedactedText


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a mail, as far as the directory knows."""

    email: str
    name: RedactedText  # the display name of the mail, redacted: it may become a contact's
    contact: ContactRecord | None
    organisation_id: int | None
    staff: StaffRecord | None

    @property
    def known(self) -> bool:
        return (
            self.staff is not None or self.contact is not None or self.organisation_id is not None
        )

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]


def identify(session: Session, email: str, name: RedactedText) -> Sender:
    """Look the sender up as staff, contact, or a member of an organisation's domain."""
    staff = directory.staff_by_email(session, email)
    contact = directory.find_contact(session, email)
    org_id = contact.organisation_id if contact else None
    if org_id is None:
        org_id = directory.organisation_for_domain(session, email.rpartition("@")[2])
    return Sender(email=email, name=name, contact=contact, organisation_id=org_id, staff=staff)


def accepts_automated(sender: Sender, options: PipelineOptions) -> bool:
    """May automated mail (alerts, notifications) from `sender` open or update a ticket?"""
    if sender.known or options.unknown_senders == "create":
        return True
    domain = sender.email.rpartition("@")[2]
    listed = options.accept_automated_from
    return sender.email in listed or domain in listed or f"@{domain}" in listed


def partner_clients(session: Session, sender: Sender) -> frozenset[int]:
    if sender.organisation_id is None:
        return frozenset()
    return directory.partner_clients(session, sender.organisation_id)


def may_see(session: Session, sender: Sender, ticket: TicketRecord) -> bool:
    """Staff, the requester, a watcher, the ticket's organisation (unless private), its partners."""
    if sender.staff is not None:
        return True
    if sender.email in {s.email for s in subscribers.of_ticket(session, ticket.id)}:
        return True
    if ticket.visibility == "private" or ticket.organisation_id is None:
        return False
    if sender.organisation_id == ticket.organisation_id:
        return True
    return ticket.organisation_id in partner_clients(session, sender)


def may_comment(session: Session, sender: Sender, ticket: TicketRecord) -> bool:
    """Commenting is allowed to exactly those who may see the ticket."""
    return may_see(session, sender, ticket)


def may_watch(session: Session, email: str, ticket: TicketRecord) -> bool:
    """A CC address becomes a watcher only if it could see the ticket on its own."""
    watcher = identify(session, email, NO_NAME)
    if watcher.staff is not None:
        return False  # staff follow tickets through assignment, not CC
    if watcher.organisation_id is None:
        return False
    if ticket.organisation_id is not None and watcher.organisation_id == ticket.organisation_id:
        return True
    return ticket.organisation_id in partner_clients(session, watcher)
