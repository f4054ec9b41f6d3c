"""Read what a bounce says: failed recipients and the returned original's Message-ID.

Standard reports (RFC 3464 message/delivery-status) are read field by field; non-standard
bounces (qmail, old Sendmail, Exchange, Japanese providers) are read best-effort from the
notice text, cut before the copy of the returned original. Nothing here decides whether a
message is a bounce; `classify_bounce` does that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from ingest.classify.mime import (
    attached_messages,
    content_type,
    first_message_id,
    header_text,
    headers_from_text,
    own_parts,
    part_text,
)

MAX_RECIPIENTS = 50
"""Most bounced recipients reported for one message."""

_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]{0,60})\s*:\s*(.*)$")
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.){1,8}[A-Za-z]{2,24}"
)
_ORIGINAL_STARTS = re.compile(
    r"^(?:"
    r"[-=_*>\s]*(?:this\s+is\s+a\s+copy\s+of|below\s+this\s+line\s+is\s+a\s+copy"
    r"|(?:a\s+)?copy\s+of\s+(?:the\s+|your\s+)?(?:original|returned|message)"
    r"|undelivered\s+message|returned\s+message|message\s+text\s+follows"
    r"|unsent\s+message\s+below|original\s+message\s+(?:follows|headers|is\s+attached)"
    r"|original\s+headers|(?:the\s+)?headers?\s+of\s+the\s+(?:original|returned)"
    r"|your\s+message\s+reads|content-type:\s*message/rfc822)"
    r"|[-=_]{3,}\s*(?:original|forwarded|returned)\s+message"
    r"|(?:received|return-path|dkim-signature|message-id|mime-version|x-mailer"
    r"|authentication-results|x-originating-ip|delivered-to):"
    r")",
    re.IGNORECASE | re.MULTILINE,
)
_SENDER_LINE = re.compile(
    r"^\s*(?:>+\s*)?(?:mail\s+from|from|sender|reply-to|return-path|envelope-from"
    r"|x-postfix-sender|x-sender)\s*:|message-id|in-reply-to|references\s*:",
    re.IGNORECASE,
)
_NON_RECIPIENT_LOCAL = re.compile(
    r"^(?:mailer-?daemon|mail-daemon|postmaster|post_master|no-?reply|abuse|root|"
    r"bounces?|double-bounce)(?:[+=.].*)?$",
    re.IGNORECASE,
)
_MESSAGE_ID_LINE = re.compile(r"^\s*Message-ID\s*:\s*(<[^<>\s]{1,500}>)", re.IGNORECASE | re.M)


@dataclass(frozen=True, slots=True)
class DsnRecipient:
    """One per-recipient block of a delivery-status report."""

    address: str
    action: str
    status: str

    @property
    def failed(self) -> bool:
        """True when delivery to this recipient failed for good."""
        if self.action:
            return self.action.startswith(("failed", "undeliverable"))
        return self.status[:1] in ("4", "5")

    @property
    def succeeded(self) -> bool:
        """True when the report says the mail was (or could be) delivered or passed on."""
        return self.action.startswith(("deliver", "relayed", "expanded"))


def delivery_status_text(part: Message) -> str:
    """The text of a message/delivery-status part (its header blocks joined back together)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks: list[str] = []
        for block in payload[: MAX_RECIPIENTS + 1]:
            if not isinstance(block, Message):
                continue
            blocks.append("\n".join(f"{name}: {value}" for name, value in _items(block)))
        return "\n\n".join(blocks)
    return part_text(part)


def _items(block: Message) -> list[tuple[str, str]]:
    try:
        return [(str(name), str(value)) for name, value in block.items()[:100]]
    except Exception:  # an unreadable header block adds nothing
        return []


