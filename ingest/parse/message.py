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
from mailparser.utils import get_addresses

from ingest.errors import PermanentIngestError
from ingest.model import Address, ParsedAttachment, ParsedMessage
from ingest.parse import boundary as parse_boundary
from ingest.parse.body import BodyReader
from ingest.parse.decode import header_text, text_from_surrogates
from ingest.parse.fast import parse_bytes

__all__ = ["UnparseableMessage", "normalise_message_id", "parse_message"]


class UnparseableMessage(PermanentIngestError):
    """Permanent: the bytes hold nothing usable (no sender and no text), or are not a mail.

    The message says why, never the content. The pipeline quarantines such input.
    """


parse_boundary.install()  # a regex compile per multipart boundary was a third of parsing
_PARSER = email.parser.BytesParser(policy=email.policy.compat32)
_HEADERS_ONLY = email.parser.BytesParser(policy=email.policy.compat32)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ANGLE_ID = re.compile(r"<([^<>]*)>")
_COMMENT = re.compile(r"\([^()]*\)")
_NULL_PATH = re.compile(r"[^<>@]*<\s*>\s*")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
_SIMPLE_ADDR = rf"{_ATEXT}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_SIMPLE_MAILBOX = re.compile(
    rf"""[ \t]*(?:(?P<quoted>"(?:[^"\\\r\n]|\\[^\r\n])*")[ \t]*<(?P<a1>{_SIMPLE_ADDR})>
    |(?P<phrase>[^"<>@,;:()\[\]\\\r\n]*)<(?P<a2>{_SIMPLE_ADDR})>
    |(?P<a3>{_SIMPLE_ADDR}))[ \t]*(?:,|$)""",
    re.X,
)


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


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse raw RFC 5322 bytes; raises `UnparseableMessage` when nothing is usable."""
    if raw.startswith(_OLE_MAGIC):
        raise UnparseableMessage(
            "an Outlook .msg file (OLE compound document), not an RFC 5322 mail; "
            "have it forwarded as a normal mail or saved as .eml"
        )
    if not raw.strip():
        raise UnparseableMessage("empty input: no headers and no body")
    defects: list[str] = []
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

    subject, notes = header_text(first("subject") or "")
    defects.extend(f"Subject: {note}" for note in notes)
    addresses = {
        name: _addresses(headers.get(name, []), name, defects)
        for name in ("from", "to", "cc", "reply-to")
    }
    sender = _sender(addresses["from"], headers, defects)
    attachments: list[ParsedAttachment] = []
    body = BodyReader(attachments, defects)
    body.read(message)
    text = body.text()
    if sender is None and not text.strip():
        raise UnparseableMessage(_unusable_reason(message))
    return ParsedMessage(
        message_id=normalise_message_id(text_from_surrogates(first("message-id") or "")[0]),
        subject=subject,
        sender=sender,
        to=addresses["to"],
        cc=addresses["cc"],
        reply_to=addresses["reply-to"],
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
    )


def _unusable_reason(message: Message) -> str:
    if not message.keys():
        return "no headers and no readable text"
    return "no readable sender (From, Sender, Return-Path) and no text"


def _addresses(values: list[str], name: str, defects: list[str]) -> tuple[Address, ...]:
    """Mailboxes of every occurrence of one address header: names decoded, emails lowercased."""
    out: list[Address] = []
    for value in values:
        text, note = text_from_surrogates(value)
        if note:
            defects.append(f"{name}: {note}")
        text = " ".join(text.split())
        if _NULL_PATH.fullmatch(text):  # "MAILER-DAEMON <>": the null sender, not an error
            continue
        simple = _simple_mailboxes(text)
        if simple is not None:
            pairs = simple
        else:
            diagnostics: list[dict[str, object]] = []
            try:
                pairs = get_addresses(text, defects=diagnostics, decode_names=True)
            except Exception:  # third-party parser on hostile input: never let it stop us
                pairs = email.utils.getaddresses([text])
                defects.append(f"{name}: address list could not be parsed strictly")
            defects.extend(f"{name}: {d.get('reason')}" for d in diagnostics)
        for display, found in pairs:
            addr = found.strip().lower()
            if "@" in addr and not any(a.email == addr for a in out):
                out.append(Address(header_text(display)[0].strip('"').strip(), addr))
    return tuple(out)


def _simple_mailboxes(text: str) -> list[tuple[str, str]] | None:
    """Fast path for the common shapes (`a@b`, `Name <a@b>`, `"Name" <a@b>`); None otherwise."""
    pairs: list[tuple[str, str]] = []
    pos, end = 0, len(text)
    while pos < end:
        match = _SIMPLE_MAILBOX.match(text, pos)
        if match is None or match.end() == pos:
            return None
        quoted, phrase = match.group("quoted"), match.group("phrase")
        if quoted is not None:
            name = re.sub(r"\\(.)", r"\1", quoted[1:-1])
        else:
            name = (phrase or "").strip()
        pairs.append((name, match.group("a1") or match.group("a2") or match.group("a3")))
        pos = match.end()
    return pairs or None


def _sender(
    from_: tuple[Address, ...], headers: dict[str, list[str]], defects: list[str]
) -> Address | None:
    """The first From mailbox; when From is missing or unreadable, Sender, then Return-Path."""
    if from_:
        return from_[0]
    for fallback in ("sender", "return-path"):
        found = _addresses(headers.get(fallback, []), fallback, [])
        if found:
            defects.append(f"From: missing or unreadable; sender taken from {fallback.title()}")
            return found[0]
    return None


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
