"""Transports: hand a finished message to an SMTP relay, or write it to a file.

A transport is anything with `send(mail) -> Delivery` and `close()`. The outcome is "sent"
(the relay answered 250 / the file is in place), "transient" (4xx, connection or TLS trouble,
auth refused: retry later) or "permanent" (5xx for the recipient or the message, an address
the relay cannot be given: the row is dead). `close()` lets go of a connection a transport
holds between mails; the next `send` opens a new one.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from notify.message import OutgoingMail
from notify.options import SmtpRelayOptions
from store.durable import fsync_directory

Outcome = Literal["sent", "transient", "permanent"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one hand-over; `detail` is the server's answer (never the body)."""

    outcome: Outcome
    detail: str


class Transport(Protocol):
    """Something that delivers an `OutgoingMail`."""

    def send(self, mail: OutgoingMail) -> Delivery:
        """Deliver the mail; never raises for delivery problems."""
        ...

    def close(self) -> None:
        """Let go of whatever is held between mails (a relay connection)."""
        ...


def _reply(code: int, text: bytes | str) -> Delivery:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    detail = f"{code} {' '.join(message.split())}"[:500]
    return Delivery("permanent" if 500 <= code < 600 else "transient", detail)


class _RelayClient(smtplib.SMTP):
    """`smtplib.SMTP` noting whether the current mail's DATA began: a connection lost before
    that point took nothing, so the mail may go again at once over a new connection."""

    data_began = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_began = True
        return super().data(msg)


class _RelayTlsClient(smtplib.SMTP_SSL, _RelayClient):
    """`_RelayClient` over implicit TLS (SMTPS: TLS from the first byte, usually port 465)."""


class SmtpTransport:
    """Deliver through an SMTP relay (optional STARTTLS or implicit TLS, and AUTH), one
    connection for many mails.

    The connection opened for a mail stays open for the next ones until `close()` (the worker
    closes it once no mail has gone out for a while). After a refused transaction smtplib
    resets it (RSET) and it carries the next mail. When the relay has dropped a reused
    connection, or closes it (421), before the mail's DATA began, nothing was taken: the mail
    goes again at once over a new connection. A connection lost later than that makes the
    attempt transient like any other: the row is retried after its backoff and may then reach
    its recipients twice (at least once; the Message-ID is the same, so it is recognisable).
    Not thread-safe: one transport per worker.
    """

    def __init__(
        self, options: SmtpRelayOptions, *, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self.options = options
        self.tls_context = tls_context
        self._client: _RelayClient | None = None

    def send(self, mail: OutgoingMail) -> Delivery:
        """Hand `mail` to the relay and classify its answer."""
        opts = self.options
        reused = self._client is not None
        try:
            try:
                refused = self._hand_over(mail)
            except (smtplib.SMTPException, OSError) as exc:
                if not (reused and self._nothing_taken(exc)):
                    raise
                self._drop()  # the relay closed the idle connection: open a new one, once
                refused = self._hand_over(mail)
        except smtplib.SMTPAuthenticationError as exc:
            detail = _reply(exc.smtp_code, exc.smtp_error).detail
            return Delivery(
                "transient",
                f"relay refused our login ({detail}); check [outbound] username/password",
            )
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            code, text = exc.recipients.get(mail.recipients[0], next(iter(exc.recipients.values())))
            if any(400 <= c < 500 for c in codes):
                return Delivery("transient", _reply(code, text).detail)
            return _reply(code, text)
        except smtplib.SMTPResponseException as exc:
            return _reply(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return Delivery(
                "transient",
                f"relay {opts.host}:{opts.port} unreachable: {type(exc).__name__}: {exc}"[:500],
            )
        except UnicodeEncodeError:  # smtplib speaks ASCII only (no SMTPUTF8)
            self._drop()
            return Delivery(
                "permanent", "an envelope address is not ASCII; the relay cannot take it"
            )
        finally:
            if self._client is not None and self._client.sock is None:
                self._client = None  # smtplib closed it (421, lost connection)
        if mail.recipients[0] in refused:
            code, text = refused[mail.recipients[0]]
            return _reply(code, text)
        note = f" (refused: {', '.join(sorted(refused))})" if refused else ""
        return Delivery("sent", f"250 accepted by {opts.host}:{opts.port}{note}")

    def close(self) -> None:
        """Say QUIT and close the held connection, if any."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

    def _hand_over(self, mail: OutgoingMail) -> dict[str, tuple[int, bytes]]:
        """MAIL, RCPT for each recipient and DATA over the held (or a new) connection; the
        recipients the relay refused while accepting the mail for the others."""
        client = self._client or self._connect()
        client.data_began = False
        return client.sendmail(mail.envelope_from, list(mail.recipients), mail.data)

    def _connect(self) -> _RelayClient:
        opts = self.options
        client: _RelayClient
        if opts.implicit_tls:
            client = _RelayTlsClient(
                opts.host,
                opts.port,
                timeout=opts.timeout_seconds,
                local_hostname=opts.local_hostname,
                context=self.tls_context or ssl.create_default_context(),
            )
        else:
            client = _RelayClient(
                opts.host,
                opts.port,
                timeout=opts.timeout_seconds,
                local_hostname=opts.local_hostname,
            )
        try:
            client.ehlo()
            if opts.starttls:
                client.starttls(context=self.tls_context or ssl.create_default_context())
                client.ehlo()
            if opts.username:
                client.login(opts.username, opts.password)
        except BaseException:
            client.close()
            raise
        self._client = client
        return client

    def _nothing_taken(self, exc: smtplib.SMTPException | OSError) -> bool:
        """Whether `exc` on the reused connection means the relay had closed it, or was closing
        it, before the mail's DATA began (so nothing was taken)."""
        client = self._client
        if client is None or client.data_began:
            return False
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            return any(code == 421 for code, _ in exc.recipients.values())
        if isinstance(exc, smtplib.SMTPResponseException):
            return exc.smtp_code == 421
        return isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError)

    def _drop(self) -> None:
        """Close the held connection without a QUIT (it failed, or is no longer wanted)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()


class FileTransport:
    """Write `<directory>/<row id>.eml` atomically, recipients in `X-Envelope-To`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._folder = os.fspath(directory)  # str paths: no pathlib work for every mail

    def send(self, mail: OutgoingMail) -> Delivery:
        """Write the message file (tmp, fsync, rename, fsync the folder); an OS error is
        transient."""
        target = os.path.join(self._folder, f"{mail.row_id}.eml")
        header = f"X-Envelope-To: {', '.join(mail.recipients)}\r\n".encode()
        try:
            fd, tmp = self._create_temporary(mail.row_id)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(header + mail.data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
                fsync_directory(self._folder)  # the rename too survives a crash once "sent"
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            return Delivery("transient", f"cannot write {target}: {exc.strerror or exc}")
        return Delivery("sent", f"written to {target}")

    def _create_temporary(self, row_id: int) -> tuple[int, str]:
        """A new temporary file beside the target (mkstemp), creating the directory first
        when it is missing: it is created once, not checked with a mkdir for every mail."""
        try:
            return tempfile.mkstemp(prefix=f".{row_id}.", suffix=".tmp", dir=self._folder)
        except FileNotFoundError:
            os.makedirs(self._folder, exist_ok=True)
            return tempfile.mkstemp(prefix=f".{row_id}.", suffix=".tmp", dir=self._folder)

    def close(self) -> None:
        """Nothing is held between files."""
