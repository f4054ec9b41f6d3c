"""SMTP listener: an aiosmtpd handler that accepts mail for the support addresses into the spool.

Durable point 1: ``250`` is answered only after ``Spool.put`` returned (the message is fsynced
in ``spool/new``); any failure to store answers ``451 4.3.0`` so the sending MTA retries.
Recipients other than the support addresses (and their ``local+tag@domain`` forms) get
``550 5.1.1``; the size limit is announced (EHLO SIZE), checked at MAIL FROM SIZE= and enforced
at DATA (``552``). Status lines are the named constants below.

``start_smtp_server`` serves inside the caller's asyncio loop (the daemon's);
``create_smtp_controller`` runs aiosmtpd's own thread-backed Controller instead.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from ingest.listen.smtp_protocol import SpoolingSMTP
from ingest.spool.queue import Spool
from ingest.spool.writer import SpoolGroupWriter

log = logging.getLogger(__name__)

REPLY_RCPT_OK = "250 2.1.5 Recipient OK"
REPLY_QUEUED = "250 2.0.0 OK: message accepted as {entry_id}"
REPLY_UNKNOWN_RECIPIENT = "550 5.1.1 Recipient address rejected: not a support address here"
REPLY_TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients; send the rest in another message"
REPLY_MESSAGE_TOO_BIG = "552 5.3.4 Message size exceeds fixed maximum message size"
REPLY_STORAGE_FAILURE = "451 4.3.0 Temporary local problem storing the message; try again later"
REPLY_SYNTAX_ERROR = "501 5.1.3 Bad recipient address syntax"

DEFAULT_IDLE_TIMEOUT_SECONDS = 300.0
# Per-connection command budgets: an MTA reuses a connection for many messages, a client that
# loops on NOOP/VRFY/unknown commands is cut off (421) instead of holding a slot forever.
COMMAND_CALL_LIMITS: dict[str, int] = {
    "MAIL": 1000,
    "RCPT": 20_000,
    "DATA": 1000,
    "RSET": 1000,
    "NOOP": 100,
    "*": 20,
}


def support_address_matcher(addresses: Iterable[str]) -> Callable[[str], bool]:
    """A predicate accepting the given addresses and their ``local+anything@domain`` forms.

    Matching is case-insensitive. ``support+SUP-1.k7f3@example.com`` matches when
    ``support@example.com`` is listed.
    """
    known = frozenset(address.strip().lower() for address in addresses if address.strip())

    def accepts(address: str) -> bool:
        candidate = address.strip().lower()
        if candidate in known:
            return True
        local, at, domain = candidate.rpartition("@")
        if not at or "+" not in local:
            return False
        base = local.split("+", 1)[0]
        return bool(base) and f"{base}@{domain}" in known

    return accepts


def build_tls_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    """A server TLS context for STARTTLS from PEM certificate-chain and key files (TLS >= 1.2)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile=str(cert_path), keyfile=str(key_path))
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(
            f"cannot load the SMTP TLS certificate {cert_path} / key {key_path}: {exc}; "
            "check [smtp] tls_cert and tls_key"
        ) from exc
    return context


