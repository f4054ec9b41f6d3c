"""Raw mail bytes to a `ParsedMessage`: the only module that imports mail-parser.

The bytes are parsed as bytes (stdlib compat32 `BytesParser`, exactly what
`mailparser.parse_from_bytes` does), so nothing is decoded lossily before parsing; ordinary
well-formed mail takes `ingest.parse.fast`, which builds the same tree four times faster.
mail-parser then reads the parts it is good at: hard address headers
(`mailparser.utils.get_addresses`, with its recovery diagnostics) and Date
(`mailparser.dates.parse_mail_date`).

We deliberately do not build a `mailparser.MailParser` object. Its constructor eagerly
parses every Received header, decodes every header twice into dicts and walks every part
(about 1.1 ms for a 6 KB text+HTML mail, four times the MIME parse itself), and its body
handling is not what a help desk needs: undecodable text falls back to UTF-8 with
replacement only, attachments come back re-encoded as base64 strings, forwarded mails
are flattened. Body, charset and RFC 2047 handling live in `ingest.parse.body`,
`ingest.parse.decode` and `ingest.parse.html`.
"""

from __future__ import annotations

import email.errors
import email.parser
import email.policy
import email.utils
import re
from datetime import UTC, datetime
from email.message import Message

from mailparser.dates import parse_mail_date

from ingest.errors import PermanentIngestError
from ingest.model import ParsedAttachment, ParsedMessage
from ingest.parse import boundary as parse_boundary
from ingest.parse.addresses import MAX_ADDRESSES, addresses, best_sender
from ingest.parse.body import BodyReader, charset_label
from ingest.parse.charsets import resolve_charset
from ingest.parse.decode import header_text, text_from_surrogates
from ingest.parse.fast import parse_bytes

__all__ = ["MAX_ADDRESSES", "UnparseableMessage", "normalise_message_id", "parse_message"]


class UnparseableMessage(PermanentIngestError):
    """Permanent: the bytes hold nothing usable (no sender and no text), or are not a mail.

    The message says why, never the content. The pipeline quarantines such input.
    """


parse_boundary.install()  # a regex compile per multipart boundary was a third of parsing
_PARSER = email.parser.BytesParser(policy=email.policy.compat32)
_HEADERS_ONLY = email.parser.BytesParser(policy=email.policy.compat32)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADER_LINE = re.compile(rb"[!-9;-~]+:|From ")
_FIELD_AFTER_BANNER = re.compile(rb"[A-Za-z][A-Za-z0-9-]*:[ \t]")
_BANNER_LINES = 5
_ANGLE_ID = re.compile(r"<([^<>]*)>")
_COMMENT = re.compile(r"\([^()]*\)")


def normalise_message_id(value: str | None) -> str | None:
    """`<local@domain>` with whitespace and comments removed and the domain lowercased.

    A bare id without angle brackets is accepted; None when nothing is left.
    """
    if not value:
        return None
    text = _COMMENT.sub("", value) if "(" in value else value
    match = _ANGLE_ID.search(text)
    token = match.group(1) if match else text.strip().split(None, 1)[0] if text.strip() else ""
    token = "".join(token.split())
    if not token:
        return None
    local, at, domain = token.rpartition("@")
    return f"<{local}@{domain.lower()}>" if at else f"<{token}>"


