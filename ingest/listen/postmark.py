"""Postmark inbound webhooks: JSON with the raw message in ``RawEmail`` (the server's
"Include raw email content in JSON payload" setting), authenticated with basic auth from the
webhook URL. A body posted as ``message/rfc822`` is taken as the raw message itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ingest.listen.basic_auth import basic_auth_matches
from ingest.listen.webhook import UNAUTHORIZED, Delivery, Refusal

__all__ = ["PostmarkProvider"]

STOP_RETRYING = 403  # Postmark stops retrying on a 403


class PostmarkProvider:
    """Checks the credentials and takes ``RawEmail`` (and ``OriginalRecipient``) out."""

    name = "postmark"
    permanent_status = STOP_RETRYING

    def __init__(self, username: str, password: str) -> None:
        if not username or not password:
            raise ValueError("the Postmark webhook's basic-auth username or password is empty")
        self.username = username
        self.password = password

    def open(self, headers: Mapping[str, str], body: bytes) -> Delivery | Refusal:
        if not basic_auth_matches(headers.get("authorization"), self.username, self.password):
            return Refusal(UNAUTHORIZED, "bad or missing credentials", challenge=True)
        kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind == "message/rfc822":
            return Delivery(raw=body, mail_from="", rcpts=())
        try:
            payload = json.loads(body)
        except ValueError:
            return Refusal(STOP_RETRYING, "not JSON")
        raw = payload.get("RawEmail") if isinstance(payload, dict) else None
        if not isinstance(raw, str) or not raw:
            return Refusal(
                STOP_RETRYING,
                "no RawEmail: turn on 'Include raw email content in JSON payload'",
            )
        recipient = payload.get("OriginalRecipient")
        rcpts = (recipient.strip().lower(),) if isinstance(recipient, str) and recipient else ()
        return Delivery(raw=raw.encode("utf-8", "replace"), mail_from="", rcpts=rcpts)

    def settle(self, delivery: Delivery, *, stored: bool) -> None:
        """Nothing to settle: basic auth has no one-time token."""
