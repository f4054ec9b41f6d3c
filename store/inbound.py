"""Inbound message records: dedupe, the decision record, flood counts, thread lookups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, literal, select, union_all, update
from sqlalchemy.orm import Session

from store import ids, writebehind
from store.db import prefetch
from store.errors import NotFound
from store.records import MessageRecord, utc
from store.schema import Base, InboundMessageRow, OutboxRow


@dataclass(frozen=True, slots=True)
class NewMessage:
    dedupe_key: str
    message_id: str | None
    sender: str
    subject: str
    source: str
    received_at: datetime
    recorded_at: datetime
    outcome: str
    reason: str
    ticket_id: int | None = None
    redactions: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


_MESSAGES = Base.metadata.tables[InboundMessageRow.__tablename__]
_INSERT_MESSAGE = insert(_MESSAGES).returning(_MESSAGES.c.id)
_INSERT_MESSAGE_WITH_ID = insert(_MESSAGES)
_COMPLETE_MESSAGE = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("row_id"))
    .values(
        outcome=bindparam("outcome"), reason=bindparam("reason"), ticket_id=bindparam("ticket_id")
    )
)


_RECORD_COLUMNS = select(
    _MESSAGES.c.id,
    _MESSAGES.c.dedupe_key,
    _MESSAGES.c.message_id,
    _MESSAGES.c.sender,
    _MESSAGES.c.outcome,
    _MESSAGES.c.reason,
    _MESSAGES.c.received_at,
    _MESSAGES.c.ticket_id,
)
_BY_DEDUPE_KEY = _RECORD_COLUMNS.where(_MESSAGES.c.dedupe_key == bindparam("key"))
_BY_DEDUPE_KEYS = _RECORD_COLUMNS.where(
    _MESSAGES.c.dedupe_key.in_(bindparam("keys", expanding=True))
)


def _known_keys(session: Session) -> dict[str, MessageRecord | None]:
    """Dedupe keys looked up in advance for a batch (`prefetch_dedupe_keys`)."""
    return session.info.setdefault("dedupe_keys", {})  # type: ignore[no-any-return]


def prefetch_dedupe_keys(session: Session, keys: Sequence[str]) -> None:
    """Look up a batch's dedupe keys with one query; `find_by_dedupe_key` then answers from it."""

    def lookup(chunk: list[str]) -> dict[str, MessageRecord]:
        rows = session.connection().execute(_BY_DEDUPE_KEYS, {"keys": chunk})
        return {row.dedupe_key: MessageRecord.from_row(row) for row in rows}

    prefetch(_known_keys(session), keys, lookup)


def find_by_dedupe_key(session: Session, key: str) -> MessageRecord | None:
    known = _known_keys(session)
    if key in known:
        return known[key]
    found = session.connection().execute(_BY_DEDUPE_KEY, {"key": key}).first()
    return MessageRecord.from_row(found) if found is not None else None


def record_message(session: Session, new: NewMessage, row_id: int | None = None) -> int:
    """Store the decision record; returns its id. The unique dedupe key guards double inserts.

    In a batch that writes behind, the record is written at commit with an id taken in
    advance (`store.ids`) or given; the dedupe lookup and the readers here see it meanwhile.
    """
    _known_keys(session).pop(new.dedupe_key, None)  # from now on, ask the database
    values: dict[str, Any] = {
        "dedupe_key": new.dedupe_key,
        "message_id": new.message_id,
        "sender": new.sender,
        "sender_domain": new.sender.rpartition("@")[2],
        "subject": new.subject,
        "source": new.source,
        "received_at": new.received_at,
        "recorded_at": new.recorded_at,
        "outcome": new.outcome,
        "reason": new.reason,
        "ticket_id": new.ticket_id,
        "redactions": dict(new.redactions),
        "details": dict(new.details),
    }
    if not writebehind.deferring(session):
        if row_id is None:
            return int(session.connection().execute(_INSERT_MESSAGE, values).scalar_one())
        session.connection().execute(_INSERT_MESSAGE_WITH_ID, {"id": row_id, **values})
        return row_id
    # Written behind, at commit: until then the readers below add the row in themselves.
    if row_id is None:
        row_id = ids.next_id(session, _MESSAGES)
    writebehind.add(session, _INSERT_MESSAGE_WITH_ID, {"id": row_id, **values})
    _known_keys(session)[new.dedupe_key] = MessageRecord(
        row_id, new.message_id, new.sender, new.outcome, new.reason, new.received_at, new.ticket_id
    )
    return row_id


