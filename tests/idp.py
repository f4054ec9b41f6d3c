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
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.dovecot import DovecotServer, self_signed_certificate, started_dovecot

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


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
    device_users: dict[str, str] = field(default_factory=dict)  # client id -> who signs in
    devices: dict[str, _Grant] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    tls_server: ThreadingHTTPServer | None = None  # the same provider over https
    tls_cert: Path = Path()

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def tls_base_url(self) -> str:
        """The https address (``start_tls``): MSAL speaks to nothing else."""
        assert self.tls_server is not None
        return f"https://127.0.0.1:{self.tls_server.server_address[1]}"

    def openid_configuration(self, tenant: str) -> dict[str, Any]:
        """What MSAL reads at ``<authority>/v2.0/.well-known/openid-configuration``."""
        base = self.tls_base_url
        return {
            "issuer": f"{base}/{tenant}/v2.0",
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "device_authorization_endpoint": f"{base}/devicecode",
        }

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    @property
    def introspection_url(self) -> str:
        return f"{self.base_url}/introspect"

    def add_client(self, client_id: str | None = None, *, public: bool = False) -> tuple[str, str]:
        """Register a client; returns (client id, client secret) ("" for a public client)."""
        client_id = client_id or f"client-{secrets.token_hex(4)}"
        secret = "" if public else secrets.token_urlsafe(16)
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
            if self.clients.get(client_id) != form.get("client_secret", "") or not client_id:
                return 401, {"error": "invalid_client"}
            if grant == DEVICE_CODE:
                held = self.devices.pop(form.get("device_code", ""), None)
                if held is None:
                    return 400, {"error": "expired_token"}
                return 200, self._signed_in(held)
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
                if held.client_id in self.device_users:  # an MSAL public client
                    answer = self._signed_in(held, refresh=form["refresh_token"])
                if self.rotate_refresh_tokens:
                    del self.refresh_tokens[form["refresh_token"]]
                    fresh = f"rt-{secrets.token_urlsafe(24)}"
                    self.refresh_tokens[fresh] = held
                    answer["refresh_token"] = fresh
                return 200, answer
            return 400, {"error": "unsupported_grant_type"}

    def device_code(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Start a device-code sign-in; the person (``device_users``) approves at once."""
        with self.lock:
            user = self.device_users.get(form.get("client_id", ""))
            if user is None:
                return 400, {"error": "unauthorized_client"}
            code = f"dc-{secrets.token_urlsafe(12)}"
            self.devices[code] = _Grant(form["client_id"], user)
        return 200, {
            "device_code": code,
            "user_code": "ABCD-EFGH",
            "verification_uri": f"{self.base_url}/device",
            "expires_in": 900,
            "interval": 1,
            "message": f"To sign in, open {self.base_url}/device and enter ABCD-EFGH.",
        }

    def _signed_in(self, held: _Grant, refresh: str | None = None) -> dict[str, Any]:
        """Tokens for a person, with the id token and client info MSAL builds accounts from."""
        answer = self._issue(held.user)
        if refresh is None:
            refresh = f"rt-{secrets.token_urlsafe(24)}"
            self.refresh_tokens[refresh] = held
        now = int(time.time())
        claims = {
            "iss": f"{self.base_url}/tenant/v2.0",
            "sub": held.user,
            "aud": held.client_id,
            "iat": now,
            "exp": now + 3600,
            "oid": "00000000-0000-0000-0000-0000000000aa",
            "tid": "tenant",
            "preferred_username": held.user,
        }
        answer["id_token"] = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(claims) + "."
        answer["client_info"] = _b64({"uid": claims["oid"], "utid": "tenant"})
        answer["refresh_token"] = refresh
        answer["scope"] = "https://outlook.office.com/IMAP.AccessAsUser.All"
        return answer

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
        self.server = self._serve(None)

    def start_tls(self, context: ssl.SSLContext) -> None:
        """Serve the same provider over https too."""
        self.tls_server = self._serve(context)

    def _serve(self, tls: ssl.SSLContext | None) -> ThreadingHTTPServer:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                path = self.path.split("?")[0]
                if path == "/token":
                    status, body = idp.token(form)
                elif path == "/devicecode":
                    status, body = idp.device_code(form)
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

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                suffix = "/v2.0/.well-known/openid-configuration"
                if path.endswith(suffix):
                    status, body = 200, idp.openid_configuration(path[1 : -len(suffix)])
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

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def stop(self) -> None:
        for server in (self.server, self.tls_server):
            if server is not None:
                server.shutdown()
                server.server_close()


@pytest.fixture(scope="session")
def idp() -> Iterator[IdentityProvider]:
    """The stand-in identity provider, for the whole session (tests add their own clients)."""
    provider = IdentityProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def tls_idp(
    idp: IdentityProvider, tmp_path_factory: pytest.TempPathFactory
) -> tuple[IdentityProvider, Path]:
    """``idp`` served over https too, with a self-signed certificate (MSAL refuses plain
    http); returns it and the certificate's path, for REQUESTS_CA_BUNDLE."""
    if idp.tls_server is None:
        folder = tmp_path_factory.mktemp("idp-tls")
        cert, key = self_signed_certificate(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        idp.start_tls(context)
        idp.tls_cert = cert
    return idp, idp.tls_cert


@pytest.fixture(scope="session")
def oauth_dovecot(idp: IdentityProvider) -> Iterator[DovecotServer]:
    """A Dovecot whose XOAUTH2 / OAUTHBEARER logins are checked at ``idp``'s introspection."""
    server = started_dovecot(idp.introspection_url)
    yield server
    server.remove()
