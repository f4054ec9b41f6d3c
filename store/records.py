"""Frozen records the store hands out: the store's vocabulary, never ORM rows.

Callers outside `store` see only these; each has a `from_row` constructor used inside the
store's own modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row

from store.schema import (
    AttachmentRow,
    CommentRow,
    ContactRow,
    InboundMessageRow,
    OutboxRow,
    TicketRow,
)


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time in this project is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso(value: datetime | None) -> str | None:
    """ISO-8601 UTC with a Z, or None."""
    aware = utc(value)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z") if aware else None


@dataclass(frozen=True, slots=True)
class ContactRecord:
    id: int
    email: str
    name: str
    organisation_id: int | None
    bouncing: bool

    @classmethod
    def from_row(cls, row: ContactRow) -> ContactRecord:
        return cls(row.id, row.email, row.name, row.organisation_id, row.bouncing)


@dataclass(frozen=True, slots=True)
class TicketSnapshot:
    """A ticket as a mail about it shows it: the `ticket` of every template context.

    Taken when the mail is queued (so a notice shows the ticket as it was then) and stored
    in the outbox row's context as JSON (`as_context`); templates read its keys.
    """

    number: str
    subject: str
    status: str
    priority: str
    category: str
    organisation: str | None
    requester: str
    assignee: str | None
    created_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    support_address: str
    fields: dict[str, Any]
    call_reference: str | None
    language: str | None = None  # of mail to the customer; None: the desk's default

    def as_context(self) -> dict[str, Any]:
        """The JSON-ready form an outbox row's context holds under `ticket`."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return {
            **values,
            "created_at": iso(self.created_at),
            "first_response_due": iso(self.first_response_due),
            "resolution_due": iso(self.resolution_due),
            "fields": dict(self.fields),
        }


@dataclass(frozen=True, slots=True)
class TicketRecord:
    id: int
    number: str
    subject: str
    status: str
    priority: str
    category: str
    visibility: str
    organisation_id: int | None
    organisation: str | None
    requester_id: int
    requester: str
    assignee: str | None
    assignee_email: str | None
    support_address: str
    call_reference: str | None
    fields: dict[str, Any]
    flags: tuple[str, ...]
    related_ticket_id: int | None
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    status_changed_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_responded_at: datetime | None
    language: str | None = None

    def snapshot(self) -> TicketSnapshot:
        """What every outbox row about this ticket shows of it (see `TicketSnapshot`)."""
        shown = {name: getattr(self, name) for name in TicketSnapshot.__dataclass_fields__}
        return TicketSnapshot(**{**shown, "fields": dict(self.fields)})

    @classmethod
    def from_row(cls, row: TicketRow) -> TicketRecord:
        """From an ORM row (its relationships give the names)."""
        return cls.from_mapping(
            {
                **{c: getattr(row, c) for c in _TICKET_COLUMNS},
                "requester": row.requester.email,
                "organisation": row.organisation.name if row.organisation else None,
                "assignee": row.assignee.name if row.assignee else None,
                "assignee_email": row.assignee.email if row.assignee else None,
            }
        )

    @classmethod
    def from_mapping(cls, row: Mapping[Any, Any]) -> TicketRecord:
        """From the ticket's columns plus `requester`, `organisation`, `assignee` and
        `assignee_email` (the names joined in)."""
        return cls(
            id=row["id"],
            number=f"{row['prefix']}-{row['id']}",
            subject=row["subject"],
            status=row["status"],
            priority=row["priority"],
            category=row["category"],
            visibility=row["visibility"],
            organisation_id=row["organisation_id"],
            organisation=row["organisation"],
            requester_id=row["requester_id"],
            requester=row["requester"],
            assignee=row["assignee"],
            assignee_email=row["assignee_email"],
            support_address=row["support_address"],
            call_reference=row["call_reference"],
            fields=dict(row["fields"] or {}),
            flags=_set_flags(row["flags"]),
            related_ticket_id=row["related_ticket_id"],
            created_at=utc(row["created_at"]) or row["created_at"],
            updated_at=utc(row["updated_at"]) or row["updated_at"],
            last_activity_at=utc(row["last_activity_at"]) or row["last_activity_at"],
            status_changed_at=utc(row["status_changed_at"]) or row["status_changed_at"],
            first_response_due=utc(row["first_response_due"]),
            resolution_due=utc(row["resolution_due"]),
            first_responded_at=utc(row["first_responded_at"]),
            language=row.get("language"),
        )

    def changed(self, columns: Mapping[str, Any]) -> TicketRecord:
        """This record after an update of plain `columns` (not the ones that carry a name)."""
        values: dict[str, Any] = {}
        for name, value in columns.items():
            if name == "flags":
                values[name] = _set_flags(value)
            elif name == "fields":
                values[name] = dict(value or {})
            elif isinstance(value, datetime):
                values[name] = utc(value)
            else:
                values[name] = value
        return replace(self, **values)


