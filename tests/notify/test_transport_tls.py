"""The SMTP transport over implicit TLS (SMTPS, `[outbound] tls = "implicit"`): a real TLS
relay on loopback gets the mail, over a verified connection."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP

from notify.message import OutgoingMail
from notify.options import SmtpRelayOptions
from notify.transport import SmtpTransport
from tests.dovecot import self_signed_certificate


class _Keep:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, envelope.content))
        return "250 OK"


def _send_both_ways(port: int, cert: Path) -> tuple[str, str]:
    """(outcome over implicit TLS, outcome of a plain client) for one mail each."""
    mail = OutgoingMail(
        row_id=1,
        kind="confirmation",
        envelope_from="bounces@desk.example",
        recipients=("carol@acme.example",),
        data=b"From: support@desk.example\r\nTo: carol@acme.example\r\nSubject: hi\r\n\r\nhi\r\n",
    )
    transport = SmtpTransport(
        SmtpRelayOptions(host="127.0.0.1", port=port, implicit_tls=True, timeout_seconds=10),
        tls_context=ssl.create_default_context(cafile=str(cert)),
    )
    delivery = transport.send(mail)
    transport.close()
    # The server speaks TLS only: a plain client gets nowhere (so the mail went over TLS).
    plain = SmtpTransport(SmtpRelayOptions(host="127.0.0.1", port=port, timeout_seconds=2))
    refused = plain.send(mail)
    plain.close()
    return delivery.outcome, refused.outcome


def test_implicit_tls_relay(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(str(cert), str(key))
    handler = _Keep()

    async def main() -> tuple[str, str]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="relay.test", decode_data=False),
            "127.0.0.1",
            0,
            ssl=server_context,
        )
        try:
            port = server.sockets[0].getsockname()[1]
            return await asyncio.wait_for(asyncio.to_thread(_send_both_ways, port, cert), 60)
        finally:
            server.close()
            await server.wait_closed()

    sent, plain = asyncio.run(main())
    assert sent == "sent" and plain != "sent"
    [(sender, content)] = handler.messages
    assert sender == "bounces@desk.example"
    assert b"Subject: hi" in content
