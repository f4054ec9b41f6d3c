"""The IMAP poller logging in with OAuth2 (XOAUTH2, OAUTHBEARER) against a real Dovecot whose
oauth2 passdb asks the identity provider's stand-in (tests/idp.py) about every token.

The refresh token lives sealed in a real SQLite database (store.imap_credentials). Covers:
fetching over both mechanisms; an access token revoked mid-run (no loss, no duplicate);
renewal before expiry; a refused refresh (backoff, login failures counted and reported,
recovery); a rotated refresh token replacing the stored one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.listen.imap import ImapAccount, ImapPoller, LoginEvent, PollSettings
from ingest.listen.imap_auth import AccessToken, LoginFailed, OAuth2Login, TokenCache
from ingest.listen.imap_cursor import MemoryCursorStore
from ingest.listen.imap_settings import Backoff
from ingest.listen.imap_tokens import RefreshTokenGrant, encode_credential
from ingest.spool.queue import Spool
from store import migrate
from store.db import Database
from store.errors import StoreUnreachable
from store.imap_credentials import ImapCredentials
from tests.dovecot import DovecotServer
from tests.idp import IdentityProvider, idp, oauth_dovecot

__all__ = ["idp", "oauth_dovecot"]  # fixtures

SECRET_KEY = "test-secret-key-0123456789"
FAST = PollSettings(
    poll_interval=0.2,
    idle_timeout=30,
    idle_check_slice=0.2,
    batch_size=2,
    socket_timeout=10,
    backoff=Backoff(initial=0.05, maximum=0.5, jitter=0),
)


def message(n: int) -> bytes:
    return (
        f"From: Customer {n} <c{n}@customer.example>\r\nTo: support@desk.example\r\n"
        f"Subject: question {n}\r\nMessage-ID: <m{n}.{time.time_ns()}@customer.example>\r\n"
        f"\r\nBody of message {n}\r\n"
    ).encode()


class RecordingStop(threading.Event):
    """A stop event that records the backoff waits and stops after `limit` of them."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(float(timeout or 0))
        if len(self.waits) >= self.limit:
            self.set()
        return self.is_set()


@dataclass
class OAuthMailbox:
    server: DovecotServer
    idp: IdentityProvider
    user: str
    refresh: str
    grant: RefreshTokenGrant
    credentials: ImapCredentials
    spool: Spool
    cursors: MemoryCursorStore
    events: list[LoginEvent]

    def poller(self, mechanism: str = "xoauth2", tokens: TokenCache | None = None) -> ImapPoller:
        account = ImapAccount(
            host=self.server.host,
            port=self.server.port,
            tls=False,
            username=self.user,
            password="",
            processed_mailbox="Processed",
            key="oauth",
        )
        return ImapPoller(
            account,
            self.spool,
            self.cursors,
            settings=FAST,
            authenticator=OAuth2Login(self.user, tokens or TokenCache(self.grant), mechanism),
            on_login=self.events.append,
        )

    def append(self, *raws: bytes) -> None:
        client = self.server.client(self.user, self.server.password)
        try:
            for raw in raws:
                client.append("INBOX", raw)
        finally:
            client.logout()

    def drain(self) -> list[bytes]:
        found = []
        while (entry := self.spool.claim()) is not None:
            found.append(self.spool.read(entry))
        return found


@pytest.fixture
def box(
    idp: IdentityProvider, oauth_dovecot: DovecotServer, tmp_path: Path
) -> Iterator[OAuthMailbox]:
    user, _ = oauth_dovecot.add_user()
    client_id, secret = idp.add_client()
    refresh = idp.add_refresh_token(client_id, user)
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    migrate.upgrade(db.engine)
    credentials = ImapCredentials(db, SECRET_KEY)
    credentials.save("oauth", encode_credential("refresh_token", refresh))
    grant = RefreshTokenGrant(idp.token_url, client_id, secret, (), credentials.vault("oauth"))
    yield OAuthMailbox(
        oauth_dovecot,
        idp,
        user,
        refresh,
        grant,
        credentials,
        Spool(tmp_path / "spool"),
        MemoryCursorStore(),
        [],
    )
    idp.failing = None
    idp.rotate_refresh_tokens = False
    db.dispose()


