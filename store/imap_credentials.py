"""IMAP accounts' OAuth2 credentials, sealed with the desk's secret key, and their login state.

A credential (a refresh token, or a provider library's token cache) is kept only encrypted:
AES-256-GCM under a key derived from ``[desk] secret_key`` with HKDF-SHA256 and its own label,
the account name bound in as associated data (a sealed value copied to another account does
not open). The row also records whether the account can log in: since when it cannot, how
many attempts failed and the last reason (operator text, never a token), for ``/healthz``
and the ops digest.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.clock import utcnow
from store.db import Database
from store.errors import StoreError
from store.schema import ImapCredentialRow

__all__ = [
    "AccountVault",
    "CredentialKeyError",
    "ImapCredentials",
    "LoginProblem",
    "login_problems",
]

_MAGIC = b"PDC1"
_NONCE_BYTES = 12
_KEY_INFO = b"postdesk imap credential encryption v1"
_KEY_ID_INFO = b"postdesk imap credential key id v1"
_MAX_ERROR_CHARS = 300


class CredentialKeyError(StoreError):
    """A stored credential cannot be opened with the configured secret key."""


@dataclass(frozen=True, slots=True)
class LoginProblem:
    """An account that cannot log in: since when, how often it tried, the last reason."""

    account: str
    since: datetime
    failures: int
    error: str


def _derive(secret_key: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret_key.encode("utf-8")
    )


class ImapCredentials:
    """Sealed credentials and login state of every IMAP account, in ``imap_credentials``."""

    def __init__(self, db: Database, secret_key: str, previous_keys: Sequence[str] = ()) -> None:
        if not secret_key:
            raise ValueError("sealing credentials needs a non-empty [desk] secret_key")
        self.db = db
        self._aead = AESGCM(_derive(secret_key, _KEY_INFO))
        self.key_id = _derive(secret_key, _KEY_ID_INFO)[:8].hex()
        # Credentials sealed under a key a rotation replaced (`[desk] previous_secret_keys`)
        # still open; the next save seals them under `secret_key`.
        self._openers = {
            _derive(key, _KEY_ID_INFO)[:8].hex(): AESGCM(_derive(key, _KEY_INFO))
            for key in reversed((secret_key, *previous_keys))
        }

    def vault(self, account: str) -> AccountVault:
        """The load/save pair of one account, for a token provider."""
        return AccountVault(self, account)

    def load(self, account: str) -> bytes | None:
        """The account's credential in clear, or None when none is stored."""
        with self.db.transaction() as session:
            row = session.get(ImapCredentialRow, account)
            if row is None or row.sealed is None:
                return None
            sealed, key_id = bytes(row.sealed), row.key_id
        aead = self._openers.get(key_id)
        if aead is None:
            raise CredentialKeyError(
                f"the stored credential of IMAP account {account!r} was sealed with another "
                f"[desk] secret_key; list that key in [desk] previous_secret_keys or run: "
                f"postdesk imap login {account}"
            )
        nonce = sealed[len(_MAGIC) : len(_MAGIC) + _NONCE_BYTES]
        try:
            return aead.decrypt(
                nonce, sealed[len(_MAGIC) + _NONCE_BYTES :], account.encode("utf-8")
            )
        except InvalidTag:
            raise CredentialKeyError(
                f"the stored credential of IMAP account {account!r} is damaged; "
                f"run: postdesk imap login {account}"
            ) from None

    def save(self, account: str, credential: bytes) -> None:
        """Seal and store the account's credential, replacing the previous one."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = _MAGIC + nonce + self._aead.encrypt(nonce, credential, account.encode("utf-8"))
        with self.db.transaction() as session:
            row = self._row(session, account)
            row.sealed, row.key_id, row.updated_at = sealed, self.key_id, utcnow()

    def forget(self, account: str) -> None:
        """Remove the account's credential (its login state stays)."""
        with self.db.transaction() as session:
            row = session.get(ImapCredentialRow, account)
            if row is not None:
                row.sealed, row.updated_at = None, utcnow()

    def login_failed(self, account: str, error: str, at: datetime) -> None:
        """Record a failed login; the first of a run sets ``since``."""
        with self.db.transaction() as session:
            row = self._row(session, account)
            if row.login_failing_since is None:
                row.login_failing_since = at
                row.login_failures = 0
            row.login_failures = (row.login_failures or 0) + 1
            row.login_error = " ".join(error.split())[:_MAX_ERROR_CHARS]

    def login_succeeded(self, account: str) -> None:
        """The account logged in: it has no login problem any more."""
        with self.db.transaction() as session:
            row = session.get(ImapCredentialRow, account)
            if row is not None and row.login_failing_since is not None:
                row.login_failing_since, row.login_failures, row.login_error = None, 0, ""

    def problems(self) -> list[LoginProblem]:
        """Accounts that cannot log in, the longest-failing first."""
        with self.db.transaction() as session:
            return login_problems(session)

    @staticmethod
    def _row(session: Session, account: str) -> ImapCredentialRow:
        row = session.get(ImapCredentialRow, account)
        if row is None:
            row = ImapCredentialRow(
                account=account,
                sealed=None,
                key_id="",
                updated_at=utcnow(),
                login_failures=0,
                login_error="",
            )
            session.add(row)
        return row


def login_problems(session: Session) -> list[LoginProblem]:
    """Accounts that cannot log in, in an open session (the digest's view)."""
    rows = session.scalars(
        select(ImapCredentialRow)
        .where(ImapCredentialRow.login_failing_since.is_not(None))
        .order_by(ImapCredentialRow.login_failing_since, ImapCredentialRow.account)
    )
    return [
        LoginProblem(r.account, _aware(r.login_failing_since), r.login_failures, r.login_error)
        for r in rows
        if r.login_failing_since is not None
    ]


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored one is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AccountVault:
    """One account's sealed credential: what a token provider loads and saves."""

    credentials: ImapCredentials
    account: str

    def load(self) -> bytes | None:
        return self.credentials.load(self.account)

    def save(self, credential: bytes) -> None:
        self.credentials.save(self.account, credential)
