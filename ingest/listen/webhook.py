"""What the provider webhooks share: the endpoint's settings, what a verified request yields
(`Delivery`) or why it is refused (`Refusal`), and the `Provider` each verifier implements.

A provider module (``mailgun``, ``postmark``, ``sendgrid``) turns a request's headers and body
into one of the two; ``ingest.listen.providers`` serves them, spools the delivery and answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Delivery", "InboundEndpoint", "Provider", "Refusal"]

UNAUTHORIZED = 401  # bad signature or credentials: the provider is told, nothing is kept
REPLAYED = 403  # a signed request seen before


@dataclass(frozen=True, slots=True)
class InboundEndpoint:
    """One provider webhook: which provider, the URL path, its secrets (from the
    environment), the recipients it may deliver for (empty: any) and the replay window."""

    provider: str
    path: str
    signing_key: str = field(default="", repr=False)
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    allowed_recipients: tuple[str, ...] = ()
    replay_window_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """A verified request's message: the raw bytes as the provider received them, the
    envelope it names, and the one-time token to settle once it is stored (Mailgun)."""

    raw: bytes = field(repr=False)
    mail_from: str
    rcpts: tuple[str, ...]
    token: str = ""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request not taken: the HTTP status and a reason safe to log and to answer."""

    status: int
    reason: str
    challenge: bool = False  # answer with WWW-Authenticate (basic auth)


class Provider(Protocol):
    """A provider's verification and payload format."""

    name: str
    # The status that tells the provider not to retry a request that can never succeed
    # (a payload without the raw message, a recipient not allowed, a message too big).
    permanent_status: int

    def open(self, headers: Mapping[str, str], body: bytes) -> Delivery | Refusal:
        """Verify the request and take the message out of it."""
        ...

    def settle(self, delivery: Delivery, *, stored: bool) -> None:
        """The delivery was stored (or not: the provider will retry it)."""
        ...
