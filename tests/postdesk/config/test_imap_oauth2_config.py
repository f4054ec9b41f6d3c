"""`[[imap]] auth = "oauth2"` and its `[imap.oauth2]` table: defaults per provider, and every
missing or bad value named by its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from postdesk.config.load import ConfigError, settings_from_mapping
from postdesk.config.settings import ImapAccount
from tests.helpers import example_config


def _account(
    oauth2: dict[str, Any] | None, env: dict[str, str] | None = None, **keys: Any
) -> ImapAccount:
    data = example_config()
    account: dict[str, Any] = {
        "name": "support",
        "host": "outlook.office365.com",
        "username": "support@contoso.example",
        "auth": "oauth2",
        **keys,
    }
    if oauth2 is not None:
        account["oauth2"] = oauth2
    data["imap"] = [account]
    return settings_from_mapping(data, base=Path("/srv/postdesk"), env=env or {}).imap[0]


def test_microsoft_app_only_defaults() -> None:
    account = _account(
        {
            "provider": "microsoft",
            "tenant": "contoso.example",
            "client_id": "app",
            "client_secret_env": "M365_SECRET",
        },
        env={"M365_SECRET": "s3cret"},
    )
    oauth = account.oauth2
    assert oauth is not None and account.auth == "oauth2" and account.sasl == "xoauth2"
    assert (oauth.provider, oauth.flow) == ("microsoft", "app")
    assert oauth.scopes == ("https://outlook.office365.com/.default",)
    assert oauth.authority_url == "https://login.microsoftonline.com/contoso.example"
    assert oauth.client_secret == "s3cret" and "s3cret" not in repr(oauth)
    assert account.password == ""  # no password needed


def test_microsoft_device_code_needs_no_secret() -> None:
    oauth = _account(
        {"provider": "microsoft", "flow": "device_code", "tenant": "t", "client_id": "app"}
    ).oauth2
    assert oauth is not None
    assert oauth.scopes == ("https://outlook.office.com/IMAP.AccessAsUser.All",)


def test_google_service_account_and_installed_app() -> None:
    sa = _account(
        {"provider": "google", "service_account_file": "keys/sa.json"}, sasl="oauthbearer"
    )
    assert sa.sasl == "oauthbearer" and sa.oauth2 is not None
    assert sa.oauth2.service_account_file == Path("/srv/postdesk/keys/sa.json")
    assert sa.oauth2.token_url == "https://oauth2.googleapis.com/token"
    assert sa.oauth2.scopes == ("https://mail.google.com/",)
    installed = _account(
        {"provider": "google", "flow": "installed", "client_id": "c", "client_secret": "s"}
    ).oauth2
    assert installed is not None
    assert installed.authorization_url == "https://accounts.google.com/o/oauth2/v2/auth"


def test_generic_provider_points_at_any_token_endpoint() -> None:
    oauth = _account(
        {
            "provider": "generic",
            "token_url": "http://127.0.0.1:9000/token",
            "client_id": "c",
            "scopes": ["imap"],
        }
    ).oauth2
    assert oauth is not None and oauth.flow == "refresh_token" and oauth.scopes == ("imap",)


@pytest.mark.parametrize(
    ("oauth2", "message"),
    [
        (
            {"provider": "microsoft", "client_id": "a", "client_secret": "s"},
            "oauth2.tenant: required",
        ),
        (
            {"provider": "microsoft", "tenant": "t", "client_id": "a"},
            "oauth2.client_secret: required",
        ),
        ({"provider": "google"}, "oauth2.service_account_file: required"),
        ({"provider": "google", "flow": "installed", "client_id": "c"}, "client_secret: required"),
        ({"provider": "generic", "client_id": "c"}, "oauth2.token_url: required"),
        ({"provider": "yahoo"}, "oauth2.provider: expected one of microsoft, google, generic"),
        (
            {"provider": "microsoft", "flow": "installed"},
            "oauth2.flow: expected one of app, device_code",
        ),
        (
            {"provider": "generic", "client_id": "c", "token_url": "http://idp.example/token"},
            "an https:// URL",
        ),
        (
            {"provider": "generic", "client_id": "c", "token_url": "https://i/t", "secret": "x"},
            "oauth2.secret: unknown key",
        ),
    ],
)
def test_bad_oauth2_settings_name_their_key(oauth2: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        _account(oauth2)


def test_oauth2_table_needs_auth_oauth2() -> None:
    with pytest.raises(ConfigError, match=r'imap\[0\]\.auth: expected "oauth2"'):
        _account({"provider": "generic"}, auth="password", password="x")


def test_password_accounts_still_need_a_password() -> None:
    with pytest.raises(ConfigError, match=r"imap\[0\]\.password: required"):
        _account(None, auth="password")
    assert _account(None, auth="password", password="pw").auth == "password"