def parse_message(raw: bytes, *, max_addresses: int = MAX_ADDRESSES) -> ParsedMessage:
    """Parse raw RFC 5322 bytes; raises `UnparseableMessage` when nothing is usable.

    `max_addresses` caps the mailboxes kept per address header (the rest is noted).
    """
    if raw.startswith(_OLE_MAGIC):
        raise UnparseableMessage(
            "an Outlook .msg file (OLE compound document), not an RFC 5322 mail; "
            "have it forwarded as a normal mail or saved as .eml"
        )
    if not raw.strip():
        raise UnparseableMessage("empty input: no headers and no body")
    defects: list[str] = []
    raw = _without_banner(raw, defects)
    try:
        message = parse_bytes(raw) or _PARSER.parsebytes(raw)
    except RecursionError:
        message = _HEADERS_ONLY.parsebytes(raw, headersonly=True)
        message.set_payload("")
        defects.append("MIME: parts nested too deeply; body not read")
    if not message.keys() and b"\x00" in raw[:4096]:
        raise UnparseableMessage("binary data, not an RFC 5322 mail (no headers)")
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        headers.setdefault(name.lower(), []).append(str(value))

    def first(name: str) -> str | None:
        values = headers.get(name)
        return values[0] if values else None

    hint = None if raw.isascii() else _declared_charset(message, defects)
    subject, notes = header_text(first("subject") or "", hint)
    defects.extend(f"Subject: {note}" for note in notes)
    found = {
        name: addresses(headers.get(name, []), name, defects, hint, max_addresses)
        for name in ("from", "to", "cc", "reply-to")
    }
    sender, sender_header = best_sender(found, headers, defects, hint)
    attachments: list[ParsedAttachment] = []
    body = BodyReader(attachments, defects, hint)
    body.read(message)
    text = body.text()
    if sender is None and not text.strip():
        raise UnparseableMessage(_unusable_reason(message))
    return ParsedMessage(
        message_id=normalise_message_id(text_from_surrogates(first("message-id") or "")[0]),
        subject=subject,
        sender=sender,
        to=found["to"],
        cc=found["cc"],
        reply_to=found["reply-to"],
        delivered_to=_delivered_to(headers),
        in_reply_to=_in_reply_to(first("in-reply-to")),
        references=_references(headers.get("references", [])),
        date=_date(first("date"), defects),
        text=text,
        html=body.html(),
        attachments=tuple(attachments),
        defects=tuple(dict.fromkeys(defects)),
        authentication_results=tuple(
            " ".join(header_text(v)[0].split()) for v in headers.get("authentication-results", [])
        ),
        message=message,
        sender_header=sender_header,
        content_language=(first("content-language") or "").strip()[:100] or None,
    )


def _unusable_reason(message: Message) -> str:
    if not message.keys():
        return "no headers and no readable text"
    return "no readable sender (From, Sender, Reply-To, Return-Path) and no text"


def _without_banner(raw: bytes, defects: list[str]) -> bytes:
    """`raw` without stray lines before the header block (`>From ...`, a line without a
    colon) when header lines follow them; an mbox "From " line first is kept for the parser."""
    if raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark from a text editor
        raw = raw[3:]
    start = 0
    if raw.startswith(b"From "):
        start = raw.find(b"\n") + 1
        if start == 0:
            return raw
    if _HEADER_LINE.match(raw, start):
        return raw
    pos = start
    for _ in range(_BANNER_LINES):
        end = raw.find(b"\n", pos)
        if end < 0 or not raw[pos:end].strip() or raw[pos : pos + 1] in (b" ", b"\t"):
            return raw
        pos = end + 1
        if _FIELD_AFTER_BANNER.match(raw, pos):
            defects.append("Headers: stray line before the header block skipped")
            return raw[:start] + raw[pos:]
    return raw


def _declared_charset(message: Message, defects: list[str]) -> str | None:
    """The first charset a text part declares (legacy clients wrote 8-bit headers in it).

    Labels the stdlib's `get_payload()` would raise on are neutralised on the way, so the
    classifier can read the tree too (`ingest.parse.body.charset_label`).
    """
    found: str | None = None
    for part in message.walk():
        if part.is_multipart():
            continue
        label = charset_label(part, defects)
        if found is None and label and resolve_charset(label) not in (None, "utf-8"):
            found = label
    return found


def _delivered_to(headers: dict[str, list[str]]) -> tuple[str, ...]:
    found: list[str] = []
    for name in ("delivered-to", "x-original-to"):
        for value in headers.get(name, []):
            for _, mailbox in email.utils.getaddresses([text_from_surrogates(value)[0]]):
                addr = mailbox.strip().lower()
                if "@" in addr and addr not in found:
                    found.append(addr)
    return tuple(found)


def _in_reply_to(value: str | None) -> str | None:
    if value is None:
        return None
    text = text_from_surrogates(value)[0]
    ids = _ANGLE_ID.findall(_COMMENT.sub("", text))
    return normalise_message_id(f"<{ids[0]}>" if ids else text)


def _references(values: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        text = _COMMENT.sub("", text_from_surrogates(value)[0])
        tokens = _ANGLE_ID.findall(text) or [t for t in text.split() if "@" in t]
        for token in tokens:
            normalised = normalise_message_id(f"<{token}>")
            if normalised and normalised not in out:
                out.append(normalised)
    return tuple(out)


def _date(value: str | None, defects: list[str]) -> datetime | None:
    if value is None:
        return None
    text = text_from_surrogates(value)[0]
    result = parse_mail_date(text)
    if isinstance(result.value, datetime):
        return result.value.astimezone(UTC)
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError, email.errors.MessageError):
        parsed = None
    if parsed is None:
        defects.append("Date: unreadable")
        return None
    defects.append("Date: not RFC 5322, read leniently")
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
