"""Bytes and header words to text: charsets (also wrong or unknown ones), RFC 2047, 8-bit headers.

The parser hands over bytes exactly as they arrived (the stdlib keeps undecodable header
bytes as surrogate escapes). This module is the one place where bytes become `str`.
Declared labels are read through the one alias table (`ingest.parse.charsets`, the WHATWG
mapping browsers use); bodies try the declared charset, then UTF-8, then the charset's
neighbours; unlabelled 8-bit text is UTF-8 when valid, else detected
(`ingest.parse.detect`), else windows-1252 (and finally latin-1, which never fails).
Raw 8-bit header bytes are UTF-8, else the charset the body declares, else detected.
A short note goes to `ParsedMessage.defects` whenever it had to guess. Nothing here
raises on bad input.
"""

from __future__ import annotations

import binascii
import re

from ingest.parse.charsets import ISO2022JP_MS, is_misnamed, resolve_charset
from ingest.parse.detect import guess_codec, looks_western

#: Codecs whose pure-ASCII input still needs decoding.
_NOT_ASCII_TRANSPARENT = ("utf-7", "utf-16", "utf-32", "iso2022", "hz")
#: Where a declared East Asian charset fails, its neighbours are the likely truth.
_SIBLINGS = {
    ISO2022JP_MS: ("cp932", "euc_jp"),
    "euc_jp": ("cp932", ISO2022JP_MS),
    "cp932": ("euc_jp", ISO2022JP_MS),
    "gb18030": ("big5hkscs",),
    "big5hkscs": ("gb18030",),
    "cp949": ("iso2022_kr",),
}
_LATIN_GUESSES = frozenset({"cp1252"})

#: An encoded word, also with spaces inside (`=?us-ascii?Q?Order 42 / Berlin?=`): clients
#: decode those, so the text may hold anything but "?" (which ends the word).
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_WSP_ONLY = re.compile(r"[ \t\r\n]*")
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r(?=[ \t])")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|[\ud800-\udfff]")
_BAD_SCALARS = re.compile(r"[\ud800-\udfff]")
_SURROGATE_FREE = ("utf-8", "ascii", "cp", "latin", "iso8859", "koi8", "mac", "euc", "gb", "big5",
                   "shift", "iso2022", "utf-16", "utf-32", "hz", "johab", "tis", "kz")  # fmt: skip


def scrub(text: str, codec: str | None = None) -> str:
    """Remove NUL and lone surrogates (a database cannot store them). Only a few codecs
    (utf-7, exotic ones) can emit surrogates; for the common ones NUL is all there is."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if codec is not None and codec.startswith(_SURROGATE_FREE):
        return text
    return _BAD_SCALARS.sub("\ufffd", text) if not text.isascii() else text


def decode_bytes(data: bytes, label: str | None) -> tuple[str, str | None]:
    """Decode body or header bytes declared as `label`; returns `(text, note or None)`.

    Order: the declared charset; UTF-8 (senders often mislabel it as latin-1/ascii);
    windows-1252; latin-1. A UTF-8 body with a few broken bytes keeps UTF-8 with
    replacement characters rather than turning every accent into mojibake.
    """
    if not data:
        return "", None
    codec = resolve_charset(label)
    if label and is_misnamed(label):
        text, note = decode_bytes(data, codec)
        return text, note or f"non-standard charset name {label.strip()[:40]!r} read as {codec}"
    if data.isascii() and (codec is None or not codec.startswith(_NOT_ASCII_TRANSPARENT)):
        return scrub(data.decode("ascii"), "ascii"), None
    shown = (label or "").strip()[:40]
    if codec is None or codec in _LATIN_GUESSES:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text, used = _latin(data) if codec else _guessed(data)
        else:
            used = "utf-8"
        if codec is not None:
            return scrub(text, used), (
                None if used == codec else f"charset {shown!r} is wrong: decoded as {used}"
            )
        if label is None:
            return scrub(text, used), f"8-bit text without a charset: decoded as {used}"
        return scrub(text, used), f"unknown charset {shown!r}: decoded as {used}"
    try:
        return scrub(data.decode(codec), codec), None
    except (UnicodeError, LookupError, ValueError):
        pass
    for other in ("utf-8", *_SIBLINGS.get(codec, ())):
        if other != codec and not (other == "utf-8" and data.isascii()):
            try:
                text = scrub(data.decode(other), other)
                return text, f"charset {shown!r} is wrong: decoded as {other}"
            except UnicodeDecodeError:
                pass
    try:
        replaced = data.decode(codec, "replace")
    except (UnicodeError, LookupError, ValueError):  # pragma: no cover - codec refused 'replace'
        replaced = ""
    bad = replaced.count("\ufffd")
    non_ascii = sum(1 for byte in data if byte > 0x7F)
    if replaced and (codec != "utf-8" or bad * 2 < non_ascii):
        return scrub(replaced, codec), f"invalid {shown} bytes replaced"
    text, used = _latin(data)
    return scrub(text, used), f"charset {shown!r} is wrong: decoded as {used}"


def _guessed(data: bytes) -> tuple[str, str]:
    """Unlabelled 8-bit text that is not UTF-8, in the charset `guess_codec` finds."""
    codec = guess_codec(data)  # decodes the first 16 KB strictly; the rest may not
    try:
        return data.decode(codec), codec
    except UnicodeDecodeError:
        return data.decode(codec, "replace"), codec


def _latin(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def text_from_surrogates(value: str, hint: str | None = None) -> tuple[str, str | None]:
    """Turn a stdlib header/param value that may hold raw 8-bit bytes (as surrogate escapes)
    into text: UTF-8 (RFC 6532) first, then `hint` (the charset the mail's body declares,
    which legacy clients also used for headers), then detection (`ingest.parse.detect`)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogateescape")
        return scrub(header_bytes_text(raw, hint)), "raw 8-bit bytes in a header"
    return value, None


