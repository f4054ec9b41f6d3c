"""Where an IMAP account's OAuth2 access tokens come from: one fetcher per provider and flow.

- ``RefreshTokenGrant``: the refresh token stored by ``postdesk imap login`` exchanged at a
  token endpoint (a generic provider; Google's installed-app flow). A rotated refresh token in
  the answer replaces the stored one.
- ``MicrosoftAppOnly``: MSAL client credentials (``IMAP.AccessAsApp``), nothing stored.
- ``MicrosoftDelegated``: MSAL's token cache from the device-code login, stored sealed; MSAL
  renews from it silently.
- ``GoogleServiceAccount``: google-auth signs a JWT assertion with the service account's key
  for the mailbox (domain-wide delegation) and exchanges it at the token endpoint.

Each is a ``TokenFetcher``: called when the poller needs a new token, it returns an
``AccessToken`` or raises ``LoginFailed`` with operator text (never a token). The stored
credential lives behind a ``Vault`` (sealed in the database by ``store.imap_credentials``).
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import msal
from google.auth import exceptions
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from ingest.listen.imap_auth import AccessToken, LoginFailed
from store.clock import utcnow
from store.errors import StoreError
from store.imap_credentials import CredentialKeyError

__all__ = [
    "GoogleServiceAccount",
    "MicrosoftAppOnly",
    "MicrosoftDelegated",
    "RefreshTokenGrant",
    "Vault",
    "decode_credential",
    "encode_credential",
    "post_form",
]

log = logging.getLogger(__name__)
HTTP_TIMEOUT_SECONDS = 30.0
DEFAULT_LIFETIME_SECONDS = 3600
_LOGIN_AGAIN = "run the login command for this account again"


class Vault(Protocol):
    """One account's stored credential (sealed at rest)."""

    def load(self) -> bytes | None: ...

    def save(self, credential: bytes) -> None: ...


def encode_credential(kind: str, value: str) -> bytes:
    """A stored credential: ``{"kind": ..., "value": ...}`` as JSON bytes."""
    return json.dumps({"kind": kind, "value": value}).encode("utf-8")


def decode_credential(vault: Vault, kind: str) -> str:
    """The stored value of ``kind``; ``LoginFailed`` when none (or another kind) is stored."""
    try:
        raw = vault.load()
    except CredentialKeyError as exc:
        raise LoginFailed(str(exc)) from None
    if raw is None:
        raise LoginFailed(f"no {kind.replace('_', ' ')} is stored for this account; {_LOGIN_AGAIN}")
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("kind") != kind:
        raise LoginFailed(
            f"the stored credential is not a {kind.replace('_', ' ')}; {_LOGIN_AGAIN}"
        )
    return str(data["value"])


