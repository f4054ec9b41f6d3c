"""From a parsed mail to redacted content ready to store: the only road to the store.

Redaction happens here, before anything else looks at the text: the subject, the full text,
the HTML, the sender's display name, the parse notes, attachment file names and text-like
attachments (decoded by their byte order mark or charset first; a CSV or TSV column named
like a secret emptied whole). Quoted history is stripped from the redacted text.
Attachments are checked against the size limits and the blocked list; a PDF, archive or
Office file whose text holds a secret is withheld (`ingest.redact.documents`).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from ingest.model import ParsedAttachment, ParsedMessage
from ingest.parse.attached import EML_TYPE
from ingest.redact.attached import redact_attached_mail
from ingest.redact.csv_columns import is_table, redact_table
from ingest.redact.derived import NO_NAME, fold_spaces, visible_part
from ingest.redact.documents import is_document, scan_document, withheld_reason
from ingest.redact.headers import (
    redact_filename,
    redact_name,
    safe_message_id,
    safe_message_ids,
)
from ingest.redact.redactor import CREDENTIAL_KINDS, is_text_like, redact_html, redact_text
from ingest.redact.textfile import decode_text, encode_text, has_wide_bom
from store.redacted import RedactedText

_SCRIPT = re.compile(rb"<\s*script\b|javascript\s*:|\bon[a-z]+\s*=", re.IGNORECASE)
HTML_EXTENSIONS = ("htm", "html", "xhtml", "svg")


class AttachmentLimits(Protocol):
    """The configured limits on attachments (PipelineOptions and AnalysisOptions have them)."""

    @property
    def blocked_extensions(self) -> frozenset[str]: ...

    @property
    def max_attachment_bytes(self) -> int: ...

    @property
    def max_message_attachment_bytes(self) -> int: ...


@dataclass(frozen=True, slots=True)
class KeptAttachment:
    filename: RedactedText
    content_type: str
    payload: bytes  # redacted when text-like
    inline: bool
    content_id: str | None


@dataclass(frozen=True, slots=True)
class DroppedAttachment:
    filename: RedactedText
    reason: str


@dataclass(frozen=True, slots=True)
class Redacted:
    """A mail's content after redaction: the only form in which content reaches the store."""

    subject: RedactedText
    full_text: RedactedText
    visible: RedactedText
    html: RedactedText | None
    attachments: tuple[KeptAttachment, ...]
    dropped: tuple[DroppedAttachment, ...]
    redactions: dict[str, int]
    sender_name: RedactedText = NO_NAME
    defects: tuple[RedactedText, ...] = ()

    @property
    def credential_exposed(self) -> bool:
        return any(kind in CREDENTIAL_KINDS for kind in self.redactions)


def with_safe_ids(parsed: ParsedMessage, key: str) -> ParsedMessage:
    """`parsed` with the Message-ID, In-Reply-To and References the store may keep: an id
    that holds a secret becomes its stand-in (`key`, the desk's secret key, keys it)."""
    return dataclasses.replace(
        parsed,
        message_id=safe_message_id(parsed.message_id, key),
        in_reply_to=safe_message_id(parsed.in_reply_to, key),
        references=safe_message_ids(parsed.references, key),
    )


def stored_message_id(message_id: str | None, key: str) -> str | None:
    """A Message-ID as the store keeps it (see `with_safe_ids`)."""
    return safe_message_id(message_id, key)


