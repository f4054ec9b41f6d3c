"""Tickets: create, read, change, list. Comments, attachments, subscribers and the audit
trail have modules of their own (`store.comments`, `store.attachments`, `store.subscribers`,
`store.audit`).

Every function takes the caller's session, so that a whole inbound message (ticket,
comment, audit events, outbox rows) is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, literal_column, or_, select
from sqlalchemy.orm import Session

from store import subscribers, writebehind
from store.errors import NotFound
from store.records import TicketRecord
from store.redacted import RedactedText
from store.schema import (
    Base,
    CommentRow,
    ContactRow,
    OrganisationRow,
    StaffRow,
    TicketRow,
)


@dataclass(frozen=True, slots=True)
class NewTicket:
    prefix: str
    subject: RedactedText
    priority: str
    category: str
    visibility: str
    organisation_id: int | None
    requester_id: int
    support_address: str
    created_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    call_reference: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    related_ticket_id: int | None = None
    language: str | None = None  # of mail to the customer (store.languages)


AUTOMATED_FLAG = "automated"
"""The flag of a ticket automated mail opened: its requester is never sent automatic mail."""

# Statements built once: the hot path passes only their parameters (no per-call compile) and
# runs them on the session's connection, past the ORM: a ticket is read and written as a
# `TicketRecord`, kept per transaction (`_cache`), never as an ORM row.
_TICKETS = Base.metadata.tables[TicketRow.__tablename__]
_CONTACTS = Base.metadata.tables[ContactRow.__tablename__]
_ORGS = Base.metadata.tables[OrganisationRow.__tablename__]
_STAFF = Base.metadata.tables[StaffRow.__tablename__]
# A new ticket's id and the names its record carries, in the INSERT itself (no read back).
_INSERT_TICKET = insert(_TICKETS).returning(
    _TICKETS.c.id,
    # Written out: SQLAlchemy renders a subquery in RETURNING uncorrelated.
    literal_column(
        "(SELECT contacts.email FROM contacts WHERE contacts.id = tickets.requester_id)"
    ).label("requester"),
    literal_column(
        "(SELECT organisations.name FROM organisations"
        " WHERE organisations.id = tickets.organisation_id)"
    ).label("organisation"),
)
# One ticket with the names the record carries (requester, organisation, assignee).
_TICKET_BY_ID = (
    select(
        _TICKETS,
        _CONTACTS.c.email.label("requester"),
        _ORGS.c.name.label("organisation"),
        _STAFF.c.name.label("assignee"),
        _STAFF.c.email.label("assignee_email"),
    )
    .join(_CONTACTS, _CONTACTS.c.id == _TICKETS.c.requester_id)
    .outerjoin(_ORGS, _ORGS.c.id == _TICKETS.c.organisation_id)
    .outerjoin(_STAFF, _STAFF.c.id == _TICKETS.c.assignee_id)
    .where(_TICKETS.c.id == bindparam("ticket_id"))
)
# Changing one of these columns changes a name the record carries: the ticket is read again.
_NAMED_BY = frozenset({"assignee_id", "organisation_id", "requester_id"})


def _cache(session: Session) -> dict[int, TicketRecord]:
    """Tickets this transaction read or wrote, as records; writes here replace them."""
    return session.info.setdefault("ticket_records", {})  # type: ignore[no-any-return]


def _load(session: Session, ticket_id: int) -> TicketRecord | None:
    row = session.connection().execute(_TICKET_BY_ID, {"ticket_id": ticket_id}).first()
    if row is None:
        return None
    record = TicketRecord.from_mapping(row._mapping)
    _cache(session)[ticket_id] = record
    return record


def _record(session: Session, ticket_id: int) -> TicketRecord:
    record = _cache(session).get(ticket_id) or _load(session, ticket_id)
    if record is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    return record


def _write(session: Session, ticket: TicketRecord, values: dict[str, Any]) -> TicketRecord:
    """Update columns of a ticket; returns (and caches) the record as it now is.

    In a batch that writes behind, the change waits for the commit (one UPDATE per changed
    ticket, `store.writebehind.update`): the batch reads its tickets from the cache. A
    change of a column that carries a name is written at once and the row read back."""
    if not _NAMED_BY.intersection(values):
        writebehind.update(session, _TICKETS, ticket.id, values)
        record = ticket.changed(values)
        _cache(session)[ticket.id] = record
        return record
    writebehind.update(session, _TICKETS, ticket.id, values)
    writebehind.flush(session, _TICKETS)  # with the changes waiting: the row is read back
    _cache(session).pop(ticket.id, None)
    return _record(session, ticket.id)


def create_ticket(session: Session, new: NewTicket) -> TicketRecord:
    """Insert a ticket; the database allocates its number."""
    created = new.created_at
    values = {
        "prefix": new.prefix,
        "subject": new.subject,
        "status": "open",
        "priority": new.priority,
        "category": new.category,
        "visibility": new.visibility,
        "organisation_id": new.organisation_id,
        "requester_id": new.requester_id,
        "support_address": new.support_address,
        "call_reference": new.call_reference,
        "fields": dict(new.fields),
        "flags": {},
        "related_ticket_id": new.related_ticket_id,
        "created_at": created,
        "updated_at": created,
        "last_activity_at": created,
        "status_changed_at": created,
        "first_response_due": new.first_response_due,
        "resolution_due": new.resolution_due,
        "language": new.language,
    }
    inserted = session.connection().execute(_INSERT_TICKET, values).one()
    ticket = TicketRecord.from_mapping(
        {
            **values,
            "id": inserted.id,
            "requester": inserted.requester,
            "organisation": inserted.organisation,
            "assignee": None,
            "assignee_email": None,
            "first_responded_at": None,
        }
    )
    _cache(session)[ticket.id] = ticket
    subscribers.add_requester(session, ticket.id, ticket.requester)
    return ticket


def get_ticket(session: Session, ticket_id: int) -> TicketRecord:
    return _record(session, ticket_id)


def find_ticket(session: Session, number: str) -> TicketRecord | None:
    """The ticket numbered like `SUP-1042` (prefix case-insensitive), or None."""
    prefix, _, digits = number.strip().rpartition("-")
    if not prefix or not digits.isdigit() or len(digits) > 12:
        return None
    ticket = _cache(session).get(int(digits)) or _load(session, int(digits))
    if ticket is None or ticket.number.rpartition("-")[0].upper() != prefix.upper():
        return None
    return ticket


def update_ticket(session: Session, ticket_id: int, now: datetime, **changes: Any) -> TicketRecord:
    """Change columns of a ticket (status, priority, assignee_id, dues, ...) and touch it."""
    for name in changes:
        if name not in _TICKETS.c or name in ("id", "prefix"):
            raise AttributeError(f"tickets have no column {name!r}")
    ticket = _record(session, ticket_id)
    values = {**changes, "updated_at": now}
    if "status" in changes and changes["status"] != ticket.status:
        values["status_changed_at"] = now
    return _write(session, ticket, values)


def touch(session: Session, ticket_id: int, when: datetime) -> None:
    """Mark the ticket updated and active at `when` (a comment was added)."""
    ticket = _record(session, ticket_id)
    if ticket.updated_at != when or ticket.last_activity_at != when:
        _write(session, ticket, {"updated_at": when, "last_activity_at": when})


def set_flag(session: Session, ticket_id: int, flag: str, now: datetime) -> None:
    ticket = _record(session, ticket_id)
    flags = dict.fromkeys(ticket.flags, True) | {flag: True}
    _write(session, ticket, {"flags": flags, "updated_at": now})


def list_tickets(
    session: Session,
    *,
    status: str | None = None,
    organisation: str | None = None,
    requester: str | None = None,
    search: str | None = None,
    limit: int | None = None,
) -> list[TicketRecord]:
    """Tickets matching every given filter, newest first; all of them unless `limit`."""
    query = select(TicketRow).order_by(TicketRow.id.desc())
    if status:
        query = query.where(TicketRow.status == status)
    if organisation:
        query = query.join(OrganisationRow, TicketRow.organisation_id == OrganisationRow.id).where(
            func.lower(OrganisationRow.name) == organisation.lower()
        )
    if requester:
        query = query.join(ContactRow, TicketRow.requester_id == ContactRow.id).where(
            ContactRow.email == requester.lower()
        )
    if search:
        pattern = f"%{search.lower()}%"
        in_comments = select(CommentRow.ticket_id).where(func.lower(CommentRow.body).like(pattern))
        query = query.where(
            or_(func.lower(TicketRow.subject).like(pattern), TicketRow.id.in_(in_comments))
        )
    if limit:
        query = query.limit(limit)
    return [TicketRecord.from_row(r) for r in session.scalars(query).unique()]
