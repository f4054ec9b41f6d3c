"""Redaction of an attached mail (`.eml`, message/rfc822) before it is stored.

An attached mail carries everything a body does, and more: its headers, its text and HTML
parts (often base64 or quoted-printable, where a text scan would miss a secret), its own
attachments. `redact_attached_mail` parses it and redacts each piece the way the pipeline
redacts a top-level mail: the human headers (Subject, From, To, ...), every text-like
part (decoded, redacted, re-encoded as UTF-8 base64), attached mails inside it (also when
Outlook base64-encoded them). Parts the block list forbids, and winmail.dat containers
(whose files the ticket already holds, unpacked and redacted), are replaced by a short
text note. When the mail cannot be rebuilt the caller drops it: never stored unredacted.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
from collections import Counter
from collections.abc import Callable
from email.header import Header
from email.message import Message

from ingest.model import ParsedAttachment
from ingest.parse.decode import decode_bytes, header_text
from ingest.parse.html_bound import html_as_text, too_large
from ingest.parse.tnef import is_tnef
from ingest.redact.redactor import is_text_like, redact_html, redact_text

__all__ = ["redact_attached_mail"]

_PARSER = email.parser.BytesParser(policy=email.policy.compat32)
_TEXT_HEADERS = frozenset(
    {"subject", "from", "to", "cc", "bcc", "reply-to", "sender", "comments", "keywords",
     "thread-topic", "organization"}
)  # fmt: skip
_MAX_DEPTH = 25
BlockCheck = Callable[[ParsedAttachment], "str | None"]
"""Why an attachment may not be stored (the block list, HTML with script), or None."""


def redact_attached_mail(payload: bytes, blocked: BlockCheck) -> tuple[bytes, Counter[str]] | None:
    """The attached mail with its secrets removed and what was found; None when it cannot
    be read back safely."""
    counts: Counter[str] = Counter()
    try:
        message = _PARSER.parsebytes(payload)
        _redact_tree(message, blocked, counts, 0)
        return message.as_bytes(), counts
    except (ValueError, TypeError, LookupError, UnicodeError, IndexError, RecursionError):
        return None


def _redact_tree(part: Message, blocked: BlockCheck, counts: Counter[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("attached mail nested too deeply")
    _redact_headers(part, counts)
    ctype = part.get_content_type()
    payload = part.get_payload()
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if part.get_content_maintype() == "message" and encoding in ("base64", "quoted-printable"):
        inner = _PARSER.parsebytes(_decoded(part))  # Outlook encodes attached mails
        _redact_tree(inner, blocked, counts, depth + 1)
        del part["Content-Transfer-Encoding"]
        part.set_payload([inner])
        return
    if isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                _redact_tree(child, blocked, counts, depth + 1)
        return
    filename = str(part.get_filename() or "")
    data = _decoded(part)
    reason = _removal_reason(ctype, filename, data, blocked)
    if reason is not None:
        _replace(part, "text/plain", f"[{filename or 'attachment'} removed: {reason}]")
        _rename(part, filename)
        return
    if not is_text_like(filename, ctype):
        return
    text, _ = decode_bytes(data, part.get_content_charset())
    if ctype == "text/html" and too_large(text):  # kept as its text, like a body that large
        result = redact_text(html_as_text(text))
        counts.update(result.counts())
        _replace(part, "text/plain", result.text)
        return
    result = redact_html(text) if ctype == "text/html" else redact_text(text)
    if result.found:
        counts.update(result.counts())
        _replace(part, ctype, result.text)


def _redact_headers(part: Message, counts: Counter[str]) -> None:
    items = part.raw_items()
    redacted: list[tuple[str, str]] = []
    changed = False
    for name, value in items:
        if name.lower() in _TEXT_HEADERS:
            result = redact_text(header_text(str(value))[0])
            if result.found:
                counts.update(result.counts())
                redacted.append((name, Header(result.text, "utf-8", header_name=name).encode()))
                changed = True
                continue
        redacted.append((name, value))
    if not changed:
        return
    for name in {name for name, _ in redacted}:
        del part[name]
    for name, new in redacted:
        part[name] = new


def _removal_reason(ctype: str, filename: str, data: bytes, blocked: BlockCheck) -> str | None:
    if is_tnef(ctype, filename, data):
        return "winmail.dat, unpacked into the ticket's attachments"
    return blocked(ParsedAttachment(filename, ctype, data))


def _decoded(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError):  # pragma: no cover - stdlib quirk
        data = None
    return data if isinstance(data, bytes) else b""


def _replace(part: Message, ctype: str, text: str) -> None:
    """Give `part` new text content, UTF-8 in base64 (safe for any line length)."""
    del part["Content-Transfer-Encoding"]
    if "Content-Type" in part:
        part.set_type(ctype)
    else:
        part["Content-Type"] = ctype
    part.set_param("charset", "utf-8")
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(text.encode("utf-8", "surrogateescape")).decode("ascii"))


def _rename(part: Message, filename: str) -> None:
    if filename:
        del part["Content-Disposition"]
        part["Content-Disposition"] = "attachment"
        part.set_param("filename", f"{filename}.removed.txt", header="Content-Disposition")
        part.del_param("name")