def _unwritten(session: Session) -> list[dict[str, Any]]:
    """Decision records this batch has not written yet (`store.writebehind`)."""
    return writebehind.waiting(session, _INSERT_MESSAGE_WITH_ID)


def reserve_ids(session: Session, count: int) -> None:
    """Take the ids of a batch's decision records at once, when the batch writes behind."""
    if writebehind.deferring(session):
        ids.reserve(session, _MESSAGES, count)


def _open_messages(session: Session) -> dict[int, NewMessage]:
    return session.info.setdefault("open_messages", {})  # type: ignore[no-any-return]


def begin_message(session: Session, new: NewMessage) -> int:
    """The id of the decision record of a message whose decision is being taken.

    The record is written now (in progress) and completed by `finish_message`; in a batch
    that writes behind, only its id is taken now and `finish_message` writes it whole (one
    statement instead of two: its comments and audit events, which name it, are written at
    commit)."""
    if not writebehind.deferring(session):
        return record_message(session, new)
    row_id = ids.next_id(session, _MESSAGES)
    _open_messages(session)[row_id] = new
    return row_id


def finish_message(
    session: Session, row_id: int, outcome: str, reason: str, ticket_id: int | None
) -> None:
    """Write the decision into the record `begin_message` started."""
    new = _open_messages(session).pop(row_id, None)
    if new is None:
        complete_message(session, row_id, outcome, reason, ticket_id)
        return
    final = replace(new, outcome=outcome, reason=reason, ticket_id=ticket_id)
    record_message(session, final, row_id)


def forget_message(session: Session, row_id: int) -> None:
    """Delete a decision record (a quarantined message that is being retried)."""
    writebehind.flush(session, _MESSAGES)
    known = _known_keys(session)
    for key in [k for k, record in known.items() if record is not None and record.id == row_id]:
        del known[key]
    row = session.get(InboundMessageRow, row_id)
    if row is not None:
        session.delete(row)
        session.flush()


def complete_message(
    session: Session, row_id: int, outcome: str, reason: str, ticket_id: int | None
) -> None:
    """Fill in the decision of a record written before the decision was taken."""
    done = session.connection().execute(
        _COMPLETE_MESSAGE,
        {"row_id": row_id, "outcome": outcome, "reason": reason, "ticket_id": ticket_id},
    )
    if not done.rowcount:
        raise NotFound(f"no inbound message record {row_id}")


def count_since(
    session: Session, *, since: datetime, sender: str | None = None, domain: str | None = None
) -> int:
    """Messages recorded from a sender (or a sending domain) since an instant."""
    query = (
        select(func.count())
        .select_from(InboundMessageRow)
        .where(InboundMessageRow.received_at >= since)
    )
    if sender is not None:
        query = query.where(InboundMessageRow.sender == sender)
    if domain is not None:
        query = query.where(InboundMessageRow.sender_domain == domain)
    floor = utc(since) or since
    unwritten = [
        row
        for row in _unwritten(session)
        if (utc(row["received_at"]) or floor) >= floor
        and (sender is None or row["sender"] == sender)
        and (domain is None or row["sender_domain"] == domain)
    ]
    return int(session.scalar(query) or 0) + len(unwritten)


_OUTBOX = Base.metadata.tables[OutboxRow.__tablename__]
# The mails we sent and the mails we received with these ids, and their tickets: every
# match (a Message-ID has one row, or a few), found by the message_id indexes. Rows without
# a ticket are left out here, not in SQL: given "ticket_id IS NOT NULL" (or ORDER BY id
# LIMIT 1), PostgreSQL may walk another index over the whole table instead.
_TICKETS_OF = union_all(
    select(literal(True).label("sent"), _OUTBOX.c.id, _OUTBOX.c.ticket_id).where(
        _OUTBOX.c.message_id.in_(bindparam("ids", expanding=True))
    ),
    select(literal(False).label("sent"), _MESSAGES.c.id, _MESSAGES.c.ticket_id).where(
        _MESSAGES.c.message_id.in_(bindparam("ids", expanding=True))
    ),
)