def human_size(size: int) -> str:
    """1000 -> '1000 bytes', 10485760 -> '10 MB'."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


def _extension(filename: str) -> str:
    return filename.rpartition(".")[2].lower() if "." in filename else ""


def _redact_attachment(item: ParsedAttachment) -> tuple[bytes, Counter[str]]:
    """A text attachment redacted in its own encoding (CSV/TSV by column too); other files
    as they are."""
    textual = is_text_like(item.filename, item.content_type) or has_wide_bom(item.payload)
    if not textual:
        return item.payload, Counter()
    text, encoding = decode_text(item.payload, item.charset)
    if is_table(item.filename, item.content_type):
        result = redact_table(text, item.filename)
    else:
        result = redact_text(text)
    if not result.found:
        return item.payload, Counter()
    return encode_text(result.text, encoding), Counter(result.counts())


def _withheld(item: ParsedAttachment, counts: Counter[str]) -> str | None:
    """Why a PDF, archive or Office file is withheld (a secret in its text, a zip bomb);
    what it holds is added to `counts`."""
    if is_text_like(item.filename, item.content_type) or not is_document(item.payload):
        return None
    scan = scan_document(item.filename, item.payload)
    if not scan.withheld:
        return None
    counts.update(scan.found)
    return withheld_reason(scan)


def _redact_mail(
    item: ParsedAttachment, options: AttachmentLimits
) -> tuple[bytes, Counter[str]] | None:
    """An attached mail redacted, its blocked files and documents holding secrets removed."""
    inside: Counter[str] = Counter()  # secrets in the documents removed from it

    def removal(inner: ParsedAttachment) -> str | None:
        return _blocked(inner, options.blocked_extensions) or _withheld(inner, inside)

    redacted = redact_attached_mail(item.payload, removal)
    if redacted is None:
        return None
    payload, found = redacted
    return payload, found + inside


def _blocked(item: ParsedAttachment, blocked: frozenset[str]) -> str | None:
    extension = _extension(item.filename)
    if extension in blocked:
        return f"blocked file type .{extension}"
    is_html = extension in HTML_EXTENSIONS or item.content_type in ("text/html", "image/svg+xml")
    if is_html and _SCRIPT.search(item.payload):
        return "HTML with script"
    return None


def prepare(parsed: ParsedMessage, options: AttachmentLimits) -> Redacted:
    """Redact, strip quotes and check attachments."""
    subject = redact_text(parsed.subject)
    text = redact_text(parsed.text)
    html = redact_html(parsed.html) if parsed.html else None
    body_counts = Counter(text.counts())
    if html is not None:
        body_counts |= Counter(html.counts())  # the HTML usually repeats the text: max, not sum
    counts = Counter(subject.counts()) + body_counts
    sender_name = redact_name(parsed.sender.name) if parsed.sender else None
    if sender_name is not None:
        counts += Counter(sender_name.counts())
    defects = tuple(redact_text(note).text for note in parsed.defects)
    kept: list[KeptAttachment] = []
    dropped: list[DroppedAttachment] = []
    total = 0
    for item in parsed.attachments:
        named = redact_filename(item.filename)
        if item.content_type != EML_TYPE:  # an attached mail is named after its subject
            counts += Counter(named.counts())
        filename = named.text
        reason = _blocked(item, options.blocked_extensions)
        if reason is None and len(item.payload) > options.max_attachment_bytes:
            reason = f"larger than {human_size(options.max_attachment_bytes)}"
        if reason is None and total + len(item.payload) > options.max_message_attachment_bytes:
            reason = "the message's attachments exceed the size limit"
        if reason is None and item.content_type != EML_TYPE:
            reason = _withheld(item, counts)
        if reason is not None:
            dropped.append(DroppedAttachment(filename, reason))
            continue
        if item.content_type == EML_TYPE:
            redacted = _redact_mail(item, options)
            if redacted is None:
                dropped.append(DroppedAttachment(filename, "attached mail unreadable"))
                continue
            payload, found = redacted
            counts |= found  # its text is in the body too: max, not sum
        else:
            payload, found = _redact_attachment(item)
            counts += found
        total += len(item.payload)
        kept.append(
            KeptAttachment(filename, item.content_type, payload, item.inline, item.content_id)
        )
    return Redacted(
        subject=fold_spaces(subject.text),
        full_text=text.text,
        visible=visible_part(subject.text, text.text),
        html=html.text if html else None,
        attachments=tuple(kept),
        dropped=tuple(dropped),
        redactions=dict(sorted(counts.items())),
        sender_name=sender_name.text if sender_name is not None else NO_NAME,
        defects=defects,
    )
