"""Who is who: organisations, their domains and partners, contacts and staff.

The configuration is the source of truth for organisations, configured contacts and staff;
`sync_directory` writes it into the database at start (idempotent). Contacts created by the
open help desk policy (`origin = "created"`) are kept across syncs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from store.db import prefetch
from store.records import ContactRecord
from store.redacted import RedactedText
from store.schema import (
    Base,
    ContactRow,
    OrganisationDomainRow,
    OrganisationRow,
    PartnerLinkRow,
    StaffRow,
)


@dataclass(frozen=True, slots=True)
class OrganisationSpec:
    name: str
    domains: tuple[str, ...]
    contacts: tuple[tuple[str, str], ...]  # (name, email)
    partner_of: tuple[str, ...]
    max_priority: str | None = None  # the highest priority its customers may ask for


@dataclass(frozen=True, slots=True)
class StaffSpec:
    name: str
    email: str
    display_name: str = ""
    signature: str = ""


@dataclass(frozen=True, slots=True)
class StaffRecord:
    id: int
    name: str
    email: str
    display_name: str = ""  # how relayed replies name them ("" = `name`)
    signature: str = ""

    @property
    def shown_name(self) -> str:
        """The name customers see: the display name, else the name."""
        return self.display_name or self.name

    @classmethod
    def from_row(cls, row: StaffRow) -> StaffRecord:
        return cls(row.id, row.name, row.email, row.display_name or "", row.signature or "")


def sync_directory(
    session: Session,
    organisations: Iterable[OrganisationSpec],
    staff: Iterable[StaffSpec],
    now: datetime,
) -> None:
    """Make the organisations, domains, partner links, contacts and staff match the config."""
    orgs = list(organisations)
    existing = {row.name: row for row in session.scalars(select(OrganisationRow))}
    by_name: dict[str, OrganisationRow] = {}
    for spec in orgs:
        row = existing.get(spec.name) or OrganisationRow(name=spec.name)
        row.max_priority = spec.max_priority
        session.add(row)
        by_name[spec.name] = row
    session.flush()
    wanted = [email for spec in orgs for _, email in spec.contacts]
    contacts = {
        row.email: row
        for row in session.scalars(select(ContactRow).where(ContactRow.email.in_(wanted)))
    }
    session.execute(delete(OrganisationDomainRow))
    session.execute(delete(PartnerLinkRow))
    for spec in orgs:
        org_id = by_name[spec.name].id
        for domain in dict.fromkeys(spec.domains):
            session.add(OrganisationDomainRow(domain=domain, organisation_id=org_id))
        for client in dict.fromkeys(spec.partner_of):
            session.add(PartnerLinkRow(partner_id=org_id, client_id=by_name[client].id))
        for name, email in spec.contacts:
            contact = contacts.get(email)
            if contact is None:
                contact = ContactRow(email=email, created_at=now, bouncing=False)
                session.add(contact)
                contacts[email] = contact
            contact.name = name
            contact.organisation_id = org_id
            contact.origin = "config"
    _sync_staff(session, list(staff))
    session.flush()


def _sync_staff(session: Session, staff: list[StaffSpec]) -> None:
    rows = {row.email: row for row in session.scalars(select(StaffRow))}
    wanted = {s.email: s for s in staff}
    for email, row in rows.items():
        if email not in wanted:
            row.active = False
            row.name = f"{row.name} (removed {row.id})"
    session.flush()
    for spec in staff:
        row = rows.get(spec.email) or StaffRow(email=spec.email)
        row.name = spec.name
        row.display_name = spec.display_name
        row.signature = spec.signature
        row.active = True
        session.add(row)


_CONTACTS = Base.metadata.tables[ContactRow.__tablename__]
_CONTACT_COLUMNS = select(
    _CONTACTS.c.id,
    _CONTACTS.c.email,
    _CONTACTS.c.name,
    _CONTACTS.c.organisation_id,
    _CONTACTS.c.bouncing,
)
_CONTACT_BY_EMAIL = _CONTACT_COLUMNS.where(_CONTACTS.c.email == bindparam("email"))
_CONTACTS_BY_EMAILS = _CONTACT_COLUMNS.where(
    _CONTACTS.c.email.in_(bindparam("emails", expanding=True))
)


_DOMAINS_AMONG = select(OrganisationDomainRow.domain, OrganisationDomainRow.organisation_id).where(
    OrganisationDomainRow.domain.in_(bindparam("domains", expanding=True))
)
_INSERT_CONTACT = (
    insert(_CONTACTS)
    .values(
        email=bindparam("email"),
        name=bindparam("name"),
        organisation_id=bindparam("organisation_id"),
        origin="created",
        bouncing=False,
        created_at=bindparam("created_at"),
    )
    .returning(_CONTACTS.c.id)
)


def _cache(session: Session, name: str) -> dict[str, object]:
    """A lookup cache that lives as long as the session (one transaction or import batch)."""
    return session.info.setdefault(name, {})  # type: ignore[no-any-return]


def prefetch_contacts(session: Session, emails: Iterable[str]) -> None:
    """Look up a batch's senders with one query; `find_contact` then answers from the cache."""

    def lookup(chunk: list[str]) -> dict[str, ContactRecord]:
        rows = session.connection().execute(_CONTACTS_BY_EMAILS, {"emails": chunk})
        return {row.email: ContactRecord(*row) for row in rows}

    prefetch(_cache(session, "contacts"), (email.lower() for email in emails if email), lookup)