def parse_delivery_status(text: str) -> list[DsnRecipient]:
    """Per-recipient records of a delivery-status text (RFC 3464 section 2.3)."""
    recipients: list[DsnRecipient] = []
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    for block in re.split(r"\n[ \t]*\n", normalised)[: MAX_RECIPIENTS * 2]:
        fields: dict[str, str] = {}
        for name, value in _unfolded_fields(block):
            if name in ("final-recipient", "original-recipient") and name in fields:
                _append_recipient(recipients, fields)
                fields = {}
            fields.setdefault(name, value)
        _append_recipient(recipients, fields)
    return recipients[:MAX_RECIPIENTS]


def _unfolded_fields(block: str) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for line in block.split("\n")[:400]:
        if line[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
            continue
        match = _FIELD.match(line.strip())
        if match:
            fields.append((match.group(1).lower(), match.group(2).strip()))
    return fields


def _append_recipient(recipients: list[DsnRecipient], fields: dict[str, str]) -> None:
    address = _typed_address(fields.get("original-recipient", "")) or _typed_address(
        fields.get("final-recipient", "")
    )
    if not address and "final-recipient" not in fields:
        return
    recipients.append(
        DsnRecipient(
            address=address,
            action=fields.get("action", "").lower().strip(),
            status=fields.get("status", "").strip(),
        )
    )


def _typed_address(value: str) -> str:
    """`rfc822; user@example.com` -> `user@example.com` ("" when not an address)."""
    match = _ADDRESS.search(value.rsplit(";", 1)[-1]) or _ADDRESS.search(value)
    return match.group(0).lower() if match else ""


def recipients_from_text(text: str, exclude: frozenset[str]) -> list[str]:
    """Best-effort failed recipients from a non-standard bounce notice.

    Delivery-status fields quoted in the text (Final-Recipient, Action) win. Otherwise reads
    the notice up to the copy of the returned original, skipping sender lines ("From:",
    "MAIL FROM:", Message-ID lines), the addresses in `exclude` (the bounce's own From/To,
    our addresses) and mail-system addresses (MAILER-DAEMON, postmaster).
    """
    notice = notice_part_of(text)
    found = [
        r.address
        for r in parse_delivery_status(notice)
        if r.failed and r.address and r.address not in exclude
    ]
    if found:
        return list(dict.fromkeys(found))
    for line in notice.split("\n")[:2000]:
        if _SENDER_LINE.match(line):
            continue
        for match in _ADDRESS.finditer(line):
            address = match.group(0).lower().strip(".")
            local = address.split("@", 1)[0]
            if address in exclude or address in found or _NON_RECIPIENT_LOCAL.match(local):
                continue
            found.append(address)
            if len(found) >= MAX_RECIPIENTS:
                return found
    return found


def notice_part_of(text: str) -> str:
    """The bounce notice without the copy of the returned original that follows it."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    match = _ORIGINAL_STARTS.search(normalised)
    return normalised[: match.start()] if match else normalised


def addresses_in_header(value: str) -> list[str]:
    """Addresses in a header such as X-Failed-Recipients, lowercased."""
    return [m.group(0).lower() for m in _ADDRESS.finditer(value)][:MAX_RECIPIENTS]


def returned_message_id(message: Message) -> str | None:
    """Message-ID of the returned original, normalised to "<...>", or None.

    Looks in an attached message/rfc822, then a text/rfc822-headers part, then a copy of
    the original's headers quoted in a text part, then the bounce's own In-Reply-To.
    """
    for original in attached_messages(message):
        found = first_message_id(header_text(original, "Message-ID"))
        if found:
            return found
    text_parts: list[Message] = []
    for part in own_parts(message):
        kind = content_type(part)
        if kind == "text/rfc822-headers":
            headers = headers_from_text(part_text(part))
            found = first_message_id(header_text(headers, "Message-ID"))
            if found:
                return found
        elif kind.startswith(("text/", "multipart/")) and not part.is_multipart():
            text_parts.append(part)  # a multipart without usable boundaries reads as text
    for part in text_parts[:20]:
        quoted = _MESSAGE_ID_LINE.search(part_text(part))
        if quoted:
            return first_message_id(quoted.group(1))
    return first_message_id(header_text(message, "In-Reply-To"))
