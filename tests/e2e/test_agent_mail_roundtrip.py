"""End to end over real SMTP: `postdesk serve` in its own process, a relay on loopback.

A customer mails a screenshot; the team notice arrives with the screenshot attached; the
agent answers it (its reply-token address) with a PDF; the customer's relayed mail carries
the PDF under the agent's display name, and the team gets a copy, the agent none.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.e2e.serve_helpers import ServeProcess, on_the_wire, serve_config, wait_until
from tests.helpers import mail
from tests.notify.conftest import CaptureServer

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 16
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SUPPORT = "support@desk.example"


@pytest.fixture
def relay() -> Iterator[CaptureServer]:
    server = CaptureServer()
    server.start()
    yield server
    server.stop()


def _mail_of(relay: CaptureServer, rcpt: str, kind: str) -> EmailMessage | None:
    for captured in list(relay.handler.messages):
        if rcpt not in [r.lower() for r in captured.rcpt_tos]:
            continue
        message = email.message_from_bytes(captured.data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if message["X-Postdesk-Kind"] == kind:
            return message
    return None


def _files(message: EmailMessage) -> dict[str, bytes]:
    return {
        str(part.get_filename()): part.get_content()
        for part in message.iter_attachments()
        if isinstance(part, EmailMessage)
    }


def _reply(original: EmailMessage, sender: str, body: str, pdf: bytes) -> bytes:
    """What an agent's mail client sends on Reply, with a file attached."""
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = str(original["Reply-To"])
    reply["Subject"] = "Re: " + str(original["Subject"])
    reply["Message-ID"] = email.utils.make_msgid(domain="desk.example")
    reply["In-Reply-To"] = str(original["Message-ID"])
    reply["References"] = str(original["Message-ID"])
    reply["Date"] = email.utils.formatdate()
    reply.set_content(body)
    reply.add_attachment(pdf, maintype="application", subtype="pdf", filename="fix-report.pdf")
    return reply.as_bytes()


def test_attachments_both_ways_and_the_team_copy(
    tmp_path: Path, sqlite_url: str, relay: CaptureServer
) -> None:
    staff = [
        {"name": "alice", "email": "alice@desk.example", "display_name": "Alice Moreau"},
        {"name": "bob", "email": "bob@desk.example"},
    ]
    config = serve_config(
        tmp_path / "desk",
        sqlite_url,
        {
            "outbound": {"transport": "smtp", "host": "127.0.0.1", "port": relay.port},
            "staff": staff,
        },
    )
    daemon, config = ServeProcess.start(config)
    try:
        customer = mail(
            subject="Export button greyed out",
            body="Hello,\n\nthe export button is greyed out, see the screenshot.\n\nCarol\n",
            attachments=[("screenshot.png", "image/png", PNG)],
        )
        with daemon.smtp() as client:
            client.sendmail("carol@acme.example", [SUPPORT], on_the_wire(customer))
        notice = wait_until(
            lambda: _mail_of(relay, "team@desk.example", "new_ticket_notice"),
            timeout=60,
            what="the team's new-ticket notice",
        )
        assert _files(notice) == {"screenshot.png": PNG}
        token_address = notice["Reply-To"].addresses[0].addr_spec
        assert token_address.startswith("support+sup-")

        answer = _reply(notice, "Alice <alice@desk.example>", "Fixed: see the report.\n", PDF)
        with daemon.smtp() as client:
            client.sendmail("alice@desk.example", [token_address], on_the_wire(answer))
        relayed = wait_until(
            lambda: _mail_of(relay, "carol@acme.example", "staff_reply"),
            timeout=60,
            what="the reply relayed to the customer",
        )
        assert _files(relayed) == {"fix-report.pdf": PDF}
        assert relayed["From"].addresses[0].display_name == "Alice Moreau (Example Support)"
        body = relayed.get_body(("plain",))
        assert body is not None and "Fixed: see the report." in body.get_content()
        copy = wait_until(
            lambda: _mail_of(relay, "team@desk.example", "staff_reply_copy"),
            timeout=60,
            what="the team's copy of the reply",
        )
        assert _files(copy) == {"fix-report.pdf": PDF}
        assert all(
            "alice@desk.example" not in [r.lower() for r in m.rcpt_tos]
            for m in relay.handler.messages
        )
    finally:
        assert daemon.terminate() == 0, daemon.output()