def find_contact(session: Session, email: str) -> ContactRecord | None:
    key = email.lower()
    cache = _cache(session, "contacts")
    if key not in cache:
        row = session.connection().execute(_CONTACT_BY_EMAIL, {"email": key}).first()
        cache[key] = ContactRecord(*row) if row else None
    found = cache[key]
    assert found is None or isinstance(found, ContactRecord)
    return found


def organisation_for_domain(session: Session, domain: str) -> int | None:
    """The organisation owning `domain` or its closest parent domain (subdomains match).

    Answers are cached for the session: a batch of mail from a few domains asks once each.
    """
    key = domain.lower()
    cache = _cache(session, "organisation_domains")
    if key in cache:
        cached = cache[key]
        assert cached is None or isinstance(cached, int)
        return cached
    labels = key.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    found = None
    if candidates:
        rows = session.connection().execute(_DOMAINS_AMONG, {"domains": candidates}).all()
        if rows:
            found = int(max(rows, key=lambda r: len(r[0]))[1])
    cache[key] = found
    return found


def create_contact(
    session: Session, email: str, name: RedactedText, organisation_id: int | None, now: datetime
) -> ContactRecord:
    """A new contact (the open help desk policy), written at once: tickets name it; its
    name comes from a mail's display name, so it is redacted text."""
    email = email.lower()
    contact_id = (
        session.connection()
        .execute(
            _INSERT_CONTACT,
            {"email": email, "name": name, "organisation_id": organisation_id, "created_at": now},
        )
        .scalar_one()
    )
    record = ContactRecord(int(contact_id), email, name, organisation_id, False)
    _cache(session, "contacts")[email] = record
    return record


def mark_bouncing(session: Session, email: str) -> bool:
    """Mark a contact's address as bouncing; False when no contact has it."""
    row = session.scalar(select(ContactRow).where(ContactRow.email == email.lower()))
    if row is None:
        return False
    row.bouncing = True
    _cache(session, "contacts")[row.email] = ContactRecord.from_row(row)
    return True


def staff_by_email(session: Session, email: str) -> StaffRecord | None:
    cache = _cache(session, "staff")
    if not cache:
        for row in session.scalars(select(StaffRow).where(StaffRow.active.is_(True))):
            cache[row.email] = StaffRecord.from_row(row)
        cache[""] = None  # marks the cache as loaded, even with no staff
    found = cache.get(email.lower())
    assert found is None or isinstance(found, StaffRecord)
    return found


def staff_by_name(session: Session, name: str) -> StaffRecord | None:
    """Staff by name or email, case-insensitively (for `#assign alice`)."""
    wanted = name.strip().lower()
    for row in session.scalars(select(StaffRow).where(StaffRow.active.is_(True))):
        if wanted in (row.name.lower(), row.email, row.email.split("@")[0]):
            return StaffRecord.from_row(row)
    return None


def partner_clients(session: Session, organisation_id: int) -> frozenset[int]:
    """The client organisations a partner organisation is assigned."""
    rows = session.scalars(
        select(PartnerLinkRow.client_id).where(PartnerLinkRow.partner_id == organisation_id)
    )
    return frozenset(rows)


def organisation_id_by_name(session: Session, name: str) -> int | None:
    return session.scalar(select(OrganisationRow.id).where(OrganisationRow.name == name))


def organisation_max_priority(session: Session, organisation_id: int) -> str | None:
    """The highest priority the organisation's customers may ask for, if it sets one."""
    return session.scalar(
        select(OrganisationRow.max_priority).where(OrganisationRow.id == organisation_id)
    )


def organisation_name(session: Session, organisation_id: int) -> str | None:
    """The name of an organisation (cached for the session)."""
    cache = _cache(session, "organisation_names")
    key = str(organisation_id)
    if key not in cache:
        cache[key] = session.scalar(
            select(OrganisationRow.name).where(OrganisationRow.id == organisation_id)
        )
    found = cache[key]
    assert found is None or isinstance(found, str)
    return found