class SpoolingHandler:
    """aiosmtpd handler: RCPT checks against ``accepts``; DATA -> ``spool.put`` -> 250.

    The fsyncing writes run in ``executor`` (default: the loop's default executor), messages
    arriving together as one group (``ingest.spool.writer``). Give it a dedicated executor
    when other work may fill the default pool, or acceptance stalls behind it.
    ``on_spooled`` (wake the worker) runs in the event loop once per group of messages stored,
    so it must not block: ``postdesk.serve.workers.WorkerProcess.wakeup`` writes one byte to a
    non-blocking pipe.
    """

    def __init__(
        self,
        spool: Spool,
        accepts: Callable[[str], bool],
        *,
        max_message_bytes: int,
        max_recipients: int = 100,
        on_spooled: Callable[[], None] | None = None,
        executor: Executor | None = None,
        source: str = "smtp",
    ) -> None:
        if max_message_bytes <= 0 or max_recipients <= 0:
            raise ValueError("max_message_bytes and max_recipients must be positive")
        self.spool = spool
        self.accepts = accepts
        self.max_message_bytes = max_message_bytes
        self.max_recipients = max_recipients
        self.source = source  # the intake path the spool entries and decision records name
        self.writer = SpoolGroupWriter(spool, executor, on_written=on_spooled)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept support addresses only, up to ``max_recipients`` per message."""
        if "@" not in address:
            return REPLY_SYNTAX_ERROR
        if not self.accepts(address):
            return REPLY_UNKNOWN_RECIPIENT
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return REPLY_TOO_MANY_RECIPIENTS
        envelope.rcpt_tos.append(address)
        return REPLY_RCPT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Spool the message; 250 only once it is durable, 451 on any storage failure."""
        raw = envelope.original_content or b""
        if len(raw) > self.max_message_bytes:
            return REPLY_MESSAGE_TOO_BIG
        rcpts = list(envelope.rcpt_tos)
        try:
            entry = await self.writer.put(
                raw, mail_from=envelope.mail_from or "", rcpts=rcpts, source=self.source
            )
        except Exception as exc:
            log.error(
                "%s: could not store a message from %s (%s); answered 451",
                self.source,
                _peer(session),
                type(exc).__name__,
            )
            return REPLY_STORAGE_FAILURE
        log.info(
            "%s: accepted %s from %s (%d bytes, %d recipients)",
            self.source,
            entry.id,
            _peer(session),
            len(raw),
            len(rcpts),
        )
        return REPLY_QUEUED.format(entry_id=entry.id)


def _peer(session: Session) -> str:
    peer = session.peer
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer)


def smtp_protocol_kwargs(
    handler: SpoolingHandler,
    *,
    hostname: str | None,
    tls_context: ssl.SSLContext | None,
    require_starttls: bool,
    idle_timeout_seconds: float,
) -> dict[str, Any]:
    """Keyword arguments for ``aiosmtpd.smtp.SMTP`` matching the handler's limits."""
    return {
        "data_size_limit": handler.max_message_bytes,
        "enable_SMTPUTF8": True,
        "decode_data": False,
        "hostname": hostname or socket.gethostname(),
        "tls_context": tls_context,
        "require_starttls": require_starttls and tls_context is not None,
        "timeout": idle_timeout_seconds,
        "command_call_limit": COMMAND_CALL_LIMITS,
    }


async def start_smtp_server(
    handler: SpoolingHandler,
    host: str,
    port: int,
    *,
    tls_context: ssl.SSLContext | None = None,
    require_starttls: bool = False,
    hostname: str | None = None,
    idle_timeout_seconds: float = DEFAULT_IDLE_TIMEOUT_SECONDS,
) -> asyncio.Server:
    """Listen on ``host:port`` in the running asyncio loop; close the returned server to stop.

    Lines longer than 1000 octets are refused (``500``, RFC 5321 4.5.3.1.6); a client idle for
    ``idle_timeout_seconds`` between commands is disconnected.
    """
    loop = asyncio.get_running_loop()
    kwargs = smtp_protocol_kwargs(
        handler,
        hostname=hostname,
        tls_context=tls_context,
        require_starttls=require_starttls,
        idle_timeout_seconds=idle_timeout_seconds,
    )
    try:
        return await loop.create_server(
            lambda: SpoolingSMTP(handler, loop=loop, **kwargs), host=host, port=port
        )
    except OSError as exc:
        raise OSError(
            exc.errno,
            f"cannot listen for SMTP on {host}:{port}: {exc.strerror}; "
            "check [smtp] listen (address in use, or a port below 1024 without privileges)",
        ) from exc


def create_smtp_controller(
    handler: SpoolingHandler,
    host: str,
    port: int,
    *,
    tls_context: ssl.SSLContext | None = None,
    require_starttls: bool = False,
    hostname: str | None = None,
    idle_timeout_seconds: float = DEFAULT_IDLE_TIMEOUT_SECONDS,
) -> Controller:
    """An aiosmtpd Controller (own thread and loop) for the handler; call ``start()``."""
    kwargs = smtp_protocol_kwargs(
        handler,
        hostname=hostname,
        tls_context=tls_context,
        require_starttls=require_starttls,
        idle_timeout_seconds=idle_timeout_seconds,
    )
    return _SpoolingController(
        handler, hostname=host, port=port, server_hostname=kwargs.pop("hostname"), **kwargs
    )


class _SpoolingController(Controller):
    """aiosmtpd's Controller serving the listener's protocol (``SpoolingSMTP``)."""

    def factory(self) -> SMTP:
        return SpoolingSMTP(self.handler, **self.SMTP_kwargs)
