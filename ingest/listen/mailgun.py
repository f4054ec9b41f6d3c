"""Mailgun inbound routes, raw MIME mode: a form post to a URL ending in ``mime`` with the
message in ``body-mime``, signed with the account's webhook signing key.

Verified as Mailgun documents it: ``signature`` is the hex HMAC-SHA256 of ``timestamp``
followed by ``token``, keyed with the signing key. A timestamp further than the replay window
from now is refused, and so is a token already used for a stored message; a token is only
spent once its message is in the spool, so the provider's retry after a storage fault (5xx)
is taken.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from ingest.listen.forms import FormError, parse_form
from ingest.listen.webhook import REPLAYED, UNAUTHORIZED, Delivery, Refusal
from store.clock import utcnow

__all__ = ["MailgunProvider", "SeenTokens", "signature_of"]

NOT_APPLICABLE = 406  # Mailgun does not retry a 406


def signature_of(signing_key: str, timestamp: str, token: str) -> str:
    """The hex HMAC-SHA256 Mailgun sends for ``timestamp`` and ``token``."""
    message = (timestamp + token).encode("utf-8")
    return hmac.new(signing_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


class SeenTokens:
    """Tokens of stored messages, each kept until its timestamp leaves the replay window
    (after that a request carrying it is refused for its age anyway), and tokens in flight."""

    def __init__(self) -> None:
        self._stored: dict[str, float] = {}  # token -> when it may be forgotten (epoch s)
        self._in_flight: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, token: str, forget_at: float, now: float) -> bool:
        """False when the token was used for a stored message or is being used right now."""
        with self._lock:
            for old in [t for t, until in self._stored.items() if until < now]:
                del self._stored[old]
            if token in self._stored or token in self._in_flight:
                return False
            self._in_flight[token] = forget_at
            return True

    def settle(self, token: str, *, stored: bool) -> None:
        """The request with this token is done: spent when its message was stored, else
        free again for the provider's retry."""
        with self._lock:
            forget_at = self._in_flight.pop(token, None)
            if stored and forget_at is not None:
                self._stored[token] = forget_at


class MailgunProvider:
    """Verifies Mailgun's signed form posts and takes ``body-mime`` out of them."""

    name = "mailgun"
    permanent_status = NOT_APPLICABLE

    def __init__(
        self,
        signing_key: str,
        replay_window_seconds: float,
        *,
        clock: Callable[[], datetime] = utcnow,
        seen: SeenTokens | None = None,
    ) -> None:
        if not signing_key:
            raise ValueError("the Mailgun webhook signing key is empty")
        self.signing_key = signing_key
        self.window = replay_window_seconds
        self.clock = clock
        self.seen = seen or SeenTokens()

    def open(self, headers: Mapping[str, str], body: bytes) -> Delivery | Refusal:
        try:
            fields = parse_form(headers.get("content-type", ""), body)
        except FormError as exc:
            return Refusal(UNAUTHORIZED, f"not a signed form post ({exc})")
        timestamp, token, signature = (
            fields.get(name, b"").decode("ascii", "replace").strip()
            for name in ("timestamp", "token", "signature")
        )
        if not (timestamp and token and signature):
            return Refusal(UNAUTHORIZED, "unsigned request (no timestamp, token or signature)")
        expected = signature_of(self.signing_key, timestamp, token)
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            return Refusal(UNAUTHORIZED, "bad signature")
        if not timestamp.isdigit():  # whole seconds since the epoch (never "nan" or "1e9")
            return Refusal(UNAUTHORIZED, "the signed timestamp is not a number of seconds")
        now = self.clock().timestamp()
        signed_at = float(timestamp)
        if abs(now - signed_at) > self.window:
            return Refusal(UNAUTHORIZED, "the signature is older than the replay window")
        raw = fields.get("body-mime")
        if not raw:
            return Refusal(NOT_APPLICABLE, "no body-mime field: the route's URL must end in 'mime'")
        if not self.seen.reserve(token, signed_at + self.window, now):
            return Refusal(REPLAYED, "token already used (replayed request)")
        rcpts = tuple(
            a.strip().lower()
            for a in fields.get("recipient", b"").decode("utf-8", "replace").split(",")
            if a.strip()
        )
        sender = fields.get("sender", b"").decode("utf-8", "replace").strip()
        return Delivery(raw=raw, mail_from=sender, rcpts=rcpts, token=token)

    def settle(self, delivery: Delivery, *, stored: bool) -> None:
        self.seen.settle(delivery.token, stored=stored)
