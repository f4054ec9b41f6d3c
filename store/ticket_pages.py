"""Tickets as the REST API reads them: filtered pages in keyset order, and who may see one.

A page is the tickets after a cursor `(updated_at, id)`, newest change first, read by the
`(updated_at, id)` indexes: its cost does not grow with the number of tickets before it.

`Scope` limits what a caller sees. An organisation's scope is its own organisation-visible
tickets and those of the client organisations it is a partner of; a private ticket is for its
requester, watchers and staff only. A ticket outside the scope is looked up by the very same
query as any other, and is simply not found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, true, tuple_
from sqlalchemy.orm import Session

from store import directory
from store.records import TicketRecord
from store.schema import (
    Base,
    CommentRow,
    ContactRow,
    OrganisationRow,
    StaffRow,
    SubscriberRow,
    TicketRow,
)

__all__ = ["Filters", "Listed", "Scope", "page", "scope_of", "visible_numbers", "visible_ticket"]

_TICKETS = Base.metadata.tables[TicketRow.__tablename__]
_RELATED = _TICKETS.alias("related")
_CONTACTS = Base.metadata.tables[ContactRow.__tablename__]
_ORGS = Base.metadata.tables[OrganisationRow.__tablename__]
_STAFF = Base.metadata.tables[StaffRow.__tablename__]
_SUBS = Base.metadata.tables[SubscriberRow.__tablename__]
_COMMENTS = Base.metadata.tables[CommentRow.__tablename__]


@dataclass(frozen=True, slots=True)
class Scope:
    """All tickets (`organisations` None), or the organisation-visible tickets of these
    organisations (one's own and its partner clients': `scope_of`)."""

    organisations: frozenset[int] | None = None

    def condition(self) -> ColumnElement[bool]:
        if self.organisations is None:
            return true()
        ids = sorted(self.organisations)
        # One organisation: an equality, so the (organisation_id, updated_at, id) index
        # gives a page in order however few of all tickets are the organisation's.
        owned = (
            _TICKETS.c.organisation_id == ids[0]
            if len(ids) == 1
            else (_TICKETS.c.organisation_id.in_(ids))
        )
        return owned & (_TICKETS.c.visibility == "organisation")


def scope_of(session: Session, organisation_id: int | None) -> Scope:
    """What a caller of `organisation_id` (None: the desk itself) may see."""
    if organisation_id is None:
        return Scope()
    return Scope(frozenset({organisation_id, *directory.partner_clients(session, organisation_id)}))


@dataclass(frozen=True, slots=True)
class Filters:
    """The listing's filters; each one given narrows it (all of them must match)."""

    status: str | None = None
    priority: str | None = None
    organisation: str | None = None
    requester: str | None = None
    assignee: str | None = None
    updated_since: datetime | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class Listed:
    """A ticket of a page, with what its summary shows besides the record."""

    ticket: TicketRecord
    watchers: tuple[str, ...]
    related: tuple[str, ...]


def _base() -> Select[Any]:
    return (
        select(
            _TICKETS,
            _CONTACTS.c.email.label("requester"),
            _ORGS.c.name.label("organisation"),
            _STAFF.c.name.label("assignee"),
            _STAFF.c.email.label("assignee_email"),
            _RELATED.c.prefix.label("related_prefix"),
        )
        .join(_CONTACTS, _CONTACTS.c.id == _TICKETS.c.requester_id)
        .outerjoin(_ORGS, _ORGS.c.id == _TICKETS.c.organisation_id)
        .outerjoin(_STAFF, _STAFF.c.id == _TICKETS.c.assignee_id)
        .outerjoin(_RELATED, _RELATED.c.id == _TICKETS.c.related_ticket_id)
    )


