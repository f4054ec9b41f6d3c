"""Transports: hand a finished message to an SMTP relay, or write it to a file.

A transport is anything with `send(mail) -> Delivery`. The outcome is "sent" (the relay
answered 250 / the file is in place), "transient" (4xx, connection or TLS trouble, auth
refused: retry later) or "permanent" (5xx for the recipient or the message: the row is dead).
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from notify.message import OutgoingMail
from notify.options import SmtpRelayOptions

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


def _reply(code: int, text: bytes | str) -> Delivery:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    detail = f"{code} {' '.join(message.split())}"[:500]
    return Delivery("permanent" if 500 <= code < 600 else "transient", detail)


class SmtpTransport:
    """Deliver through an SMTP relay (optional STARTTLS and AUTH), one connection per mail."""

    def __init__(
        self, options: SmtpRelayOptions, *, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self.options = options
        self.tls_context = tls_context

    def send(self, mail: OutgoingMail) -> Delivery:
        """Hand `mail` to the relay and classify its answer."""
        opts = self.options
        try:
            with smtplib.SMTP(
                opts.host,
                opts.port,
                timeout=opts.timeout_seconds,
                local_hostname=opts.local_hostname,
            ) as client:
                client.ehlo()
                if opts.starttls:
                    client.starttls(context=self.tls_context or ssl.create_default_context())
                    client.ehlo()
                if opts.username:
                    client.login(opts.username, opts.password)
                refused = client.sendmail(mail.envelope_from, list(mail.recipients), mail.data)
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
            return Delivery(
                "transient",
                f"relay {opts.host}:{opts.port} unreachable: {type(exc).__name__}: {exc}"[:500],
            )
        if mail.recipients[0] in refused:
            code, text = refused[mail.recipients[0]]
            return _reply(code, text)
        note = f" (refused: {', '.join(sorted(refused))})" if refused else ""
        return Delivery("sent", f"250 accepted by {opts.host}:{opts.port}{note}")


class FileTransport:
    """Write `<directory>/<row id>.eml` atomically, recipients in `X-Envelope-To`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, mail: OutgoingMail) -> Delivery:
        """Write the message file (tmp, fsync, rename); an OS error is transient."""
        target = self.directory / f"{mail.row_id}.eml"
        header = f"X-Envelope-To: {', '.join(mail.recipients)}\r\n".encode()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{mail.row_id}.", suffix=".tmp", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(header + mail.data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            return Delivery("transient", f"cannot write {target}: {exc.strerror or exc}")
        return Delivery("sent", f"written to {target}")
