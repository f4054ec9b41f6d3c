"""`postdesk serve` with the LMTP listener on a unix socket, beside mail piped in by
`postdesk ingest -`: both become tickets, each decision record names its intake path, and
/metrics counts the messages per path."""

from __future__ import annotations

import smtplib
import subprocess
import tempfile
from pathlib import Path

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


def test_lmtp_and_pipe_are_counted_per_path(tmp_path: Path, sqlite_url: str) -> None:
    with tempfile.TemporaryDirectory(prefix="pd-serve-") as short:  # unix socket path limit
        socket_path = Path(short) / "lmtp.sock"
        config = serve_config(
            tmp_path / "desk", sqlite_url, {"lmtp": {"listen": f"unix:{socket_path}"}}
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

            def both_recorded() -> bool:
                return len(config.cli_json("tickets", "list")) == 2

            wait_until(both_recorded, timeout=60, what="both tickets", interval=0.5)
            sources = {}
            for ticket in config.cli_json("tickets", "list"):
                shown = config.cli_json("tickets", "show", ticket["number"])
                sources[ticket["subject"]] = [m["source"] for m in shown["messages"]]
            assert sources == {"Via LMTP": ["lmtp"], "Via pipe": ["pipe"]}

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