def _filtered(session: Session, query: Select[Any], filters: Filters) -> Select[Any]:
    t = _TICKETS.c
    if filters.status:
        query = query.where(t.status == filters.status)
    if filters.priority:
        query = query.where(t.priority == filters.priority)
    if filters.organisation:  # by its id, so that the organisation's index gives the order
        named = select(_ORGS.c.id).where(func.lower(_ORGS.c.name) == filters.organisation.lower())
        query = query.where(t.organisation_id == (session.scalar(named) or 0))
    if filters.requester:
        person = select(_CONTACTS.c.id).where(_CONTACTS.c.email == filters.requester.lower())
        query = query.where(t.requester_id.in_(person))
    if filters.assignee:
        wanted = filters.assignee.strip().lower()
        staff = select(_STAFF.c.id).where(
            or_(func.lower(_STAFF.c.name) == wanted, _STAFF.c.email == wanted)
        )
        query = query.where(t.assignee_id.in_(staff))
    if filters.updated_since is not None:
        query = query.where(t.updated_at >= filters.updated_since)
    if filters.search:
        pattern = f"%{filters.search.lower()}%"
        in_comments = select(_COMMENTS.c.ticket_id).where(
            func.lower(_COMMENTS.c.body).like(pattern)
        )
        query = query.where(or_(func.lower(t.subject).like(pattern), t.id.in_(in_comments)))
    return query


def page(
    session: Session,
    scope: Scope,
    filters: Filters,
    *,
    after: tuple[datetime, int] | None,
    size: int,
) -> tuple[list[Listed], tuple[datetime, int] | None]:
    """Up to `size` tickets after the cursor `after`, and the cursor of the next page (None
    on the last page)."""
    query = _filtered(session, _base().where(scope.condition()), filters)
    if after is not None:
        query = query.where(tuple_(_TICKETS.c.updated_at, _TICKETS.c.id) < tuple_(*after))
    query = query.order_by(_TICKETS.c.updated_at.desc(), _TICKETS.c.id.desc()).limit(size + 1)
    rows = session.connection().execute(query).all()
    more = len(rows) > size
    rows = rows[:size]
    watchers = _watchers(session, [row.id for row in rows])
    listed = [
        Listed(
            TicketRecord.from_mapping(row._mapping),
            watchers.get(row.id, ()),
            (f"{row.related_prefix}-{row.related_ticket_id}",) if row.related_ticket_id else (),
        )
        for row in rows
    ]
    last = listed[-1].ticket if listed else None
    return listed, ((last.updated_at, last.id) if more and last else None)


def _watchers(session: Session, ticket_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    if not ticket_ids:
        return {}
    rows = session.connection().execute(
        select(_SUBS.c.ticket_id, _SUBS.c.email)
        .where(_SUBS.c.ticket_id.in_(ticket_ids), _SUBS.c.role == "watcher")
        .order_by(_SUBS.c.ticket_id, _SUBS.c.email)
    )
    found: dict[int, list[str]] = {}
    for ticket_id, email in rows:
        found.setdefault(ticket_id, []).append(email)
    return {k: tuple(v) for k, v in found.items()}


def visible_ticket(session: Session, number: str, scope: Scope) -> TicketRecord | None:
    """The ticket numbered `number` (like `SUP-1042`, prefix case-insensitive) if `scope`
    sees it: one query, the same whether the ticket is missing or only out of scope."""
    prefix, _, digits = number.strip().rpartition("-")
    ticket_id = int(digits) if digits.isdigit() and len(digits) <= 12 else 0
    row = (
        session.connection()
        .execute(_base().where(_TICKETS.c.id == ticket_id, scope.condition()))
        .first()
    )
    if row is None or not prefix or str(row.prefix).upper() != prefix.upper():
        return None
    return TicketRecord.from_mapping(row._mapping)


def visible_numbers(session: Session, ticket_ids: Sequence[int], scope: Scope) -> dict[int, str]:
    """The numbers of the tickets among `ticket_ids` that `scope` sees."""
    if not ticket_ids:
        return {}
    rows = session.connection().execute(
        select(_TICKETS.c.id, _TICKETS.c.prefix).where(
            _TICKETS.c.id.in_(sorted(set(ticket_ids))), scope.condition()
        )
    )
    return {int(row.id): f"{row.prefix}-{row.id}" for row in rows}
