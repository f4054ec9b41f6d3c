"""LMTP listener (RFC 2033): the SMTP listener's handler behind aiosmtpd's LMTP protocol.

An MTA in front of the desk (Postfix ``lmtp:unix:...``) hands mail over on a local socket or a
loopback port. Everything the SMTP listener promises holds here too, through the same handler
(``ingest.listen.smtp.SpoolingHandler``): recipients other than the support addresses get
``550``, the size limit is announced (LHLO SIZE) and enforced at DATA (``552``), and ``250``
is answered only once the message is fsynced in the spool, ``451`` on a storage fault. As LMTP
demands, the end of DATA gets one reply per accepted recipient, in RCPT order; the message is
stored once for all of them (one spool entry naming every recipient), so each gets the same
reply.

``listen`` is ``"unix:/path/to/lmtp.sock"`` or ``"host:port"`` (`parse_listen`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import Envelope, Session

from ingest.listen.smtp import DEFAULT_IDLE_TIMEOUT_SECONDS, SpoolingHandler, smtp_protocol_kwargs
from ingest.listen.smtp_protocol import SpoolingSMTP

log = logging.getLogger(__name__)

LMTP_SOURCE = "lmtp"
DEFAULT_SOCKET_MODE = 0o660  # the MTA's user reaches it through the socket's group


@dataclass(frozen=True, slots=True)
class LmtpAddress:
    """Where the LMTP listener listens: a unix socket path, or a TCP host and port."""

    socket_path: Path | None = None
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        return f"unix:{self.socket_path}" if self.socket_path else f"{self.host}:{self.port}"


def parse_listen(value: str) -> LmtpAddress:
    """``"unix:/run/postdesk/lmtp.sock"`` or ``"127.0.0.1:24"``; ValueError naming the forms."""
    text = value.strip()
    if text.startswith("unix:"):
        path = text.removeprefix("unix:")
        if not path.startswith("/"):
            raise ValueError(f'expected "unix:/absolute/path.sock", got "{value}"')
        return LmtpAddress(socket_path=Path(path))
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f'expected "unix:/path.sock" or "host:port", got "{value}"')
    return LmtpAddress(host=host, port=int(port))


class SpoolingLMTP(SpoolingSMTP, LMTP):
    """The listener's protocol speaking LMTP: LHLO instead of HELO/EHLO, and a DATA refused
    as a whole (too big, a line too long) answered once per recipient."""

    async def push_data_reply(self, status: str) -> None:
        count = len(self.envelope.rcpt_tos) if self.envelope is not None else 1
        for _ in range(max(1, count)):
            await self.push(status)


class LmtpHandler(SpoolingHandler):
    """`SpoolingHandler` whose DATA reply is repeated for each recipient (LMTP)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("source", LMTP_SOURCE)
        super().__init__(*args, **kwargs)

    async def handle_DATA(self, server: SMTPProtocol, session: Session, envelope: Envelope) -> str:
        """Spool once; the same status line (250 after the fsync, else 451 or 552) for every
        accepted recipient."""
        status = await super().handle_DATA(server, session, envelope)
        return "\r\n".join([status] * max(1, len(envelope.rcpt_tos)))


async def start_lmtp_server(
    handler: SpoolingHandler,
    address: LmtpAddress,
    *,
    hostname: str | None = None,
    socket_mode: int = DEFAULT_SOCKET_MODE,
    idle_timeout_seconds: float = DEFAULT_IDLE_TIMEOUT_SECONDS,
) -> asyncio.Server:
    """Listen in the running loop; close the returned server (and `remove_socket`) to stop.

    A unix socket left behind by an earlier run is replaced (never any other kind of file);
    the new one gets ``socket_mode``.
    """
    loop = asyncio.get_running_loop()
    kwargs = smtp_protocol_kwargs(
        handler,
        hostname=hostname,
        tls_context=None,
        require_starttls=False,
        idle_timeout_seconds=idle_timeout_seconds,
    )

    def factory() -> SpoolingLMTP:
        return SpoolingLMTP(handler, loop=loop, **kwargs)

    try:
        if address.socket_path is not None:
            _remove_stale_socket(address.socket_path)
            server = await loop.create_unix_server(factory, path=str(address.socket_path))
            os.chmod(address.socket_path, socket_mode)
            return server
        return await loop.create_server(factory, host=address.host, port=address.port)
    except OSError as exc:
        raise OSError(
            exc.errno,
            f"cannot listen for LMTP on {address}: {exc.strerror}; check [lmtp] listen "
            "(the socket's folder must exist and be writable; a port may be in use)",
        ) from exc


def _remove_stale_socket(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise OSError(17, f"{path} exists and is not a socket")  # EEXIST
    path.unlink()


def remove_socket(address: LmtpAddress) -> None:
    """Remove the listener's unix socket file after the server closed (nothing for TCP)."""
    if address.socket_path is not None:
        with contextlib.suppress(FileNotFoundError):
            _remove_stale_socket(address.socket_path)
