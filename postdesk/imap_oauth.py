"""IMAP accounts with `auth = "oauth2"`: the poller's authenticator, and the interactive logins.

`authenticator` turns an account's settings into what the poller logs in with. `login` is
`postdesk imap login ACCOUNT`: it runs the provider's interactive flow in the terminal and
stores what it yields sealed in the database (`store.imap_credentials`), never in the
configuration or a log:

- Microsoft, delegated: MSAL's device-code flow (a code to enter at a Microsoft page);
- Google, installed app: the browser signs in and is sent back to a one-shot listener on
  127.0.0.1 (with PKCE), whose code is exchanged for a refresh token;
- generic: the refresh token, read from the terminal without echo (or from standard input);
- Microsoft app-only and Google service accounts store nothing: the command fetches one
  token to prove the set-up works.

Each ends by fetching an access token with the stored credential, so a login that says
"ok" works for the daemon too.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import http.server
import secrets
import sys
import threading
import urllib.parse
from collections.abc import Callable
from typing import IO, Any

import msal

from ingest.listen.imap_auth import (
    AccessToken,
    Authenticator,
    LoginFailed,
    OAuth2Login,
    PasswordLogin,
    TokenCache,
    TokenFetcher,
)
from ingest.listen.imap_tokens import (
    GoogleServiceAccount,
    MicrosoftAppOnly,
    MicrosoftDelegated,
    RefreshTokenGrant,
    encode_credential,
    post_form,
)
from postdesk.config.settings import ImapAccount, OAuth2Settings
from store.imap_credentials import ImapCredentials

__all__ = ["authenticator", "fetcher", "login", "login_command"]

LOOPBACK_WAIT_SECONDS = 300.0


def login_command(account: str) -> str:
    """The command that (re)does an account's login."""
    return f"postdesk imap login {account}"


def _oauth2(account: ImapAccount) -> OAuth2Settings:
    if account.oauth2 is None:
        raise LoginFailed(f'IMAP account {account.name!r} has auth = "password"; nothing to log in')
    return account.oauth2


def fetcher(account: ImapAccount, credentials: ImapCredentials) -> TokenFetcher:
    """Where the account's access tokens come from."""
    oauth = _oauth2(account)
    vault = credentials.vault(account.name)
    if oauth.provider == "microsoft" and oauth.flow == "app":
        return MicrosoftAppOnly(
            oauth.authority_url, oauth.client_id, oauth.client_secret, oauth.scopes
        )
    if oauth.provider == "microsoft":
        return MicrosoftDelegated(
            oauth.authority_url, oauth.client_id, account.username, oauth.scopes, vault
        )
    if oauth.flow == "service_account":
        assert oauth.service_account_file is not None  # checked by the configuration
        return GoogleServiceAccount(
            oauth.service_account_file, account.username, oauth.scopes, oauth.token_url
        )
    return RefreshTokenGrant(
        oauth.token_url, oauth.client_id, oauth.client_secret, oauth.scopes, vault
    )


def authenticator(account: ImapAccount, credentials: ImapCredentials) -> Authenticator:
    """How the poller logs the account in."""
    if account.auth != "oauth2":
        return PasswordLogin(account.username, account.password)
    return OAuth2Login(account.username, TokenCache(fetcher(account, credentials)), account.sasl)


