"""Queue the mails an inbound decision causes, as outbox rows in the same transaction.

Rendering and sending are `notify`'s job; each row carries, in `context`, a snapshot of what
its template shows (the contract is in docs/architecture.md). Muted subscribers get nothing;
addresses that bounce are skipped by the outbox worker when it sends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ingest.options import PipelineOptions
from store import directory, outbox, subscribers
from store.directory import StaffRecord
from store.outbox import NewMail
from store.records import TicketRecord, iso
from store.tickets import AUTOMATED_FLAG

SUMMARY_CHARS = 600
UNKNOWN_SENDER_INTERVAL = timedelta(hours=24)


Files = list[dict[str, Any]] | tuple[dict[str, Any], ...]


def _staff_facts(ticket: TicketRecord, files: Files, blocked: Files) -> dict[str, Any]:
    """What every staff notice of a customer's mail shows besides the text."""
    return {
        "attachments": list(files),
        "blocked_attachments": list(blocked),
        "flags": list(ticket.flags),
    }


def summary(text: str) -> str:
    text = text.strip()
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def never_answered(recipient: str, ticket: TicketRecord | None, quiet: frozenset[str]) -> bool:
    """Automated senders (alerts, notifications) get no automatic mail: neither the sender of
    this message nor the requester of a ticket automated mail opened."""
    address = recipient.lower()
    if address in quiet:
        return True
    return ticket is not None and AUTOMATED_FLAG in ticket.flags and address == ticket.requester