def post_form(
    url: str, form: dict[str, str], timeout: float = HTTP_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """POST a form to a token endpoint; the JSON answer, or ``LoginFailed`` naming the error.

    The error text is the endpoint's ``error`` code and the start of its description
    (OAuth2 error answers never repeat the credentials sent).
    """
    body = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(  # noqa: S310 - the operator's configured https endpoint
        url, data=body, headers={"Accept": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise LoginFailed(
            f"the token endpoint {url} answered {exc.code}{_oauth_error(exc)}"
        ) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LoginFailed(f"the token endpoint {url} cannot be reached ({reason})") from None
    except ValueError:
        raise LoginFailed(f"the token endpoint {url} did not answer with JSON") from None
    if not isinstance(answer, dict):
        raise LoginFailed(f"the token endpoint {url} did not answer with a JSON object")
    return answer


def _oauth_error(exc: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        return ""
    if not isinstance(data, dict) or "error" not in data:
        return ""
    description = " ".join(str(data.get("error_description", "")).split())[:120]
    return f": {data['error']}" + (f" ({description})" if description else "")


def _token_from(answer: dict[str, Any], now: datetime, source: str) -> AccessToken:
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        error = answer.get("error", "no access_token in the answer")
        raise LoginFailed(f"{source} gave no access token ({error})")
    seconds = answer.get("expires_in", DEFAULT_LIFETIME_SECONDS)
    try:
        lifetime = max(1, int(seconds))
    except (TypeError, ValueError):
        lifetime = DEFAULT_LIFETIME_SECONDS
    return AccessToken(token, now + timedelta(seconds=lifetime), now)


@dataclass
class RefreshTokenGrant:
    """``grant_type=refresh_token`` at ``token_url`` with the stored refresh token.

    A rotated refresh token that cannot be stored (the database is unreachable) is held in
    memory and used, and storing it is tried again at the next refresh: the provider has
    already voided the old one.
    """

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: Sequence[str]
    vault: Vault
    clock: Callable[[], datetime] = utcnow
    _unsaved: str = field(default="", repr=False)

    def __call__(self) -> AccessToken:
        pending = self._unsaved
        if pending:
            self._store(pending)
        refresh = pending or decode_credential(self.vault, "refresh_token")
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": self.client_id,
        }
        if self.client_secret:
            form["client_secret"] = self.client_secret
        if self.scopes:
            form["scope"] = " ".join(self.scopes)
        now = self.clock()
        answer = post_form(self.token_url, form)
        token = _token_from(answer, now, f"the token endpoint {self.token_url}")
        rotated = answer.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != refresh:
            self._unsaved = rotated
            self._store(rotated)
        return token

    def _store(self, refresh: str) -> None:
        try:
            self.vault.save(encode_credential("refresh_token", refresh))
        except StoreError as exc:
            log.warning(
                "oauth2: the rotated refresh token cannot be stored (%s); held in memory, "
                "stored at the next refresh",
                type(exc).__name__,
            )
            return
        self._unsaved = ""
        log.info("oauth2: the provider rotated the refresh token; the new one is stored")


def _msal_result(result: dict[str, Any] | None, now: datetime, what: str) -> AccessToken:
    if not result:
        raise LoginFailed(f"{what}: MSAL has no usable token; {_LOGIN_AGAIN}")
    if "access_token" not in result:
        description = " ".join(str(result.get("error_description", "")).split())[:160]
        raise LoginFailed(f"{what}: {result.get('error', 'error')} ({description})")
    return _token_from(result, now, what)


@dataclass
class MicrosoftAppOnly:
    """Client credentials with MSAL: the app's own token, for any mailbox it was granted.

    Asked again while MSAL's cache still holds the token it gave last (the server refused it,
    or it is near its end), a new MSAL application with an empty cache gets a new one.
    """

    authority: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: Sequence[str]
    clock: Callable[[], datetime] = utcnow
    _app: Any = field(default=None, repr=False)
    _last: str = field(default="", repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self) -> AccessToken:
        now = self.clock()
        with self._lock:
            result = self._acquire()
            if result and result.get("access_token") == self._last:
                self._app = None
                result = self._acquire()
            token = _msal_result(result, now, "Microsoft app-only sign-in")
            self._last = token.token
            return token

    def _acquire(self) -> dict[str, Any] | None:
        try:
            if self._app is None:
                self._app = msal.ConfidentialClientApplication(
                    self.client_id,
                    client_credential=self.client_secret,
                    authority=self.authority,
                    instance_discovery=False,  # no call to another host than the authority
                )
            result: dict[str, Any] | None = self._app.acquire_token_for_client(
                scopes=list(self.scopes)
            )
            return result
        except Exception as exc:  # MSAL raises ValueError and requests' errors alike
            self._app = None
            raise LoginFailed(
                f"Microsoft sign-in at {self.authority} failed ({type(exc).__name__})"
            ) from None


@dataclass
class MicrosoftDelegated:
    """The MSAL token cache of a device-code login, kept sealed; renewed silently (with the
    refresh token in the cache when MSAL's access token is the one given last)."""

    authority: str
    client_id: str
    username: str
    scopes: Sequence[str]
    vault: Vault
    clock: Callable[[], datetime] = utcnow
    _last: str = field(default="", repr=False)

    def __call__(self) -> AccessToken:
        cache = msal.SerializableTokenCache()
        cache.deserialize(decode_credential(self.vault, "msal_cache"))
        now = self.clock()
        try:
            app = msal.PublicClientApplication(
                self.client_id,
                authority=self.authority,
                token_cache=cache,
                instance_discovery=False,
            )
            accounts = app.get_accounts(username=self.username) or app.get_accounts()
            if not accounts:
                raise LoginFailed(f"the stored sign-in holds no account; {_LOGIN_AGAIN}")
            result = app.acquire_token_silent(list(self.scopes), account=accounts[0])
            if result and result.get("access_token") == self._last:
                result = app.acquire_token_silent(
                    list(self.scopes), account=accounts[0], force_refresh=True
                )
        except LoginFailed:
            raise
        except Exception as exc:  # MSAL raises ValueError and requests' errors alike
            raise LoginFailed(
                f"Microsoft sign-in at {self.authority} failed ({type(exc).__name__})"
            ) from None
        if cache.has_state_changed:
            self.vault.save(encode_credential("msal_cache", cache.serialize()))
        token = _msal_result(result, now, "Microsoft delegated sign-in")
        self._last = token.token
        return token


@dataclass
class GoogleServiceAccount:
    """A service account with domain-wide delegation acting as ``subject`` (the mailbox)."""

    key_file: Path
    subject: str
    scopes: Sequence[str]
    token_url: str = ""
    clock: Callable[[], datetime] = utcnow

    def __call__(self) -> AccessToken:
        now = self.clock()
        try:
            credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                str(self.key_file), scopes=list(self.scopes), subject=self.subject
            )
            if self.token_url:
                credentials = credentials.with_token_uri(self.token_url)
            credentials.refresh(Request())
        except (OSError, ValueError, KeyError) as exc:
            raise LoginFailed(
                f"the service account key {self.key_file} cannot be used ({type(exc).__name__}); "
                "download a JSON key of the service account again"
            ) from None
        except exceptions.GoogleAuthError as exc:
            detail = " ".join(str(exc).split())[:160]
            raise LoginFailed(
                f"Google refused the service account's assertion ({detail})"
            ) from None
        if not credentials.token:
            raise LoginFailed("Google gave the service account no access token")
        expiry = credentials.expiry
        expires_at = (
            expiry.replace(tzinfo=now.tzinfo) if expiry is not None else now + timedelta(hours=1)
        )
        return AccessToken(str(credentials.token), expires_at, now)
