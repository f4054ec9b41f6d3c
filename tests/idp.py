"""A tiny OAuth2 identity provider on loopback: the stand-in for Microsoft's or Google's.

It issues access tokens at ``/token`` (grants: ``refresh_token``, ``client_credentials``, and
the JWT bearer assertion of a Google service account, checked against a registered public
key) and answers RFC 7662 introspection at ``/introspect`` (``token=...`` in a POST body),
which Dovecot's ``oauth2`` passdb asks for every XOAUTH2 / OAUTHBEARER login. A test can
expire every token at once, make the token endpoint fail, and count the requests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest

from tests.dovecot import DovecotServer, started_dovecot

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class _Grant:
    client_id: str
    user: str


@dataclass
class IdentityProvider:
    """State of the stand-in; ``start`` serves it on a free 127.0.0.1 port."""

    clients: dict[str, str] = field(default_factory=dict)  # client id -> secret
    app_users: dict[str, str] = field(default_factory=dict)  # client id -> mailbox (app-only)
    service_keys: dict[str, Any] = field(default_factory=dict)  # issuer -> public key
    refresh_tokens: dict[str, _Grant] = field(default_factory=dict)
    codes: dict[str, tuple[_Grant, str, str]] = field(default_factory=dict)  # PKCE, redirect
    access_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    lifetime: int = 3600
    rotate_refresh_tokens: bool = False
    failing: int | None = None  # an HTTP status the token endpoint answers with, or None
    token_requests: int = 0
    introspections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    @property
    def introspection_url(self) -> str:
        return f"{self.base_url}/introspect"

    def add_client(self, client_id: str | None = None) -> tuple[str, str]:
        """Register a client; returns (client id, client secret)."""
        client_id = client_id or f"client-{secrets.token_hex(4)}"
        secret = secrets.token_urlsafe(16)
        with self.lock:
            self.clients[client_id] = secret
        return client_id, secret

    def add_refresh_token(self, client_id: str, user: str) -> str:
        """A refresh token for ``user`` of ``client_id`` (what a login flow would yield)."""
        token = f"rt-{secrets.token_urlsafe(24)}"
        with self.lock:
            self.refresh_tokens[token] = _Grant(client_id, user)
        return token

    def authorize(self, client_id: str, user: str, challenge: str, redirect_uri: str) -> str:
        """What the provider's sign-in page does: a one-time code for ``user``."""
        code = f"code-{secrets.token_urlsafe(12)}"
        with self.lock:
            self.codes[code] = (_Grant(client_id, user), challenge, redirect_uri)
        return code

    def expire_all(self) -> None:
        """Every access token issued so far is no longer active (refresh tokens still work)."""
        with self.lock:
            self.access_tokens.clear()

    def issued(self) -> list[str]:
        with self.lock:
            return list(self.access_tokens)

    # -- the HTTP side -------------------------------------------------------------------
    def _issue(self, user: str) -> dict[str, Any]:
        token = f"at-{secrets.token_urlsafe(24)}"
        self.access_tokens[token] = (user, time.monotonic() + self.lifetime)
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime}

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.token_requests += 1
            if self.failing is not None:
                return self.failing, {"error": "temporarily_unavailable"}
            grant = form.get("grant_type", "")
            if grant == JWT_BEARER:
                return self._assertion(form.get("assertion", ""))
            client_id = form.get("client_id", "")
            if self.clients.get(client_id) != form.get("client_secret") or not client_id:
                return 401, {"error": "invalid_client"}
            if grant == "client_credentials":
                user = self.app_users.get(client_id)
                if user is None:
                    return 400, {"error": "unauthorized_client"}
                return 200, self._issue(user)
            if grant == "authorization_code":
                return self._code(client_id, form)
            if grant == "refresh_token":
                held = self.refresh_tokens.get(form.get("refresh_token", ""))
                if held is None or held.client_id != client_id:
                    return 400, {"error": "invalid_grant"}
                answer = self._issue(held.user)
                if self.rotate_refresh_tokens:
                    del self.refresh_tokens[form["refresh_token"]]
                    fresh = f"rt-{secrets.token_urlsafe(24)}"
                    self.refresh_tokens[fresh] = held
                    answer["refresh_token"] = fresh
                return 200, answer
            return 400, {"error": "unsupported_grant_type"}

    def _code(self, client_id: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        held = self.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if (
            held is None
            or held[0].client_id != client_id
            or held[1] != challenge.decode()
            or held[2] != form.get("redirect_uri")
        ):
            return 400, {"error": "invalid_grant"}
        answer = self._issue(held[0].user)
        refresh = f"rt-{secrets.token_urlsafe(24)}"
        self.refresh_tokens[refresh] = held[0]
        answer["refresh_token"] = refresh
        return 200, answer

    def _assertion(self, assertion: str) -> tuple[int, dict[str, Any]]:
        try:
            issuer = jwt.decode(assertion, options={"verify_signature": False})["iss"]
            claims = jwt.decode(
                assertion,
                self.service_keys[issuer],
                algorithms=["RS256"],
                # google-auth names Google's endpoint whatever token_uri it posts to
                audience=[self.token_url, "https://oauth2.googleapis.com/token"],
            )
        except (KeyError, jwt.PyJWTError):
            return 400, {"error": "invalid_grant"}
        return 200, self._issue(claims["sub"])

    def introspect(self, token: str) -> dict[str, Any]:
        with self.lock:
            self.introspections += 1
            held = self.access_tokens.get(token)
            if held is None or held[1] < time.monotonic():
                return {"active": False}
            return {"active": True, "username": held[0]}

    def start(self) -> None:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                path = self.path.split("?")[0]
                if path == "/token":
                    status, body = idp.token(form)
                elif path == "/introspect":
                    status, body = 200, idp.introspect(form.get("token", ""))
                else:
                    status, body = 404, {"error": "not_found"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture(scope="session")
def idp() -> Iterator[IdentityProvider]:
    """The stand-in identity provider, for the whole session (tests add their own clients)."""
    provider = IdentityProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def oauth_dovecot(idp: IdentityProvider) -> Iterator[DovecotServer]:
    """A Dovecot whose XOAUTH2 / OAUTHBEARER logins are checked at ``idp``'s introspection."""
    server = started_dovecot(idp.introspection_url)
    yield server
    server.remove()
