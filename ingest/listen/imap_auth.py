"""How an IMAP poller logs in: a password, or an OAuth2 access token over SASL.

``PasswordLogin`` sends ``LOGIN``. ``OAuth2Login`` sends ``AUTHENTICATE XOAUTH2`` (Microsoft,
Google) or ``OAUTHBEARER`` (RFC 7628) with an access token from a ``TokenCache``, which asks
its ``TokenFetcher`` (a provider's token endpoint) for a new token before the held one
expires. A token the server refuses although it looked valid (revoked, or expired early) is
dropped and the login tried once more with a fresh one.

A failure to log in is a ``LoginFailed`` (the token endpoint refused or could not be reached,
or the server refused the credentials); the poller counts those apart from other errors,
because no retry fixes them without the operator. Error texts never carry a token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from imapclient.exceptions import LoginError

from store.clock import utcnow

__all__ = [
    "AccessToken",
    "Authenticator",
    "LoginFailed",
    "OAuth2Login",
    "PasswordLogin",
    "TokenCache",
    "TokenFetcher",
]

log = logging.getLogger(__name__)

# A token is renewed when less than this part of its lifetime (at most REFRESH_MARGIN) is left.
REFRESH_MARGIN = timedelta(minutes=5)
REFRESH_FRACTION = 0.1
SASL_MECHANISMS = ("xoauth2", "oauthbearer")


class LoginFailed(Exception):
    """The account could not log in; the message says why and what fixes it (no secret)."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A bearer token and the instant it stops working."""

    token: str = field(repr=False)
    expires_at: datetime
    issued_at: datetime


class TokenFetcher(Protocol):
    """Gets a new access token from the identity provider (raises ``LoginFailed``)."""

    def __call__(self) -> AccessToken: ...


class Authenticator(Protocol):
    """Logs a freshly connected ``IMAPClient`` in (raises ``LoginFailed``)."""

    @property
    def username(self) -> str: ...

    def login(self, client: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class PasswordLogin:
    """``LOGIN user password``."""

    username: str
    password: str = field(repr=False)

    def login(self, client: Any) -> None:
        try:
            client.login(self.username, self.password)
        except LoginError as exc:
            raise LoginFailed(
                f"the server refused the password of {self.username} ({_reply(exc)}); "
                "check the account's password or password_env"
            ) from None


class TokenCache:
    """Holds one access token and renews it before it expires; thread-safe."""

    def __init__(self, fetch: TokenFetcher, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._fetch = fetch
        self._clock = clock
        self._held: AccessToken | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def token(self) -> AccessToken:
        """The held token while it has time left, else a new one."""
        with self._lock:
            held = self._held
            if held is None or self._clock() >= _renew_at(held):
                held = self._fetch()
                self.fetches += 1
                self._held = held
                log.debug("oauth2: new access token, valid until %s", held.expires_at)
            return held

    def drop(self, token: AccessToken) -> None:
        """Forget ``token`` (the server refused it); the next ``token()`` fetches a new one."""
        with self._lock:
            if self._held is token:
                self._held = None


def _renew_at(token: AccessToken) -> datetime:
    lifetime = token.expires_at - token.issued_at
    margin = min(REFRESH_MARGIN, lifetime * REFRESH_FRACTION)
    return token.expires_at - margin


class OAuth2Login:
    """``AUTHENTICATE XOAUTH2`` or ``OAUTHBEARER`` with a token from ``tokens``."""

    def __init__(self, username: str, tokens: TokenCache, mechanism: str = "xoauth2") -> None:
        if mechanism not in SASL_MECHANISMS:
            raise ValueError(f"unknown SASL mechanism {mechanism!r}")
        self.username = username
        self.tokens = tokens
        self.mechanism = mechanism

    def login(self, client: Any) -> None:
        for attempt in (1, 2):
            token = self.tokens.token()
            try:
                self._authenticate(client, token.token)
                return
            except LoginError as exc:
                self.tokens.drop(token)
                if attempt == 2:
                    raise LoginFailed(
                        f"the server refused a fresh {self.mechanism.upper()} token for "
                        f"{self.username} ({_reply(exc)}); check that the application may "
                        "read this mailbox, then run the login command again"
                    ) from None
                log.info(
                    "imap %s: the server refused the access token; fetching a new one",
                    self.username,
                )

    def _authenticate(self, client: Any, token: str) -> None:
        if self.mechanism == "oauthbearer":
            client.oauthbearer_login(self.username, token)
        else:
            client.oauth2_login(self.username, token)


def _reply(exc: BaseException) -> str:
    """The server's reply, on one line (IMAP servers do not echo the credentials)."""
    return " ".join(str(exc).split())[:200] or type(exc).__name__