@pytest.mark.parametrize("mechanism", ["xoauth2", "oauthbearer"])
def test_oauth2_login_fetches_the_mail(
    box: OAuthMailbox, mechanism: str, caplog: pytest.LogCaptureFixture
) -> None:
    box.append(message(1), message(2), message(3))
    poller = box.poller(mechanism)
    with caplog.at_level(logging.DEBUG):
        try:
            assert poller.run_once() == 3
        finally:
            poller.close()
    assert len(box.drain()) == 3
    for secret in (box.refresh, *box.idp.issued()):  # not even at DEBUG
        assert secret not in caplog.text
    assert [e.error for e in box.events] == [None]  # the first success is reported once
    assert poller.login_failures == 0 and poller.login_failing_since is None


def test_a_token_revoked_mid_run_loses_and_duplicates_nothing(box: OAuthMailbox) -> None:
    box.append(message(1), message(2))
    tokens = TokenCache(box.grant)
    poller = box.poller(tokens=tokens)
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while box.spool.depth() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tokens.fetches == 1
        box.idp.expire_all()  # revoked early: the held token looks valid to the poller
        box.server.restart()  # the server drops the session; the poller logs in again
        box.append(message(3), message(4), message(5))
        deadline = time.monotonic() + 20
        while box.spool.depth() < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)
        poller.close()
    raws = box.drain()
    subjects = sorted(r.split(b"Subject: ")[1].split(b"\r\n")[0] for r in raws)
    assert subjects == [b"question %d" % n for n in range(1, 6)]  # each once
    assert tokens.fetches == 2  # the refused token was replaced once
    assert poller.login_failures == 0


def test_a_refused_refresh_backs_off_is_reported_and_recovers(box: OAuthMailbox) -> None:
    box.append(message(1))
    box.idp.failing = 400
    poller = box.poller()
    stop = RecordingStop(limit=3)
    poller.run(stop)
    assert stop.waits == [0.05, 0.1, 0.2]  # the usual backoff
    assert poller.login_failures == 3 and poller.error_count == 3
    assert poller.last_error == "LoginFailed" and poller.login_failing_since is not None
    assert "answered 400" in (poller.login_error or "")
    assert [e.error is not None for e in box.events] == [True, True, True]
    for event in box.events:
        box.credentials.login_failed(event.account, event.error or "", event.at)
    problem = box.credentials.problems()[0]
    assert (problem.account, problem.failures) == ("oauth", 3)
    assert problem.since == box.events[0].at

    box.idp.failing = None
    try:
        assert poller.run_once() == 1
    finally:
        poller.close()
    assert poller.login_failing_since is None and box.events[-1].error is None
    box.credentials.login_succeeded("oauth")
    assert box.credentials.problems() == []


def test_a_missing_refresh_token_says_what_to_run(box: OAuthMailbox) -> None:
    box.credentials.forget("oauth")
    poller = box.poller()
    poller.run(RecordingStop(limit=1))
    assert "no refresh token is stored" in (poller.login_error or "")


def test_a_rotated_refresh_token_replaces_the_stored_one(box: OAuthMailbox) -> None:
    box.idp.rotate_refresh_tokens = True
    token = box.grant()
    assert token.token in box.idp.issued()
    stored = box.credentials.load("oauth")
    assert stored is not None and box.refresh.encode() not in stored  # replaced
    assert box.grant().token in box.idp.issued()  # and the new one works


def test_a_rotated_refresh_token_that_cannot_be_stored_is_kept(box: OAuthMailbox) -> None:
    box.idp.rotate_refresh_tokens = True
    saves: list[bytes] = []

    class Unreachable:
        down = True

        def load(self) -> bytes | None:
            return box.credentials.load("oauth")

        def save(self, credential: bytes) -> None:
            if self.down:
                raise StoreUnreachable("database unreachable")
            saves.append(credential)

    vault = Unreachable()
    grant = replace(box.grant, vault=vault)
    assert grant().token in box.idp.issued()  # rotated; the store is down
    assert grant().token in box.idp.issued()  # the held one is used (the old one is void)
    vault.down = False
    assert grant().token in box.idp.issued()
    assert len(saves) == 2 and box.refresh.encode() not in saves[-1]


