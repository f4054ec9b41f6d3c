"""Webhook deliveries: POST an outbox row of kind `webhook` to its endpoint, signed.

The row (queued by `store.webhooks.emit`) names its webhook (`webhook:NAME`) and holds the
event id and the JSON payload; the endpoint's URL, secret and format come from the
configuration at delivery time (`WebhookEndpoint`), so a rotated secret signs the next try.

Format `standard` follows the Standard Webhooks specification: the body is the payload as
compact JSON (the same bytes on every try), with the headers `webhook-id` (the event id,
stable across retries: receivers dedupe on it), `webhook-timestamp` (unix seconds of this
try, from the real clock: the receiver compares it with its own) and `webhook-signature`,
`v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}` keyed with the secret's
base64-decoded part after `whsec_`. Format `slack` posts `{"text": ...}` to a Slack (or
Mattermost, Rocket.Chat) incoming-webhook URL, unsigned (`notify.slack`).

A 2xx answer is delivered; any other status, a redirect, a timeout or a connection error is
transient (the outbox retries with backoff, and the row is dead after the attempt limit);
a row whose webhook is no longer configured is dead at once. Redirects are not followed.
A user and password in the URL are sent as HTTP basic authentication. A delivery's detail
names the host and the status, never the URL's path or user (a Slack URL is a secret), the
body or the secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.client
import json
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from notify.slack import slack_text
from notify.transport import Delivery
from store.clock import utcnow
from store.outbox import ClaimedMail
from store.webhooks import RECIPIENT_PREFIX

__all__ = ["SECRET_PREFIX", "WebhookEndpoint", "WebhookSender", "secret_bytes", "signature"]

SECRET_PREFIX = "whsec_"  # noqa: S105 (the specification's marker, not a secret)
USER_AGENT = "postdesk-webhooks/1"
MAX_ANSWER_BYTES = 64 * 1024  # read (and ignore) at most this much of a receiver's answer
# After an endpoint could not be reached, its other rows wait this long before one connects
# again (each counts a failed attempt): a blackholed host costs one timeout, not one per row,
# and the mail claimed in the same batch is not held up behind it.
UNREACHABLE_PAUSE = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """Where and how one configured webhook is delivered ([[webhooks]])."""

    name: str
    url: str = field(repr=False)  # may itself be a secret (a Slack incoming-webhook URL)
    format: str = "standard"  # "standard" | "slack"
    secret: str = field(default="", repr=False)  # "whsec_" + base64, for "standard"


def secret_bytes(secret: str) -> bytes:
    """The HMAC key of a `whsec_...` secret: the base64-decoded part after the prefix.

    Raises ValueError when it is not base64 or is empty."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: `v1,` + base64(HMAC-SHA256(key, id.timestamp.body))."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def body_of(payload: dict[str, Any]) -> bytes:
    """The payload as sent: compact JSON with sorted keys, UTF-8 (stable across tries)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


class WebhookSender:
    """Delivers `webhook` outbox rows to the configured endpoints over HTTP(S)."""

    def __init__(
        self,
        endpoints: Iterable[WebhookEndpoint],
        *,
        timeout_seconds: float = 10.0,
        clock: Callable[[], datetime] = utcnow,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.endpoints = {e.name.lower(): e for e in endpoints}
        self.timeout_seconds = timeout_seconds
        self.clock = clock  # signs `webhook-timestamp`: the real clock, as receivers check it
        self.tls_context = tls_context  # default: the system's CAs (made at the first HTTPS POST)
        self._unreachable: dict[str, tuple[datetime, str]] = {}  # name -> (until, detail)

    def deliver(self, row: ClaimedMail, now: datetime) -> Delivery:
        """POST one row; never raises for delivery problems. `now` is the worker's instant
        (it times the pause after an unreachable endpoint); the signature's timestamp comes
        from `clock`."""
        name = row.recipient.removeprefix(RECIPIENT_PREFIX)
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            return Delivery(
                "permanent", f"webhook {name!r} is not configured (no [[webhooks]] named so)"
            )
        payload = row.context.get("payload")
        event_id = str(row.context.get("event_id") or row.message_id or "")
        if not isinstance(payload, dict) or not event_id:
            return Delivery("permanent", "the outbox row holds no webhook payload")
        paused = self._unreachable.get(name)
        if paused is not None and now < paused[0]:
            return Delivery("transient", f"not tried: {paused[1]} (moments ago)")
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if endpoint.format == "slack":
            body = body_of({"text": slack_text(payload)})
        else:
            body = body_of(payload)
            timestamp = int(self.clock().timestamp())
            try:
                signed = signature(endpoint.secret, event_id, timestamp, body)
            except ValueError as exc:
                return Delivery("permanent", f"webhook {name!r}: {exc}")
            headers |= {
                "webhook-id": event_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signed,
            }
        return self._post(endpoint, body, headers, now)

    def _post(
        self, endpoint: WebhookEndpoint, body: bytes, headers: dict[str, str], now: datetime
    ) -> Delivery:
        parts = urlsplit(endpoint.url)
        host = parts.hostname or ""
        where = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if parts.username is not None:  # https://user:password@host/...: HTTP basic auth
            login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            headers = headers | {
                "Authorization": "Basic " + base64.b64encode(login.encode()).decode()
            }
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            if self.tls_context is None:
                self.tls_context = ssl.create_default_context()
            connection = http.client.HTTPSConnection(
                host, parts.port, timeout=self.timeout_seconds, context=self.tls_context
            )
        else:
            connection = http.client.HTTPConnection(host, parts.port, timeout=self.timeout_seconds)
        try:
            connection.request("POST", path, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read(MAX_ANSWER_BYTES)
        except (OSError, http.client.HTTPException) as exc:
            detail = f"{where} unreachable: {type(exc).__name__}: {exc}"[:400]
            self._unreachable[endpoint.name.lower()] = (now + UNREACHABLE_PAUSE, detail)
            return Delivery("transient", detail)
        finally:
            connection.close()
        self._unreachable.pop(endpoint.name.lower(), None)
        detail = f"{where} answered {answer.status} {answer.reason}"[:500]
        return Delivery("sent" if 200 <= answer.status < 300 else "transient", detail)

    def close(self) -> None:
        """Nothing is held between deliveries (one connection per POST)."""