def header_bytes_text(raw: bytes, hint: str | None = None) -> str:
    """Raw 8-bit header bytes as text (see `text_from_surrogates`); never raises."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    codec = resolve_charset(hint)
    if codec is not None and codec != "utf-8":
        # a Latin hint only fits Latin-looking bytes: "us-ascii" bodies with Shift_JIS subjects
        candidates = [] if codec == "cp1252" and not looks_western(raw) else [codec]
        for candidate in (*candidates, *_SIBLINGS.get(codec, ())):
            try:
                return raw.decode(candidate)
            except (UnicodeError, LookupError, ValueError):
                continue
    return _guessed(raw)[0]


def decode_words(value: str) -> tuple[str, list[str]]:
    """Decode RFC 2047 encoded words in already unfolded text; returns `(text, notes)`.

    Lenient like mail clients: encoded words inside quotes or glued to other text are
    decoded; adjacent words in one charset are joined as bytes before decoding, so a
    character split across two words survives; whitespace between words is dropped.
    """
    if "=?" not in value:
        return value, []
    notes: list[str] = []
    out: list[str] = []
    pending = b""
    pending_cs: str | None = None
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        if pending and not _WSP_ONLY.fullmatch(gap):
            out.append(_flush(pending, pending_cs, notes))
            pending, pending_cs = b"", None
        if not pending:
            out.append(gap)
        charset, kind, payload = match.groups()
        data = _word_bytes(kind, payload)
        if pending and charset.lower() != pending_cs:
            out.append(_flush(pending, pending_cs, notes))
            pending = b""
        pending, pending_cs = pending + data, charset.lower()
        pos = match.end()
    if pending:
        out.append(_flush(pending, pending_cs, notes))
    out.append(value[pos:])
    return "".join(out), notes


def _word_bytes(kind: str, payload: str) -> bytes:
    raw = payload.encode("ascii", "replace")
    if kind in "qQ":
        return binascii.a2b_qp(raw, header=True)
    raw = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
    if len(raw) % 4 == 1:
        raw = raw[:-1]
    try:
        return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4))
    except binascii.Error:
        return b""


def _flush(data: bytes, charset: str | None, notes: list[str]) -> str:
    text, note = decode_bytes(data, charset)
    if note:
        notes.append(f"encoded word: {note}")
    return text


def header_text(value: object, hint: str | None = None) -> tuple[str, list[str]]:
    """A header value as one line of readable text: 8-bit bytes (read as `hint`, the body's
    charset, when not UTF-8) and encoded words decoded, folding removed, control characters
    turned into spaces, outer whitespace stripped."""
    text, note = text_from_surrogates(str(value), hint)
    notes = [note] if note else []
    text = _FOLD.sub("", text)
    decoded, word_notes = decode_words(text)
    notes.extend(word_notes)
    if not decoded.isprintable():
        decoded = _CONTROLS.sub(" ", decoded.replace("\x00", ""))
    return " ".join(decoded.split()), notes
