"""Who gets mail about a ticket: its requester and watchers, each of whom may mute it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from store import writebehind
from store.schema import Base, SubscriberRow

__all__ = ["Subscriber", "add_requester", "add_watcher", "of_ticket", "set_muted"]


@dataclass(frozen=True, slots=True)
class Subscriber:
    email: str
    role: str  # requester | watcher
    muted: bool


_SUBS = Base.metadata.tables[SubscriberRow.__tablename__]
_INSERT_SUBSCRIBER = insert(_SUBS)
_SUBSCRIBERS_OF = (
    select(_SUBS.c.email, _SUBS.c.role, _SUBS.c.muted)
    .where(_SUBS.c.ticket_id == bindparam("ticket_id"))
    .order_by(_SUBS.c.role, _SUBS.c.email)
)
_SUBSCRIBER = select(_SUBS.c.email).where(
    _SUBS.c.ticket_id == bindparam("ticket_id"), _SUBS.c.email == bindparam("email")
)
_SET_MUTED = (
    update(_SUBS)
    .where(_SUBS.c.ticket_id == bindparam("b_ticket"), _SUBS.c.email == bindparam("b_email"))
    .values(muted=bindparam("b_muted"))
)


def _subscriber_cache(session: Session) -> dict[int, tuple[Subscriber, ...]]:
    """Subscribers of the tickets this transaction read or created (see `of_ticket`)."""
    return session.info.setdefault("ticket_subscribers", {})  # type: ignore[no-any-return]


def of_ticket(session: Session, ticket_id: int) -> list[Subscriber]:
    """Who gets mail about the ticket: the requester first, then watchers by address."""
    cache = _subscriber_cache(session)
    known = cache.get(ticket_id)
    if known is None:
        rows = session.connection().execute(_SUBSCRIBERS_OF, {"ticket_id": ticket_id})
        known = cache[ticket_id] = tuple(Subscriber(r.email, r.role, r.muted) for r in rows)
    return list(known)


def _changing_subscribers(session: Session, ticket_id: int) -> None:
    """Before a change to a ticket's subscribers: rows written behind go first (the change
    reads or updates them), and the cached list is read again after it."""
    writebehind.flush(session, _SUBS)
    _subscriber_cache(session).pop(ticket_id, None)


def add_watcher(session: Session, ticket_id: int, email: str) -> bool:
    """Add a watcher; False when the address already receives mail about the ticket."""
    _changing_subscribers(session, ticket_id)
    key = {"ticket_id": ticket_id, "email": email.lower()}
    if session.connection().execute(_SUBSCRIBER, key).first() is not None:
        return False
    session.connection().execute(_INSERT_SUBSCRIBER, {**key, "role": "watcher", "muted": False})
    return True


def set_muted(session: Session, ticket_id: int, email: str, muted: bool) -> bool:
    """Stop (or resume) mail about the ticket to one subscriber; False if not subscribed."""
    _changing_subscribers(session, ticket_id)
    done = session.connection().execute(
        _SET_MUTED, {"b_ticket": ticket_id, "b_email": email.lower(), "b_muted": muted}
    )
    return bool(done.rowcount)


def add_requester(session: Session, ticket_id: int, email: str) -> None:
    """Subscribe a new ticket's requester (written behind in a batch)."""
    writebehind.add(
        session,
        _INSERT_SUBSCRIBER,
        {"ticket_id": ticket_id, "email": email, "role": "requester", "muted": False},
    )
    _subscriber_cache(session)[ticket_id] = (Subscriber(email, "requester", False),)