def login(
    account: ImapAccount,
    credentials: ImapCredentials,
    *,
    out: IO[str] | None = None,
    read_secret: Callable[[str], str] | None = None,
    open_browser: Callable[[str], Any] | None = None,
) -> AccessToken:
    """Run the account's interactive flow, store its credential sealed, and prove it works.

    Raises `LoginFailed` with what went wrong; prints instructions (never a token) on `out`.
    """
    oauth = _oauth2(account)
    out = out or sys.stdout
    vault = credentials.vault(account.name)
    if oauth.provider == "microsoft" and oauth.flow == "device_code":
        vault.save(encode_credential("msal_cache", _device_code(oauth, out)))
    elif oauth.provider == "google" and oauth.flow == "installed":
        refresh = _installed_app(oauth, account.username, out, open_browser)
        vault.save(encode_credential("refresh_token", refresh))
    elif oauth.provider == "generic":
        refresh = (read_secret or _read_secret)(
            f"Refresh token for {account.username} (input hidden): "
        ).strip()
        if not refresh:
            raise LoginFailed("no refresh token given; nothing stored")
        vault.save(encode_credential("refresh_token", refresh))
    return fetcher(account, credentials)()


def _read_secret(prompt: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline()


def _device_code(oauth: OAuth2Settings, out: IO[str]) -> str:
    """MSAL's device-code flow; returns MSAL's serialized token cache."""
    cache = msal.SerializableTokenCache()
    try:
        app = msal.PublicClientApplication(
            oauth.client_id,
            authority=oauth.authority_url,
            token_cache=cache,
            instance_discovery=False,
        )
        flow = app.initiate_device_flow(scopes=list(oauth.scopes))
        if "user_code" not in flow:
            raise LoginFailed(
                f"Microsoft refused to start the device-code flow: {flow.get('error', '?')} "
                f"({' '.join(str(flow.get('error_description', '')).split())[:200]}); "
                "allow public client flows in the app registration"
            )
        print(flow["message"], file=out, flush=True)
        result = app.acquire_token_by_device_flow(flow)
    except LoginFailed:
        raise
    except Exception as exc:  # MSAL raises ValueError and requests' errors alike
        raise LoginFailed(f"Microsoft sign-in failed ({type(exc).__name__})") from None
    if "access_token" not in result:
        raise LoginFailed(
            f"Microsoft sign-in failed: {result.get('error', '?')} "
            f"({' '.join(str(result.get('error_description', '')).split())[:200]})"
        )
    return str(cache.serialize())


def _installed_app(
    oauth: OAuth2Settings,
    username: str,
    out: IO[str],
    open_browser: Callable[[str], Any] | None,
) -> str:
    """Google's installed-app flow with a loopback redirect and PKCE; returns the refresh
    token."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    received: dict[str, str] = {}
    done = threading.Event()

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            if query.get("state") != state:
                self.send_response(400)
                self.end_headers()
                return
            received.update(query)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(b"postdesk: signed in; you can close this window.\n")
            done.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/"
    url = (
        oauth.authorization_url
        + "?"
        + urllib.parse.urlencode(
            {
                "client_id": oauth.client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": " ".join(oauth.scopes),
                "access_type": "offline",
                "prompt": "consent",
                "login_hint": username,
                "state": state,
                "code_challenge": challenge.decode().rstrip("="),
                "code_challenge_method": "S256",
            }
        )
    )
    thread = threading.Thread(target=server.serve_forever, name="oauth-redirect", daemon=True)
    thread.start()
    try:
        print(
            f"Open this address in a browser on this machine and sign in as {username}:\n{url}",
            file=out,
            flush=True,
        )
        if open_browser is not None:
            open_browser(url)
        if not done.wait(LOOPBACK_WAIT_SECONDS):
            raise LoginFailed("no sign-in came back within 5 minutes; run the command again")
    finally:
        server.shutdown()
        server.server_close()
    if "code" not in received:
        raise LoginFailed(f"the sign-in was refused: {received.get('error', 'no code')}")
    form = {
        "grant_type": "authorization_code",
        "code": received["code"],
        "redirect_uri": redirect_uri,
        "client_id": oauth.client_id,
        "client_secret": oauth.client_secret,
        "code_verifier": verifier,
    }
    answer = post_form(oauth.token_url, form)
    refresh = answer.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        raise LoginFailed(
            "Google gave no refresh token; remove postdesk's access at "
            "myaccount.google.com/permissions and run the command again"
        )
    return refresh