def test_the_access_token_is_renewed_before_it_expires() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    issued: list[AccessToken] = []

    def fetch() -> AccessToken:
        token = AccessToken(f"t{len(issued)}", now[0] + timedelta(hours=1), now[0])
        issued.append(token)
        return token

    cache = TokenCache(fetch, clock=lambda: now[0])
    first = cache.token()
    now[0] += timedelta(minutes=54)
    assert cache.token() is first  # 6 minutes left: kept
    now[0] += timedelta(minutes=1, seconds=1)
    assert cache.token() is not first  # under 5 minutes left: renewed before expiry
    assert len(issued) == 2
    short = AccessToken("s", now[0] + timedelta(seconds=60), now[0])
    cache2 = TokenCache(lambda: short, clock=lambda: now[0])
    assert cache2.token() is short
    now[0] += timedelta(seconds=55)  # a 60 s token is renewed in its last 6 s
    assert cache2.token() is short and cache2.fetches == 2


def test_sealed_credentials_are_not_in_the_database_file_in_clear(
    box: OAuthMailbox, tmp_path: Path
) -> None:
    data = b"".join(p.read_bytes() for p in tmp_path.glob("desk.db*"))
    assert box.refresh.encode() not in data
    assert box.credentials.load("oauth") == encode_credential("refresh_token", box.refresh)
    other = ImapCredentials(box.credentials.db, "another-secret-key-0123456789")
    with pytest.raises(Exception, match="sealed with another"):
        other.load("oauth")


def test_password_accounts_keep_logging_in_with_a_password(box: OAuthMailbox) -> None:
    account = ImapAccount(
        host=box.server.host,
        port=box.server.port,
        tls=False,
        username=box.user,
        password=box.server.password,
        key="pw",
    )
    poller = ImapPoller(account, box.spool, box.cursors, settings=FAST)
    try:
        assert poller.run_once() == 0
    finally:
        poller.close()


def test_google_service_account_signs_for_the_mailbox(
    idp: IdentityProvider, oauth_dovecot: DovecotServer, tmp_path: Path
) -> None:
    """google-auth signs a JWT assertion with the service account's key; the stand-in checks
    it with the public key and issues a token for the subject, which Dovecot accepts."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ingest.listen.imap_tokens import GoogleServiceAccount

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    email = f"postdesk-{time.time_ns()}@project.iam.gserviceaccount.example"
    idp.service_keys[email] = key.public_key()
    key_file = tmp_path / "service-account.json"
    key_file.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": email,
                "private_key_id": "k1",
                "private_key": key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode(),
                "token_uri": "https://oauth2.googleapis.com/token",
                "client_id": "1234567890",
            }
        )
    )
    user, _ = oauth_dovecot.add_user()
    fetch = GoogleServiceAccount(key_file, user, ("https://mail.google.com/",), idp.token_url)
    token = fetch()
    assert token.token in idp.issued() and token.expires_at > token.issued_at
    account = ImapAccount(
        host=oauth_dovecot.host, port=oauth_dovecot.port, tls=False, username=user, password=""
    )
    poller = ImapPoller(
        account,
        Spool(tmp_path / "spool"),
        MemoryCursorStore(),
        settings=FAST,
        authenticator=OAuth2Login(user, TokenCache(fetch)),
    )
    try:
        assert poller.run_once() == 0
    finally:
        poller.close()
    wrong = GoogleServiceAccount(key_file, user, ("https://mail.google.com/",), idp.token_url)
    idp.service_keys[email] = rsa.generate_private_key(65537, 2048).public_key()
    with pytest.raises(LoginFailed, match="Google refused the service account's assertion"):
        wrong()
    with pytest.raises(LoginFailed, match="cannot be used"):
        GoogleServiceAccount(tmp_path / "missing.json", user, (), idp.token_url)()
