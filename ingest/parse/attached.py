"""An attached mail (message/rfc822) as a `.eml` file: its bytes and a file name.

A mail forwarded as an attachment is often the whole point of a ticket, so it is kept as
a `.eml` file an agent can open, beside its text in the body. The file is named after
the attached mail's subject (or the part's own file name), made safe for every file
system. The bytes are the attached mail as sent; `ingest.redact.attached` redacts them
before they are stored.
"""

from __future__ import annotations

import re
from email.message import Message

from ingest.parse.decode import header_text

EML_TYPE = "message/rfc822"
_FALLBACK = "forwarded-message"
_NOT_IN_NAMES = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\ud800-\udfff]+')
_MAX_STEM = 100


def eml_name(inner: Message, filename: str) -> str:
    """`filename` when the part has one, else `<subject>.eml` made safe."""
    if filename:
        return filename
    raw = next((v for k, v in inner.raw_items() if k.lower() == "subject"), None)
    subject = header_text(str(raw))[0] if raw is not None else ""
    return safe_eml_name(subject)


def safe_eml_name(subject: str) -> str:
    """A subject as a file name: no path or reserved characters, at most 100 characters."""
    stem = " ".join(_NOT_IN_NAMES.sub(" ", subject).split()).strip(" .")[:_MAX_STEM].strip(" .")
    return f"{stem or _FALLBACK}.eml"


def mail_bytes(inner: Message) -> bytes:
    """The attached mail as bytes (compat32 keeps what was parsed)."""
    try:
        return inner.as_bytes()
    except (ValueError, TypeError, LookupError, UnicodeError, IndexError):
        return str(inner).encode("utf-8", "surrogateescape")
