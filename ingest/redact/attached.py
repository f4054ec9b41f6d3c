"""Redaction of an attached mail (`.eml`, message/rfc822) before it is stored.

An attached mail carries everything a body does, and more: its headers, its text and HTML
parts (often base64 or quoted-printable, where a text scan would miss a secret), its own
attachments. `redact_attached_mail` parses it and redacts each piece the way the pipeline
redacts a top-level mail: the human headers (Subject, From, To, ..., the message ids),
file names, every text-like part (decoded, redacted, re-encoded as UTF-8 base64; an
attached file in its own encoding, UTF-16 too), attached mails inside it (also when
Outlook base64-encoded them). Parts the block list forbids are replaced by a short text
note. A winmail.dat container (TNEF, which hides its text and files from a text scan) is
replaced by what it holds: its text and its files as ordinary parts, redacted and checked
like the rest (an unreadable one is kept as it is, as at the top level). The ticket lists
the `.eml`, not the files inside it, so they are stored only here. When the mail cannot
be rebuilt the caller drops it: never stored unredacted.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import mimetypes
from collections import Counter
from collections.abc import Callable
from email.header import Header
from email.message import Message

from ingest.model import ParsedAttachment
from ingest.parse.decode import decode_bytes, header_text
from ingest.parse.html_bound import html_as_text, too_large
from ingest.parse.tnef import is_tnef, unpack_tnef
from ingest.redact.headers import redact_filename
from ingest.redact.redactor import is_text_like, redact_html, redact_text
from ingest.redact.textfile import decode_text, encode_text

__all__ = ["redact_attached_mail"]

_PARSER = email.parser.BytesParser(policy=email.policy.compat32)
_TEXT_HEADERS = frozenset(
    {"subject", "from", "to", "cc", "bcc", "reply-to", "sender", "comments", "keywords",
     "thread-topic", "organization", "message-id", "in-reply-to", "references"}
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
    named = redact_filename(filename)
    counts.update(named.counts())
    data = _decoded(part)
    if is_tnef(ctype, filename, data) and _unpacked_tnef(part, data, blocked, counts, depth):
        return
    reason = _removal_reason(ctype, filename, data, blocked)
    if reason is not None:
        _replace(part, "text/plain", f"[{named.text or 'attachment'} removed: {reason}]")
        _rename(part, f"{named.text}.removed.txt" if named.text else "")
        return
    if named.found:
        _rename(part, named.text, disposition=part.get_content_disposition() or "attachment")
    if not is_text_like(filename, ctype):
        return
    if filename:  # an attached file: in its own encoding (UTF-16 too), written back in it
        content, written_in = decode_text(data, part.get_content_charset())
        result = redact_text(content)
        if result.found:
            counts.update(result.counts())
            _replace_bytes(part, encode_text(result.text, written_in))
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
    return blocked(ParsedAttachment(filename, ctype, data))


def _unpacked_tnef(
    part: Message, data: bytes, blocked: BlockCheck, counts: Counter[str], depth: int
) -> bool:
    """Turn a winmail.dat part into a multipart/mixed of its text and files, each redacted;
    False when it cannot be read (it is then kept as it is, as at the top level)."""
    content = unpack_tnef(data)
    if content is None:
        return False
    children: list[Message] = []
    for ctype, text in (("text/plain", content.text), ("text/html", content.html)):
        if text.strip():
            child = Message()
            _replace(child, ctype, text)
            children.append(child)
            break  # the text, or the HTML when there is no text
    for item in content.files:
        child = Message()
        name = item.filename or "winmail.bin"
        child["Content-Type"] = mimetypes.guess_type(name)[0] or "application/octet-stream"
        child["Content-Disposition"] = "attachment"
        child.set_param("filename", name, header="Content-Disposition")
        child["Content-Transfer-Encoding"] = "base64"
        child.set_payload(base64.encodebytes(item.payload).decode("ascii"))
        children.append(child)
    for child in children:
        _redact_tree(child, blocked, counts, depth + 1)
    for header in ("Content-Type", "Content-Transfer-Encoding", "Content-Disposition"):
        del part[header]
    part["Content-Type"] = "multipart/mixed"
    part.set_boundary(f"tnef-{hashlib.sha256(data).hexdigest()[:32]}")  # never in base64
    payload: list[Message | str] = [*children]
    part.set_payload(payload)
    return True


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


def _replace_bytes(part: Message, data: bytes) -> None:
    """Give `part` new content of the same type and charset, in base64."""
    del part["Content-Transfer-Encoding"]
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(data).decode("ascii"))


def _rename(part: Message, filename: str, disposition: str = "attachment") -> None:
    """Name `part` `filename` (already redacted); its old name parameters go."""
    if filename:
        del part["Content-Disposition"]
        part["Content-Disposition"] = disposition
        part.set_param("filename", filename, header="Content-Disposition")
        part.del_param("name")
