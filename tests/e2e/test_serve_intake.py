"""`postdesk serve` with the LMTP listener on a unix socket and a Postmark inbound webhook on
its HTTP listener, beside mail piped in by `postdesk ingest -`: each becomes a ticket, each
decision record names its intake path, and /metrics counts the messages per path."""

from __future__ import annotations

import base64
import json
import smtplib
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.e2e.cli import POSTDESK
from tests.e2e.serve_helpers import (
    ServeProcess,
    child_env,
    on_the_wire,
    serve_config,
    wait_until,
)
from tests.helpers import mail


def test_lmtp_webhook_and_pipe_are_counted_per_path(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PD_TEST_POSTMARK_USER", "postmark")
    monkeypatch.setenv("PD_TEST_POSTMARK_PASSWORD", "s3cret-hook-pass")
    inbound = {
        "provider": "postmark",
        "path": "/inbound/postmark",
        "username_env": "PD_TEST_POSTMARK_USER",
        "password_env": "PD_TEST_POSTMARK_PASSWORD",
    }
    with tempfile.TemporaryDirectory(prefix="pd-serve-") as short:  # unix socket path limit
        socket_path = Path(short) / "lmtp.sock"
        config = serve_config(
            tmp_path / "desk",
            sqlite_url,
            {"lmtp": {"listen": f"unix:{socket_path}"}, "inbound": [inbound]},
        )
        daemon, config = ServeProcess.start(config)
        try:
            wait_until(socket_path.exists, timeout=30, what="the LMTP socket")
            lmtp = smtplib.LMTP(str(socket_path))
            try:
                lmtp.ehlo()
                lmtp.mail("carol@acme.example")
                assert lmtp.rcpt("support@desk.example")[0] == 250
                message = mail(subject="Via LMTP", message_id="<serve-lmtp@acme.example>")
                assert lmtp.data(on_the_wire(message))[0] == 250
            finally:
                lmtp.quit()
            result = _pipe(config.path, mail(subject="Via pipe", message_id="<serve-pipe@x>"))
            assert result == 0
            hooked = mail(subject="Via Postmark", message_id="<serve-postmark@acme.example>")
            assert _postmark(config.http_port, hooked) == 200

            def all_recorded() -> bool:
                return len(config.cli_json("tickets", "list")) == 3

            wait_until(all_recorded, timeout=60, what="the three tickets", interval=0.5)
            sources = {}
            for ticket in config.cli_json("tickets", "list"):
                shown = config.cli_json("tickets", "show", ticket["number"])
                sources[ticket["subject"]] = [m["source"] for m in shown["messages"]]
            assert sources == {
                "Via LMTP": ["lmtp"],
                "Via pipe": ["pipe"],
                "Via Postmark": ["postmark"],
            }
            status, _ = daemon.http_get("/attachments/not-a-signed-link")
            assert status == 404  # the download route is mounted; a bad link finds nothing

            def counted() -> bool:
                _, body = daemon.http_get("/metrics")
                return (
                    'postdesk_intake_messages_total{path="lmtp"} 1.0' in body
                    and 'postdesk_intake_messages_total{path="pipe"} 1.0' in body
                )

            wait_until(counted, timeout=20, what="the per-path counts in /metrics")
            assert daemon.terminate(timeout=20) == 0
            assert not socket_path.exists()  # removed on stop
        finally:
            daemon.kill()


def _pipe(config: Path, message: bytes) -> int:
    """`postdesk ingest -` with the message on stdin, as an MTA's pipe runs it."""
    done = subprocess.run(
        [*POSTDESK, "--config", str(config), "ingest", "-"],
        input=message,
        capture_output=True,
        cwd=REPO_ROOT,
        env=child_env(),
        timeout=120,
        check=False,
    )
    return done.returncode


def _postmark(port: int, message: bytes) -> int:
    """Postmark's inbound POST (JSON with the raw message), with its basic auth."""
    body = json.dumps(
        {
            "From": "carol@acme.example",
            "OriginalRecipient": "support@desk.example",
            "RawEmail": message.decode("utf-8"),
        }
    ).encode()
    token = base64.b64encode(b"postmark:s3cret-hook-pass").decode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/inbound/postmark",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return int(response.status)