class Notices:
    """Writes outbox rows for one inbound message."""

    def __init__(
        self,
        session: Session,
        options: PipelineOptions,
        now: datetime,
        in_reply_to: str | None,
        *,
        quiet: tuple[str, ...] = (),
    ) -> None:
        """`quiet`: addresses that get no automatic mail (the sender of automated mail)."""
        self.session = session
        self.options = options
        self.now = now
        self.in_reply_to = in_reply_to
        self.quiet = frozenset(a.lower() for a in quiet)

    def _queue(
        self,
        kind: str,
        recipient: str,
        context: dict[str, Any],
        ticket: TicketRecord | None,
        *,
        automatic: bool = True,
        dedupe_key: str | None = None,
    ) -> None:
        if automatic and never_answered(recipient, ticket, self.quiet):
            return
        outbox.queue(
            self.session,
            NewMail(
                kind=kind,
                recipient=recipient,
                context={**context, "in_reply_to": self.in_reply_to},
                ticket_id=ticket.id if ticket else None,
                ticket=ticket.snapshot() if ticket else None,
                automatic=automatic,
                dedupe_key=dedupe_key,
            ),
            now=self.now,
            message_id_domain=self.options.message_id_domain,
        )

    def subscribers(self, ticket: TicketRecord, *, exclude: str = "") -> list[tuple[str, str]]:
        """(email, role) of everyone who gets mail about the ticket, muted ones left out."""
        return [
            (s.email, s.role)
            for s in subscribers.of_ticket(self.session, ticket.id)
            if not s.muted and s.email != exclude
        ]

    def staff_recipient(self, ticket: TicketRecord) -> str | None:
        return ticket.assignee_email or self.options.team_address

    def confirmation(self, ticket: TicketRecord, context: dict[str, Any]) -> None:
        for email, role in self.subscribers(ticket):
            self._queue("confirmation", email, {**context, "recipient_role": role}, ticket)

    def new_ticket_notice(
        self,
        ticket: TicketRecord,
        text: str,
        requester_name: str,
        files: Files = (),
        blocked: Files = (),
    ) -> None:
        """The team's notice of a new ticket, with its attachments, flags and blocked files."""
        recipient = self.staff_recipient(ticket)
        if recipient:
            context = {
                "summary": summary(text),
                "requester_name": requester_name,
                **_staff_facts(ticket, files, blocked),
            }
            self._queue("new_ticket_notice", recipient, context, ticket)

    def comment_notice(
        self,
        ticket: TicketRecord,
        author: str,
        body: str,
        *,
        reopened: bool,
        previous_status: str,
        files: Files = (),
        blocked: Files = (),
    ) -> None:
        recipient = self.staff_recipient(ticket)
        if recipient:
            comment = {"author": author, "body": body, "created_at": iso(self.now)}
            context = {
                "comment": comment,
                "reopened": reopened,
                "previous_status": previous_status,
                **_staff_facts(ticket, files, blocked),
            }
            self._queue("comment_notice", recipient, context, ticket)

    def staff_reply(
        self, ticket: TicketRecord, staff: StaffRecord, body: str, files: Files = ()
    ) -> list[str]:
        """Relay a staff reply to the requester and watchers, From "Name (Desk)", signed and
        with the agent's attachments; returns who it went to."""
        sent = []
        for email, role in self.subscribers(ticket, exclude=staff.email):
            if role == "watcher" and self._is_staff(email):
                continue  # a colleague watching gets the team's copy instead
            context = {
                "comment": {
                    "author": staff.shown_name,
                    "body": body,
                    "signature": staff.signature,
                },
                "status": ticket.status,
                "from_name": f"{staff.shown_name} ({self.options.desk_name})",
                "attachments": list(files),
            }
            self._queue("staff_reply", email, context, ticket, automatic=False)
            sent.append(email)
        return sent

    def team_copy_recipients(self, ticket: TicketRecord, author: str) -> list[str]:
        """Who sees a colleague's public reply: the team address (else the assignee) and
        the staff watching the ticket; never the author."""
        found = [self.options.team_address or ticket.assignee_email or ""]
        found += [
            email
            for email, role in self.subscribers(ticket)
            if role == "watcher" and self._is_staff(email)
        ]
        return [a for a in dict.fromkeys(found) if a and a != author]

    def _is_staff(self, address: str) -> bool:
        return directory.staff_by_email(self.session, address) is not None

    def staff_reply_copy(
        self, ticket: TicketRecord, staff: StaffRecord, body: str, facts: dict[str, Any]
    ) -> None:
        """A copy of a public staff reply for the colleagues (`team_copy_recipients`).

        `facts`: relayed_to, attachments, blocked_attachments, changes (what the reply did)."""
        for address in self.team_copy_recipients(ticket, staff.email):
            context = {
                "comment": {"author": staff.shown_name, "email": staff.email, "body": body},
                **facts,
            }
            self._queue("staff_reply_copy", address, context, ticket)

    def assignment_notice(self, ticket: TicketRecord, assignee: str, by: str) -> None:
        """Tell a staff member a ticket was assigned to them."""
        context = {"assigned_by": by, "flags": list(ticket.flags)}
        self._queue("assignment_notice", assignee, context, ticket)

    def command_problems(
        self,
        ticket: TicketRecord,
        recipient: str,
        invalid: list[tuple[str, str]],
        valid_forms: tuple[str, ...],
    ) -> None:
        """Tell the agent which command lines were not understood, and the valid forms."""
        context = {
            "invalid": [{"line": line, "problem": problem} for line, problem in invalid],
            "valid_forms": list(valid_forms),
        }
        self._queue("command_problems", recipient, context, ticket)

    def redaction_notice(
        self,
        ticket: TicketRecord,
        recipient: str,
        redactions: dict[str, int],
        credential_exposed: bool,
    ) -> None:
        context = {"redactions": redactions, "credential_exposed": credential_exposed}
        self._queue("redaction_notice", recipient, context, ticket)

    def mute_notice(self, ticket: TicketRecord, recipient: str, muted: bool) -> None:
        self._queue("mute_notice", recipient, {"muted": muted}, ticket)

    def escalation_requested(self, ticket: TicketRecord, reason: str) -> None:
        for address in self.options.ops_addresses:
            context = {"reason": reason, "requester": ticket.requester}
            self._queue("escalation_requested", address, context, ticket)

    def unverified_staff(self, ticket: TicketRecord | None, sender: str, why: str) -> None:
        for address in self.options.ops_addresses:
            self._queue("unverified_staff", address, {"sender": sender, "why": why}, ticket)

    def unverified_staff_reply(
        self, ticket: TicketRecord, staff: StaffRecord, facts: dict[str, Any]
    ) -> None:
        """Tell the staff member (their directory address, never a Reply-To) that their mail
        was not applied or relayed, and to answer the reply-token address instead.

        `facts`: why, commands (lines not applied), attachments (names not relayed),
        reply_address."""
        self._queue("unverified_staff_reply", staff.email, facts, ticket)

    def flood_held(self, sender: str, scope: str, count: int, window: str, key: str) -> None:
        for address in self.options.ops_addresses:
            context = {"sender": sender, "scope": scope, "count": count, "window": window}
            self._queue("flood_held", address, context, None, dedupe_key=f"{key}:{address}")

    def unknown_sender(
        self, recipient: str, support_address: str, subject: str, language: str
    ) -> bool:
        """The polite reply to a stranger, at most once per address per 24 hours."""
        since = self.now - UNKNOWN_SENDER_INTERVAL
        if outbox.recent_to(self.session, kind="unknown_sender", recipient=recipient, since=since):
            return False
        context = {
            "desk_name": self.options.desk_name,
            "support_address": support_address,
            "subject": subject,
            "language": language,
        }
        self._queue("unknown_sender", recipient, context, None)
        return True

    def not_found(self, recipient: str, number: str, subject: str) -> None:
        self._queue("not_found", recipient, {"number_named": number, "subject": subject}, None)
