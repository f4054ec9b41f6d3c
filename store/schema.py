"""SQLAlchemy 2 typed models: the tables, and the constraints that keep them honest.

Invariants enforced by the database itself: a ticket number is never reused (the ticket id
comes from an identity column on PostgreSQL and AUTOINCREMENT on SQLite); an inbound
message is recorded once (unique dedupe key); an outbox row per (ticket, kind, step) exists
once (unique dedupe key), so a sweep that runs twice sends nothing twice.

Only redacted content is stored here: bodies, subjects and attachment text have passed
through `ingest.redact.redactor` before they reach these rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

TICKET_STATUSES = ("open", "in_progress", "waiting_on_customer", "escalated", "resolved", "closed")
TICKET_NUMBER_START = 1001


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class OrganisationRow(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The highest priority its customers may ask for (None: `[desk] customer_max_priority`).
    max_priority: Mapped[str | None] = mapped_column(String(10))


class OrganisationDomainRow(Base):
    __tablename__ = "organisation_domains"
    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))


class PartnerLinkRow(Base):
    """A partner organisation may see and open tickets for a client organisation."""

    __tablename__ = "partner_links"
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )


class ContactRow(Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    origin: Mapped[str] = mapped_column(String(20), default="config")
    bouncing: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class StaffRow(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How relayed replies name and sign for the staff member ("" = the name, no signature).
    display_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    signature: Mapped[str] = mapped_column(Text, default="", server_default="")


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open','in_progress','waiting_on_customer',"
            "'escalated','resolved','closed')",
            name="ck_tickets_status",
        ),
        CheckConstraint("priority IN ('urgent','high','medium','low')", name="ck_tickets_priority"),
        CheckConstraint("visibility IN ('organisation','private')", name="ck_tickets_visibility"),
        Index("ix_tickets_status_due", "status", "first_response_due"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, Identity(start=TICKET_NUMBER_START), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(30), default="open")
    priority: Mapped[str] = mapped_column(String(10), default="medium")
    category: Mapped[str] = mapped_column(String(50))
    visibility: Mapped[str] = mapped_column(String(20), default="organisation")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    support_address: Mapped[str] = mapped_column(String(320))
    call_reference: Mapped[str | None] = mapped_column(String(100))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    related_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    status_changed_at: Mapped[datetime]
    first_response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    first_responded_at: Mapped[datetime | None]
    # The language of mail to the customer (store.languages); NULL: the desk's default.
    language: Mapped[str | None] = mapped_column(String(10))

    requester: Mapped[ContactRow] = relationship(lazy="joined")
    organisation: Mapped[OrganisationRow | None] = relationship(lazy="joined")
    assignee: Mapped[StaffRow | None] = relationship(lazy="joined")

    @property
    def number(self) -> str:
        return f"{self.prefix}-{self.id}"


class SubscriberRow(Base):
    """Who receives mail about a ticket: the requester and the watchers (CC), and who muted it."""

    __tablename__ = "ticket_subscribers"
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    muted: Mapped[bool] = mapped_column(Boolean, default=False)


class InboundMessageRow(Base):
    """Every message that reached the pipeline, with the decision taken and why."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        Index("ix_inbound_sender_time", "sender", "received_at"),
        Index("ix_inbound_domain_time", "sender_domain", "received_at"),
        Index("ix_inbound_message_id", "message_id"),
        Index("ix_inbound_ticket", "ticket_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(512), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(998))
    sender: Mapped[str] = mapped_column(String(320), default="")
    sender_domain: Mapped[str] = mapped_column(String(255), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(100), default="cli")
    received_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    redactions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CommentRow(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_ticket", "ticket_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_email: Mapped[str] = mapped_column(String(320))
    author_role: Mapped[str] = mapped_column(String(20))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    body: Mapped[str] = mapped_column(Text)
    full_text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    redactions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    created_at: Mapped[datetime]


class AttachmentRow(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    content_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]


class AuditEventRow(Base):
    """Every change to a ticket: who, what, when, via which message."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_ticket", "ticket_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(50))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))


class OutboxRow(Base):
    """One mail to send. Written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending','sent','dead','skipped')", name="ck_outbox_status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_recipient_time", "recipient", "created_at"),
        Index("ix_outbox_message_id", "message_id"),
        Index("ix_outbox_ticket", "ticket_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(320))
    cc: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class ImapCursorRow(Base):
    __tablename__ = "imap_cursors"
    account: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)  # 32-bit unsigned in IMAP
    last_uid: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class JobRunRow(Base):
    """When each scheduler job last ran, so a restart catches up on what it missed."""

    __tablename__ = "job_runs"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_run_at: Mapped[datetime]


class NoticeRow(Base):
    """One-off notices (a held sender told to ops once per window) keyed to stay unique."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("key", name="uq_notices_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]


class IntakeCountRow(Base):
    """Messages recorded per intake path by commands outside the daemon (`postdesk ingest`
    from the MTA's pipe, `ingest FILE`, `import`), for the daemon's `/metrics`."""

    __tablename__ = "intake_counts"
    path: Mapped[str] = mapped_column(String(100), primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, default=0)


class ImapCredentialRow(Base):
    """Per IMAP account: its OAuth2 credential, sealed with the desk's secret key (never in
    clear), and whether it can log in (since when it cannot, and why)."""

    __tablename__ = "imap_credentials"
    account: Mapped[str] = mapped_column(String(200), primary_key=True)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(16), default="")
    updated_at: Mapped[datetime]
    login_failing_since: Mapped[datetime | None]
    login_failures: Mapped[int] = mapped_column(Integer, default=0)
    login_error: Mapped[str] = mapped_column(String(300), default="")


# --- REST API (tokens; the ticket listing's keyset order) ---


class ApiTokenRow(Base):
    """A bearer token of the REST API: only its SHA-256 is kept (the token is shown once)."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("scope IN ('read','write')", name="ck_api_tokens_scope"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    scope: Mapped[str] = mapped_column(String(10))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


# The API lists tickets newest change first, a page after a (updated_at, id) cursor.
Index("ix_tickets_updated", TicketRow.updated_at, TicketRow.id)
Index("ix_tickets_org_updated", TicketRow.organisation_id, TicketRow.updated_at, TicketRow.id)
