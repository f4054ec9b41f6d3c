"""`postdesk imap login`'s flows against the identity provider's stand-in (tests/idp.py): the
Google installed-app flow with its loopback redirect and PKCE (the browser is played by the
test), and a generic refresh token; what they store is sealed and works for the poller."""

from __future__ import annotations

import io
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.listen.imap_auth import LoginFailed
from postdesk.config.settings import ImapAccount, OAuth2Settings
from postdesk.imap_oauth import authenticator, fetcher, login
from store import migrate
from store.db import Database
from store.imap_credentials import ImapCredentials
from tests.idp import IdentityProvider, idp

__all__ = ["idp"]  # fixture


@pytest.fixture
def credentials(tmp_path: Path) -> Iterator[ImapCredentials]:
    db = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    migrate.upgrade(db.engine)
    yield ImapCredentials(db, "test-secret-key-0123456789")
    db.dispose()


def _account(oauth: OAuth2Settings) -> ImapAccount:
    return ImapAccount(
        name="support",
        host="127.0.0.1",
        port=143,
        tls=False,
        username="support@desk.example",
        password="",
        mailbox="INBOX",
        processed_mailbox="Processed",
        idle=True,
        poll_interval_seconds=60,
        auth="oauth2",
        oauth2=oauth,
    )


def _oauth(
    idp: IdentityProvider, provider: str, flow: str, client: tuple[str, str]
) -> OAuth2Settings:
    return OAuth2Settings(
        provider=provider,
        flow=flow,
        client_id=client[0],
        client_secret=client[1],
        scopes=("https://mail.google.com/",),
        token_url=idp.token_url,
        authority_url="",
        authorization_url=f"{idp.base_url}/authorize",
        service_account_file=None,
    )


def test_google_installed_app_flow_stores_a_sealed_refresh_token(
    idp: IdentityProvider, credentials: ImapCredentials, tmp_path: Path
) -> None:
    client = idp.add_client()
    account = _account(_oauth(idp, "google", "installed", client))
    visited: list[str] = []

    def browser(url: str) -> None:
        """The person: signs in at the provider, which sends the browser back to postdesk."""
        visited.append(url)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        assert query["code_challenge_method"] == "S256" and query["access_type"] == "offline"
        code = idp.authorize(
            query["client_id"],
            "support@desk.example",
            query["code_challenge"],
            query["redirect_uri"],
        )
        back = (
            query["redirect_uri"]
            + "?"
            + urllib.parse.urlencode({"code": code, "state": query["state"]})
        )
        with urllib.request.urlopen(back, timeout=10) as answer:  # noqa: S310 - loopback
            assert b"signed in" in answer.read()

    out = io.StringIO()
    token = login(account, credentials, out=out, open_browser=browser)
    assert token.token in idp.issued()
    assert visited and visited[0] in out.getvalue()
    stored = credentials.load("support")
    assert stored is not None and b"refresh_token" in stored
    # The poller's fetcher works from what was stored, without the person.
    assert fetcher(account, credentials)().token in idp.issued()
    data = b"".join(p.read_bytes() for p in tmp_path.glob("desk.db*"))
    refresh = stored.decode().split('"value": "')[1].rstrip('"}')
    assert refresh.encode() not in data


def test_a_forged_redirect_is_refused(idp: IdentityProvider, credentials: ImapCredentials) -> None:
    client = idp.add_client()
    account = _account(_oauth(idp, "google", "installed", client))

    def browser(url: str) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        code = idp.authorize(
            query["client_id"], "x@desk.example", "wrong-challenge", query["redirect_uri"]
        )
        back = (
            query["redirect_uri"]
            + "?"
            + urllib.parse.urlencode({"code": code, "state": query["state"]})
        )
        urllib.request.urlopen(back, timeout=10).close()  # noqa: S310 - loopback

    with pytest.raises(LoginFailed, match="answered 400: invalid_grant"):
        login(account, credentials, out=io.StringIO(), open_browser=browser)
    assert credentials.load("support") is None


def test_generic_login_takes_a_refresh_token_and_checks_it(
    idp: IdentityProvider, credentials: ImapCredentials
) -> None:
    client = idp.add_client()
    account = _account(_oauth(idp, "generic", "refresh_token", client))
    refresh = idp.add_refresh_token(client[0], "support@desk.example")
    prompts: list[str] = []

    def typed(prompt: str) -> str:
        prompts.append(prompt)
        return refresh + "\n"

    token = login(account, credentials, read_secret=typed)
    assert token.token in idp.issued() and "input hidden" in prompts[0]
    with pytest.raises(LoginFailed, match="answered 400: invalid_grant"):
        login(account, credentials, read_secret=lambda _: "rt-not-issued")
    with pytest.raises(LoginFailed, match="no refresh token given"):
        login(account, credentials, read_secret=lambda _: "  ")


def test_password_accounts_have_nothing_to_log_in(credentials: ImapCredentials) -> None:
    account: Any = _account(None)  # type: ignore[arg-type]
    password = ImapAccount(
        **{
            **{f: getattr(account, f) for f in account.__slots__},
            "auth": "password",
            "password": "pw",
        }
    )
    assert authenticator(password, credentials).username == "support@desk.example"
    with pytest.raises(LoginFailed, match='auth = "password"'):
        login(password, credentials)
