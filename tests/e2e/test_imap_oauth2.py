"""`postdesk imap login` and `postdesk serve` with an OAuth2 mailbox, as an operator runs them.

Real parts only: the daemon and the CLI as subprocesses, Dovecot with its oauth2 passdb, and
the identity provider's stand-in (tests/idp.py) that issues tokens and answers Dovecot's
introspection. Covers: the login stores the refresh token sealed (never in the database file
or a log); mail fetched over XOAUTH2 becomes one ticket per message, across an access token
that stops working mid-run and the reconnect after it; a refresh the provider refuses backs
off, turns /healthz degraded naming the command that fixes it, counts in /metrics and shows
in `postdesk imap status`; after a new login the mailbox recovers by itself.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest

from tests.dovecot import DovecotServer
from tests.e2e.cli import POSTDESK
from tests.e2e.serve_helpers import (
    Recorded,
    ServeConfig,
    ServeProcess,
    child_env,
    serve_config,
    wait_until,
)
from tests.helpers import mail
from tests.idp import IdentityProvider, idp, oauth_dovecot

__all__ = ["idp", "oauth_dovecot"]  # fixtures

ACCOUNT = "support-oauth"


def _metric(daemon: ServeProcess, name: str) -> float:
    status, body = daemon.http_get("/metrics")
    assert status == 200
    match = re.search(rf'^{name}\{{account="{ACCOUNT}"\}} (\S+)$', body, re.M)
    return float(match.group(1)) if match else -1.0


def _append(server: DovecotServer, user: str, count: int, tag: str) -> list[str]:
    ids = []
    client = server.client(user, server.password)
    try:
        for n in range(count):
            message_id = make_msgid(domain="acme.example")
            raw = mail(subject=f"{tag} question {n}", message_id=message_id)
            client.append("INBOX", raw.replace(b"\n", b"\r\n"))
            ids.append(message_id)
    finally:
        client.logout()
    return ids


@pytest.fixture
def desk(
    tmp_path: Path, idp: IdentityProvider, oauth_dovecot: DovecotServer
) -> Iterator[tuple[ServeConfig, str, str]]:
    """A configuration with one OAuth2 mailbox; yields (config, mailbox user, refresh token)."""
    user, _ = oauth_dovecot.add_user()
    client_id, secret = idp.add_client()
    refresh = idp.add_refresh_token(client_id, user)
    config = serve_config(
        tmp_path / "desk",
        f"sqlite:///{tmp_path / 'desk.db'}",
        {
            "ingest": {"sender_rate_limit": "off", "domain_rate_limit": "off"},
            "imap": [
                {
                    "name": ACCOUNT,
                    "host": oauth_dovecot.host,
                    "port": oauth_dovecot.port,
                    "tls": False,
                    "username": user,
                    "auth": "oauth2",
                    "processed_mailbox": "Processed",
                    "poll_interval_seconds": 1,
                    "oauth2": {
                        "provider": "generic",
                        "token_url": idp.token_url,
                        "client_id": client_id,
                        "client_secret": secret,
                    },
                }
            ],
        },
    )
    yield config, user, refresh


def _login(config: ServeConfig, refresh: str) -> subprocess.CompletedProcess[str]:
    """`postdesk imap login ACCOUNT` with the refresh token on standard input."""
    return subprocess.run(
        [*POSTDESK, "--config", str(config.path), "imap", "login", ACCOUNT],
        input=refresh + "\n",
        capture_output=True,
        text=True,
        cwd=config.folder,
        env=child_env(),
        timeout=60,
        check=False,
    )


def test_oauth2_mailbox_end_to_end(
    desk: tuple[ServeConfig, str, str], idp: IdentityProvider, oauth_dovecot: DovecotServer
) -> None:
    config, user, refresh = desk
    done = _login(config, refresh)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ok: {ACCOUNT} ({user}) can log in")
    assert refresh not in done.stdout + done.stderr

    recorded = Recorded(config.db_url)
    daemon, config = ServeProcess.start(config)
    try:
        first = _append(oauth_dovecot, user, 3, "first")
        wait_until(lambda: recorded.count_inbound() == 3, timeout=90, what="3 mails recorded")

        # The provider revokes every access token and the server drops the connection: the
        # poller reconnects, its token is refused, it fetches a new one and goes on.
        fetched = idp.token_requests
        idp.expire_all()
        oauth_dovecot.restart()
        second = _append(oauth_dovecot, user, 3, "second")
        wait_until(lambda: recorded.count_inbound() == 6, timeout=90, what="6 mails recorded")
        assert idp.token_requests > fetched
        ids = sorted(f"<{m}>" if not m.startswith("<") else m for m, _, _ in recorded.inbound())
        assert ids == sorted(first + second)
        subjects = recorded.ticket_subjects()
        assert len(subjects) == 6 and len(set(subjects)) == 6  # one ticket per mail
        health, body = daemon.health()
        assert health == 200, body
        assert _metric(daemon, "postdesk_imap_login_failures_total") == 0.0

        # The provider now refuses every refresh: backoff, degraded, counted, reported.
        idp.failing = 400
        idp.expire_all()
        oauth_dovecot.restart()

        def degraded() -> Any:
            code, data = daemon.health()
            return code == 503 and data.get("status") == "degraded" and data

        body = wait_until(degraded, timeout=60, what="/healthz degraded")
        reason = " ".join(body["reasons"])
        assert f"imap {ACCOUNT}: cannot log in since" in reason
        assert f"postdesk imap login {ACCOUNT}" in reason
        assert _metric(daemon, "postdesk_imap_login_failures_total") >= 1
        status = config.cli_json("imap", "status")[0]
        assert status["credential_stored"] is True
        assert status["login_failing_since"] and status["login_failures"] >= 1
        assert "answered 400" in status["login_error"]
    except BaseException:
        daemon.kill()
        raise
    finally:
        recorded.close()
        idp.failing = None
    daemon.terminate(timeout=60)

    # The refresh token and the access tokens are nowhere at rest in clear.
    secrets_seen = [refresh, *idp.issued()]
    for path in [*config.folder.parent.glob("desk.db*"), config.log_file, daemon.stderr_path]:
        data = path.read_bytes()
        for secret in secrets_seen:
            assert secret.encode() not in data, path
    assert refresh not in config.path.read_text()