def ticket_for_message_ids(session: Session, message_ids: Sequence[str]) -> int | None:
    """The ticket of the newest message (received or sent by us) among `message_ids`.

    Outbox rows still deferred in this batch (`store.writebehind`) are not looked at: they
    have not been sent, so no mail can answer them yet.
    """
    if not message_ids:
        return None
    params = {"ids": list(dict.fromkeys(message_ids))[-50:]}
    connection = session.connection()
    rows = [row for row in connection.execute(_TICKETS_OF, params) if row.ticket_id]
    sent = [row for row in rows if row.sent]
    if sent:
        return int(max(sent, key=_row_id).ticket_id)
    wanted = set(params["ids"])
    received: list[Any] = [
        *rows,
        *(
            row
            for row in _unwritten(session)
            if row["message_id"] in wanted and row["ticket_id"] is not None
        ),
    ]
    newest = max(received, default=None, key=_row_id)
    if newest is None:
        return None
    return int(newest["ticket_id"] if isinstance(newest, dict) else newest.ticket_id)


def _row_id(row: Any) -> int:
    """The id of a result row or of a row written behind (a dict)."""
    return int(row["id"] if isinstance(row, dict) else row.id)


def messages_for_ticket(session: Session, ticket_id: int) -> list[MessageRecord]:
    writebehind.flush(session, _MESSAGES)
    rows = session.scalars(
        select(InboundMessageRow)
        .where(InboundMessageRow.ticket_id == ticket_id)
        .order_by(InboundMessageRow.id)
    )
    return [MessageRecord.from_row(r) for r in rows]


# A ticket's thread: the mails received and sent (with a Message-ID), or those one person saw.
_RECEIVED_IN = select(_MESSAGES.c.recorded_at, _MESSAGES.c.message_id).where(
    _MESSAGES.c.ticket_id == bindparam("ticket_id"), _MESSAGES.c.message_id.is_not(None)
)
_SENT_IN = select(_OUTBOX.c.created_at, _OUTBOX.c.message_id).where(
    _OUTBOX.c.ticket_id == bindparam("ticket_id"), _OUTBOX.c.message_id.is_not(None)
)
_RECEIVED_FROM = _RECEIVED_IN.where(_MESSAGES.c.sender == bindparam("person"))
_SENT_TO = _SENT_IN.where(_OUTBOX.c.recipient == bindparam("person"))


def thread_message_ids(
    session: Session, ticket_id: int, *, recipient: str | None = None, exclude: str | None = None
) -> list[str]:
    """Message-IDs of the ticket's thread, oldest first (for References on outgoing mail).

    With `recipient`, only the mails that person has seen: the ones they sent and the ones we
    sent them (no internal notes, no other people's notices). `exclude` is the mail's own id.
    """
    writebehind.flush(session, _MESSAGES)
    connection = session.connection()
    if recipient is None:
        params: dict[str, Any] = {"ticket_id": ticket_id}
        rows = [*connection.execute(_RECEIVED_IN, params), *connection.execute(_SENT_IN, params)]
    else:
        params = {"ticket_id": ticket_id, "person": recipient.lower()}
        rows = [
            *connection.execute(_RECEIVED_FROM, params),
            *connection.execute(_SENT_TO, params),
        ]
    ordered = sorted(rows, key=lambda r: r[0].replace(tzinfo=None))
    return [i for i in dict.fromkeys(str(r[1]) for r in ordered) if i != exclude]


def we_mailed(
    session: Session, recipient: str, original_message_id: str | None, since: datetime
) -> bool:
    """Whether a bounce for `recipient` answers our mail: its returned Message-ID is one of
    ours, or (when the bounce names none) we mailed that address since `since`. Rows still
    deferred in this batch (`store.writebehind`) are unsent, so no bounce can answer them."""
    query = select(OutboxRow.id).where(OutboxRow.recipient == recipient.lower())
    if original_message_id:
        query = query.where(OutboxRow.message_id == original_message_id)
    else:
        query = query.where(OutboxRow.created_at >= since)
    return session.scalar(query.limit(1)) is not None


def messages_with_id(session: Session, message_id: str) -> list[MessageRecord]:
    """Every decision record of the mail with this Message-ID (any outcome), oldest first."""
    writebehind.flush(session, _MESSAGES)
    rows = session.connection().execute(
        _RECORD_COLUMNS.where(_MESSAGES.c.message_id == message_id).order_by(_MESSAGES.c.id)
    )
    return [MessageRecord.from_row(row) for row in rows]
