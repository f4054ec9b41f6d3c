"""Microsoft 365 through MSAL against the identity provider's stand-in over https (MSAL
accepts no other authority), then XOAUTH2 against Dovecot: app-only client credentials, and
the delegated device-code login of `postdesk imap login` renewed silently from MSAL's cache,
which is stored sealed."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.listen.imap import ImapAccount, ImapPoller, PollSettings
from ingest.listen.imap_auth import LoginFailed, OAuth2Login, TokenCache
from ingest.listen.imap_cursor import MemoryCursorStore
from ingest.listen.imap_tokens import MicrosoftAppOnly
from ingest.spool.queue import Spool
from postdesk.config import settings as config
from postdesk.imap_oauth import fetcher, login
from store import migrate
from store.db import Database
from store.imap_credentials import ImapCredentials
from tests.dovecot import DovecotServer
from tests.idp import IdentityProvider, idp, oauth_dovecot, tls_idp

__all__ = ["idp", "oauth_dovecot", "tls_idp"]  # fixtures

APP_SCOPE = ("https://outlook.office365.com/.default",)
USER_SCOPE = ("https://outlook.office.com/IMAP.AccessAsUser.All",)


@pytest.fixture
def microsoft(
    tls_idp: tuple[IdentityProvider, Path], monkeypatch: pytest.MonkeyPatch
) -> IdentityProvider:
    provider, cert = tls_idp
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # MSAL's requests trusts the stand-in
    return provider


@pytest.fixture
def credentials(tmp_path: Path) -> Iterator[ImapCredentials]:
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    migrate.upgrade(db.engine)
    yield ImapCredentials(db, "test-secret-key-0123456789")
    db.dispose()


def _poll(server: DovecotServer, user: str, tokens: TokenCache, spool: Path) -> int:
    account = ImapAccount(host=server.host, port=server.port, tls=False, username=user, password="")
    poller = ImapPoller(
        account,
        Spool(spool),
        MemoryCursorStore(),
        settings=PollSettings(socket_timeout=10),
        authenticator=OAuth2Login(user, tokens),
    )
    try:
        return poller.run_once()
    finally:
        poller.close()


def test_app_only_client_credentials(
    microsoft: IdentityProvider, oauth_dovecot: DovecotServer, tmp_path: Path
) -> None:
    user, _ = oauth_dovecot.add_user()
    client_id, secret = microsoft.add_client()
    microsoft.app_users[client_id] = user  # the mailbox the app was granted
    fetch = MicrosoftAppOnly(f"{microsoft.tls_base_url}/tenant", client_id, secret, APP_SCOPE)
    tokens = TokenCache(fetch)
    assert _poll(oauth_dovecot, user, tokens, tmp_path / "spool") == 0
    first = tokens.token()
    # Revoked early: MSAL's cache still holds it, so a new MSAL application asks again.
    microsoft.expire_all()
    assert _poll(oauth_dovecot, user, tokens, tmp_path / "spool") == 0
    assert tokens.token().token != first.token
    bad = MicrosoftAppOnly(f"{microsoft.tls_base_url}/tenant", client_id, "wrong", APP_SCOPE)
    with pytest.raises(LoginFailed, match="invalid_client"):
        bad()


def test_delegated_device_code_login_then_silent_renewal(
    microsoft: IdentityProvider,
    oauth_dovecot: DovecotServer,
    credentials: ImapCredentials,
    tmp_path: Path,
) -> None:
    user, _ = oauth_dovecot.add_user()
    client_id, _ = microsoft.add_client(public=True)
    microsoft.device_users[client_id] = user
    account = config.ImapAccount(
        name="m365",
        host=oauth_dovecot.host,
        port=oauth_dovecot.port,
        tls=False,
        username=user,
        password="",
        mailbox="INBOX",
        processed_mailbox="Processed",
        idle=True,
        poll_interval_seconds=60,
        auth="oauth2",
        oauth2=config.OAuth2Settings(
            provider="microsoft",
            flow="device_code",
            client_id=client_id,
            client_secret="",
            scopes=USER_SCOPE,
            token_url="",
            authority_url=f"{microsoft.tls_base_url}/tenant",
            authorization_url="",
            service_account_file=None,
        ),
    )
    out = io.StringIO()
    login(account, credentials, out=out)
    assert "enter ABCD-EFGH" in out.getvalue()
    stored = credentials.load("m365")
    assert stored is not None and b"msal_cache" in stored
    tokens = TokenCache(fetcher(account, credentials))
    assert _poll(oauth_dovecot, user, tokens, tmp_path / "spool") == 0
    # Revoked early: MSAL renews with the refresh token in its cache, and stores the cache.
    microsoft.expire_all()
    assert _poll(oauth_dovecot, user, tokens, tmp_path / "spool") == 0
    assert credentials.load("m365") != stored
