"""REST API bearer tokens: create (the token is returned once), find by token, list, revoke.

Only the SHA-256 of a token is stored: a token is 32 random bytes, so a hash is as good as a
slow password hash and lets a request find its row by an index. The found hash is compared
again in constant time. `last_used_at` is written at most once a minute per token, so reads
through the API do not turn into a write each.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from store.records import utc
from store.schema import ApiTokenRow, OrganisationRow

__all__ = [
    "SCOPES",
    "TOKEN_PREFIX",
    "ApiToken",
    "create_token",
    "find_by_token",
    "list_tokens",
    "mark_used",
    "revoke_token",
]

SCOPES = ("read", "write")
TOKEN_PREFIX = "pdk_"  # noqa: S105 (marks a string as a postdesk token; not a secret)
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token's row, never the token itself."""

    id: int
    name: str
    scope: str
    organisation_id: int | None
    organisation: str | None
    created_at: datetime
    last_used_at: datetime | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _record(row: ApiTokenRow, organisation: str | None) -> ApiToken:
    return ApiToken(
        id=row.id,
        name=row.name,
        scope=row.scope,
        organisation_id=row.organisation_id,
        organisation=organisation,
        created_at=utc(row.created_at) or row.created_at,
        last_used_at=utc(row.last_used_at),
    )


_WITH_ORGANISATION = select(ApiTokenRow, OrganisationRow.name).outerjoin(
    OrganisationRow, OrganisationRow.id == ApiTokenRow.organisation_id
)


def create_token(
    session: Session, name: str, scope: str, organisation_id: int | None, now: datetime
) -> tuple[ApiToken, str]:
    """A new token row; returns it and the token (shown once, never stored)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(
        name=name,
        scope=scope,
        organisation_id=organisation_id,
        token_hash=_hash(token),
        created_at=now,
        last_used_at=None,
    )
    session.add(row)
    session.flush()
    organisation = (
        session.get(OrganisationRow, organisation_id) if organisation_id is not None else None
    )
    return _record(row, organisation.name if organisation else None), token


def find_by_token(session: Session, token: str) -> ApiToken | None:
    """The token's row, or None for an unknown or revoked token."""
    digest = _hash(token)
    found = session.execute(_WITH_ORGANISATION.where(ApiTokenRow.token_hash == digest)).first()
    if found is None or not hmac.compare_digest(found[0].token_hash, digest):
        return None
    return _record(found[0], found[1])


def mark_used(session: Session, token: ApiToken, now: datetime) -> bool:
    """Record that the token was used; a no-op (False) within a minute of the last record."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return False
    session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token.id).values(last_used_at=now))
    return True


def list_tokens(session: Session) -> list[ApiToken]:
    rows = session.execute(_WITH_ORGANISATION.order_by(ApiTokenRow.id))
    return [_record(row, organisation) for row, organisation in rows]


def revoke_token(session: Session, name_or_id: str) -> ApiToken | None:
    """Delete the token named `name_or_id` (or with that id); the revoked row, or None."""
    query = _WITH_ORGANISATION.where(ApiTokenRow.name == name_or_id)
    found = session.execute(query).first()
    if found is None and name_or_id.isdigit():
        found = session.execute(_WITH_ORGANISATION.where(ApiTokenRow.id == int(name_or_id))).first()
    if found is None:
        return None
    revoked = _record(found[0], found[1])
    session.execute(delete(ApiTokenRow).where(ApiTokenRow.id == revoked.id))
    return revoked
