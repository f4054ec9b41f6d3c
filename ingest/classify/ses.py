"""Amazon SES notifications delivered by e-mail (SNS topic subscriptions).

SES reports bounces, complaints and deliveries as a JSON document in a plain-text mail
from no-reply@sns.amazonaws.com. The document is read with patterns rather than a JSON
parser because SNS wraps long lines, which breaks the JSON, and may quote the SES document
inside its own JSON envelope. Only mail from Amazon's SNS
or SES senders is read this way: a customer pasting such a document stays a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SCAN_CHARS = 200_000
"""Most characters of the notification text that are scanned."""

_TYPE = re.compile(r'"notificationType"\s*:\s*"(Bounce|Complaint|Delivery)"')
_BOUNCED = re.compile(r'"bouncedRecipients"\s*:\s*\[(.*?)\]', re.DOTALL)
_ADDRESS = re.compile(r'"emailAddress"\s*:\s*"([^"\s]{1,320}@[^"\s]{1,255})"')
_SENDER_DOMAINS = ("@sns.amazonaws.com", "amazonses.com")


@dataclass(frozen=True, slots=True)
class SesNotification:
    """The type of an SES notification ("bounce", "complaint", "delivery") and failed recipients."""

    notification_type: str
    recipients: tuple[str, ...]


def ses_notification(text: str, senders: tuple[str, ...]) -> SesNotification | None:
    """The SES notification in `text` sent by one of `senders`, or None when it is not one."""
    if not any(sender.endswith(_SENDER_DOMAINS) for sender in senders):
        return None
    head = text[:MAX_SCAN_CHARS].lstrip()
    if not head.startswith("{"):
        return None
    head = head.replace('\\"', '"')  # the SNS envelope quotes the SES document as a string
    match = _TYPE.search(head, 0, 2000)
    if match is None:
        return None
    kind = match.group(1).lower()
    recipients: list[str] = []
    bounced = _BOUNCED.search(head) if kind == "bounce" else None
    if bounced:
        recipients = [m.group(1).lower() for m in _ADDRESS.finditer(bounced.group(1))]
    return SesNotification(kind, tuple(dict.fromkeys(recipients[:50])))
