"""From a parsed mail to redacted content ready to store: the only road to the store.

Redaction happens here, before anything else looks at the text: the subject, the full text,
the HTML, and text-like attachments. Quoted history is stripped from the redacted text.
Attachments are checked against the size limits and the blocked list.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from ingest.model import ParsedAttachment, ParsedMessage
from ingest.parse.attached import EML_TYPE
from ingest.redact.attached import redact_attached_mail
from ingest.redact.derived import fold_spaces, visible_part
from ingest.redact.redactor import CREDENTIAL_KINDS, is_text_like, redact_html, redact_text
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
    filename: str
    content_type: str
    payload: bytes  # redacted when text-like
    inline: bool
    content_id: str | None


@dataclass(frozen=True, slots=True)
class DroppedAttachment:
    filename: str
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

    @property
    def credential_exposed(self) -> bool:
        return any(kind in CREDENTIAL_KINDS for kind in self.redactions)


def human_size(size: int) -> str:
    """1000 -> '1000 bytes', 10485760 -> '10 MB'."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


def _extension(filename: str) -> str:
    return filename.rpartition(".")[2].lower() if "." in filename else ""


def _redact_attachment(item: ParsedAttachment) -> tuple[bytes, Counter[str]]:
    if not is_text_like(item.filename, item.content_type):
        return item.payload, Counter()
    text = item.payload.decode("utf-8", errors="surrogateescape")
    result = redact_text(text)
    return result.text.encode("utf-8", errors="surrogateescape"), Counter(result.counts())


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
    kept: list[KeptAttachment] = []
    dropped: list[DroppedAttachment] = []
    total = 0
    for item in parsed.attachments:
        filename = item.filename
        reason = _blocked(item, options.blocked_extensions)
        if reason is None and len(item.payload) > options.max_attachment_bytes:
            reason = f"larger than {human_size(options.max_attachment_bytes)}"
        if reason is None and total + len(item.payload) > options.max_message_attachment_bytes:
            reason = "the message's attachments exceed the size limit"
        if reason is not None:
            dropped.append(DroppedAttachment(item.filename, reason))
            continue
        if item.content_type == EML_TYPE:
            redacted = redact_attached_mail(
                item.payload, lambda inner: _blocked(inner, options.blocked_extensions)
            )
            if redacted is None:
                dropped.append(DroppedAttachment(item.filename, "attached mail unreadable"))
                continue
            payload, found = redacted
            counts |= found  # its text is in the body too: max, not sum
            stem, dot, extension = filename.rpartition(".")  # named after its subject
            suffix = f".{extension}" if dot else ""
            filename = redact_text(stem if dot else filename).text + suffix
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
    )
