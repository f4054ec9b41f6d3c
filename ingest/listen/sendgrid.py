"""SendGrid Inbound Parse with "POST the raw, full MIME message": a multipart form whose
``email`` field is the raw message and ``envelope`` the SMTP envelope as JSON,
authenticated with basic auth from the webhook URL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ingest.listen.basic_auth import basic_auth_matches
from ingest.listen.forms import FormError, parse_form
from ingest.listen.webhook import UNAUTHORIZED, Delivery, Refusal

__all__ = ["SendGridProvider"]

BAD_REQUEST = 400


class SendGridProvider:
    """Checks the credentials and takes ``email`` and ``envelope`` out of the form."""

    name = "sendgrid"
    permanent_status = BAD_REQUEST

    def __init__(self, username: str, password: str) -> None:
        if not username or not password:
            raise ValueError("the SendGrid webhook's basic-auth username or password is empty")
        self.username = username
        self.password = password

    def open(self, headers: Mapping[str, str], body: bytes) -> Delivery | Refusal:
        if not basic_auth_matches(headers.get("authorization"), self.username, self.password):
            return Refusal(UNAUTHORIZED, "bad or missing credentials", challenge=True)
        try:
            fields = parse_form(headers.get("content-type", ""), body)
        except FormError as exc:
            return Refusal(BAD_REQUEST, f"not a form post ({exc})")
        raw = fields.get("email")
        if not raw:
            return Refusal(BAD_REQUEST, "no email field: turn on 'POST the raw, full MIME message'")
        mail_from, rcpts = _envelope(fields.get("envelope", b""))
        return Delivery(raw=raw, mail_from=mail_from, rcpts=rcpts)

    def settle(self, delivery: Delivery, *, stored: bool) -> None:
        """Nothing to settle: basic auth has no one-time token."""


def _envelope(value: bytes) -> tuple[str, tuple[str, ...]]:
    """(MAIL FROM, RCPT TOs) of the ``envelope`` field; empty when it is absent or broken."""
    try:
        data = json.loads(value) if value else {}
    except ValueError:
        return "", ()
    if not isinstance(data, dict):
        return "", ()
    sender = data.get("from")
    to = data.get("to")
    rcpts = (
        tuple(a.strip().lower() for a in to if isinstance(a, str)) if isinstance(to, list) else ()
    )
    return (sender if isinstance(sender, str) else ""), rcpts
