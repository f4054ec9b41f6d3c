"""Defensive reading of a parsed message for the classifier: headers, addresses, parts, text.

Everything here tolerates broken input (undecodable headers, unknown charsets, payloads of
the wrong type) and returns empty values instead of raising, because classification runs
on every message before anything else has looked at it. Every walk over parts is bounded.
"""

from __future__ import annotations

import email.header
import email.parser
import email.utils
import re
from collections.abc import Iterator
from email.message import Message

MAX_PARTS = 200
"""Most MIME parts the classifier looks at in one message."""

MAX_TEXT_CHARS = 64_000
"""Most characters of one decoded text part the classifier reads."""

MAX_HEADER_CHARS = 4_000
"""Most characters of one header value the classifier reads."""

_MESSAGE_ID = re.compile(r"<([^<>\s]{1,500})>")
_BARE_MESSAGE_ID = re.compile(r"[^<>\s@]{1,250}@[^<>\s@]{1,250}")


def header_text(message: Message, name: str) -> str:
    """The first `name` header of `message`, RFC 2047-decoded, or "" when absent or unreadable."""
    values = header_texts(message, name)
    return values[0] if values else ""


def header_texts(message: Message, name: str) -> list[str]:
    """Every `name` header of `message`, decoded, in order; unreadable ones are skipped."""
    try:
        raw_values = message.get_all(name) or []
    except Exception:  # a broken header must never stop classification
        return []
    texts: list[str] = []
    for raw in raw_values[:50]:
        text = _decode_header_value(raw)
        if text is not None:
            texts.append(text)
    return texts


def has_header(message: Message, name: str) -> bool:
    """True when `message` carries at least one `name` header (even an empty one)."""
    try:
        return message.get(name) is not None
    except Exception:  # see header_texts
        return False


def _decode_header_value(raw: object) -> str | None:
    try:
        if isinstance(raw, email.header.Header):
            chunks = getattr(raw, "_chunks", [])  # compat32 keeps raw bytes only here
            pieces = [_decode_chunk(text, str(charset)) for text, charset in chunks]
            return _squash(" ".join(pieces))
        text = str(raw)
    except Exception:  # see header_texts
        return None
    text = text[:MAX_HEADER_CHARS]
    try:
        parts = email.header.decode_header(text)
    except Exception:  # malformed encoded words: keep the raw text
        return _squash(text)
    pieces = [_decode_bytes_or_str(chunk, charset) for chunk, charset in parts]
    return _squash("".join(pieces) if len(pieces) > 1 else (pieces[0] if pieces else ""))


def _decode_chunk(text: str, charset: str) -> str:
    """A compat32 Header chunk: undecodable bytes are kept as surrogate escapes."""
    try:
        data = text.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return text
    return decode_bytes(data, None if charset == "unknown-8bit" else charset)


def _decode_bytes_or_str(chunk: bytes | str, charset: str | None) -> str:
    if isinstance(chunk, str):
        return chunk
    return decode_bytes(chunk, charset)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes to text in `charset`, falling back to UTF-8 and Latin-1; never raises."""
    candidates = [c for c in (charset, "utf-8") if c and c not in ("unknown-8bit",)]
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("latin-1")


def _squash(text: str) -> str:
    return " ".join(text.split())


def addresses(message: Message, name: str) -> list[str]:
    """Lowercased addr-specs found in every `name` header; garbage is skipped."""
    found: list[str] = []
    for value in header_texts(message, name):
        found.extend(addr.strip().lower() for _, addr in _pairs(value) if addr.strip())
    return found


def display_names(message: Message, name: str) -> list[str]:
    """Display names in every `name` header (for "Mail Delivery Subsystem" and friends)."""
    names: list[str] = []
    for value in header_texts(message, name):
        names.extend(display.strip() for display, _ in _pairs(value) if display.strip())
    return names


def _pairs(value: str) -> list[tuple[str, str]]:
    try:
        return email.utils.getaddresses([value])[:100]
    except Exception:  # malformed address lists
        return []


def first_message_id(value: str) -> str | None:
    """The first Message-ID in a header value, normalised to "<...>", or None."""
    match = _MESSAGE_ID.search(value)
    if match:
        return f"<{match.group(1)}>"
    bare = _BARE_MESSAGE_ID.search(value)
    return f"<{bare.group(0)}>" if bare else None


def content_type(part: Message) -> str:
    """The part's lowercased content type, "text/plain" when unreadable."""
    try:
        return part.get_content_type()
    except Exception:  # malformed Content-Type
        return "text/plain"


def content_param(part: Message, name: str) -> str:
    """A Content-Type parameter of the part, lowercased, or "" when absent or unreadable."""
    try:
        value = part.get_param(name)
    except Exception:  # malformed parameters
        return ""
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return str(value).strip().lower() if value else ""


def own_parts(message: Message) -> Iterator[Message]:
    """The message and its MIME parts, depth first, without entering attached messages.

    The contents of message/* parts (a returned or forwarded original, the header blocks
    of a message/delivery-status) are not yielded; the message/* part itself is.
    """
    stack: list[Message] = [message]
    seen = 0
    while stack and seen < MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        if content_type(part).startswith("message/") or not part.is_multipart():
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))


def attached_messages(message: Message) -> Iterator[Message]:
    """Messages attached as message/rfc822 parts (not descending into them)."""
    for part in own_parts(message):
        if part is message or content_type(part) != "message/rfc822":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            for inner in payload[:1]:
                if isinstance(inner, Message):
                    yield inner
        elif isinstance(payload, str):
            yield _parse_headers(payload)


def _parse_headers(text: str) -> Message:
    return email.parser.HeaderParser().parsestr(text[:MAX_TEXT_CHARS])


def part_text(part: Message) -> str:
    """The decoded text of a non-multipart part (at most MAX_TEXT_CHARS), "" when unusable."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # broken transfer encodings
        payload = None
    if isinstance(payload, bytes):
        charset = None
        try:
            charset = part.get_content_charset()
        except Exception:  # malformed charset parameter
            charset = None
        return decode_bytes(payload[: MAX_TEXT_CHARS * 4], charset)[:MAX_TEXT_CHARS]
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw[:MAX_TEXT_CHARS]
    return ""


def first_text(message: Message) -> str:
    """The first text/plain part of the sender's own parts (else the first text/* part)."""
    if not message.is_multipart() and content_type(message).startswith("multipart/"):
        return part_text(message)  # a multipart without usable boundaries: one text
    fallback: Message | None = None
    for part in own_parts(message):
        if part.is_multipart():
            continue
        kind = content_type(part)
        if kind == "text/plain":
            return part_text(part)
        if fallback is None and kind.startswith("text/") and kind != "text/rfc822-headers":
            fallback = part
    return part_text(fallback) if fallback is not None else ""


def headers_from_text(text: str) -> Message:
    """Parse a block of header lines (a text/rfc822-headers part) into a Message."""
    return _parse_headers(text)