_TICKET_COLUMNS = (
    "id",
    "prefix",
    "subject",
    "status",
    "priority",
    "category",
    "visibility",
    "organisation_id",
    "requester_id",
    "support_address",
    "call_reference",
    "fields",
    "flags",
    "related_ticket_id",
    "created_at",
    "updated_at",
    "last_activity_at",
    "status_changed_at",
    "first_response_due",
    "resolution_due",
    "language",
    "first_responded_at",
)


def _set_flags(flags: Mapping[str, Any] | None) -> tuple[str, ...]:
    return tuple(sorted(k for k, v in (flags or {}).items() if v))


@dataclass(frozen=True, slots=True)
class CommentRecord:
    id: int
    author: str
    author_role: str
    public: bool
    body: str
    created_at: datetime
    redactions: dict[str, int]
    notes: dict[str, Any]

    @classmethod
    def from_row(cls, row: CommentRow) -> CommentRecord:
        return cls(
            id=row.id,
            author=row.author_email,
            author_role=row.author_role,
            public=row.public,
            body=row.body,
            created_at=utc(row.created_at) or row.created_at,
            redactions=dict(row.redactions or {}),
            notes=dict(row.notes or {}),
        )


@dataclass(frozen=True, slots=True)
class AttachmentRecord:
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool

    @classmethod
    def from_row(cls, row: AttachmentRow) -> AttachmentRecord:
        return cls(row.id, row.filename, row.content_type, row.size, row.sha256, row.inline)


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """The decision record of one inbound message."""

    id: int
    message_id: str | None
    sender: str
    outcome: str
    reason: str
    received_at: datetime
    ticket_id: int | None
    source: str = ""  # the intake path: smtp, lmtp, imap:ACCOUNT, pipe, cli, mailgun, ...

    @classmethod
    def from_row(cls, row: InboundMessageRow | Row[*tuple[Any, ...]]) -> MessageRecord:
        """From an ORM row, or a Core result row with the same column names (``source``
        may be left out of a Core query)."""
        return cls(
            id=row.id,
            message_id=row.message_id,
            sender=row.sender,
            outcome=row.outcome,
            reason=row.reason,
            received_at=utc(row.received_at) or row.received_at,
            ticket_id=row.ticket_id,
            source=getattr(row, "source", "") or "",
        )


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    id: int
    kind: str
    ticket_id: int | None
    recipient: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    context: dict[str, Any]
    automatic: bool
    message_id: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: OutboxRow) -> OutboxRecord:
        return cls(
            id=row.id,
            kind=row.kind,
            ticket_id=row.ticket_id,
            recipient=row.recipient,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=utc(row.next_attempt_at) or row.next_attempt_at,
            last_error=row.last_error,
            context=dict(row.context or {}),
            automatic=row.automatic,
            message_id=row.message_id,
            created_at=utc(row.created_at) or row.created_at,
        )
