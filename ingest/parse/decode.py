"""Bytes and header words to text: charsets (also wrong or unknown ones), RFC 2047, 8-bit headers.

The parser hands over bytes exactly as they arrived (the stdlib keeps undecodable header
bytes as surrogate escapes). This module is the one place where bytes become `str`: it
tries the declared charset, then UTF-8, then windows-1252 (and finally latin-1, which
never fails), and returns a short note for `ParsedMessage.defects` whenever it had to
guess. Nothing here raises on bad input.
"""

from __future__ import annotations

import binascii
import codecs
import re
from functools import lru_cache

#: Labels seen in real mail that Python does not know, or knows under a narrower name.
#: latin-1/ascii map to windows-1252 as browsers do (WHATWG): senders mean that.
_ALIASES = {
    "uft-8": "utf-8",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "x-unicode20utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "x-unicode-2-0-utf-7": "utf-7",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "tis-620": "cp874",
    "windows-874": "cp874",
    "iso-8859-11": "cp874",
    "iso-8859-8-i": "iso-8859-8",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
}
_MISNAMED = frozenset(
    {"uft-8", "unicode-1-1-utf-8", "x-unicode20utf8", "unicode-1-1-utf-7", "x-unicode-2-0-utf-7"}
)
#: Labels that mean "the sender did not know": decode by guessing, without a note.
_UNKNOWN = frozenset({"", "x-unknown", "unknown", "unknown-8bit", "x-user-defined", "default"})
#: Python codecs that are not charsets a mail can honestly be in (they would interpret text).
_REFUSED = frozenset(
    {"undefined", "idna", "punycode", "unicode_escape", "raw_unicode_escape", "mbcs", "oem"}
)
#: Codecs whose pure-ASCII input still needs decoding.
_NOT_ASCII_TRANSPARENT = ("utf-7", "utf-16", "utf-32", "iso2022", "hz")
#: Where a declared East Asian charset fails, its neighbours are the likely truth.
_SIBLINGS = {
    "iso2022_jp_ext": ("euc_jp", "cp932"),
    "euc_jp": ("cp932", "iso2022_jp_ext"),
    "cp932": ("euc_jp", "iso2022_jp_ext"),
    "gb18030": ("big5hkscs",),
    "big5hkscs": ("gb18030",),
    "cp949": ("iso2022_kr",),
}
_LATIN_GUESSES = frozenset({"cp1252"})

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_WSP_ONLY = re.compile(r"[ \t\r\n]*")
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r(?=[ \t])")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|[\ud800-\udfff]")
_BAD_SCALARS = re.compile(r"[\ud800-\udfff]")
_SURROGATE_FREE = ("utf-8", "ascii", "cp", "latin", "iso8859", "koi8", "mac", "euc", "gb", "big5",
                   "shift", "iso2022", "utf-16", "utf-32", "hz", "johab", "tis", "kz")  # fmt: skip


@lru_cache(maxsize=256)
def resolve_charset(label: str | None) -> str | None:
    """Map a declared charset label to a Python codec name, or None for "guess" (no label,
    an "unknown" label, or a label Python cannot use as a text charset)."""
    if label is None:
        return None
    name = label.strip().strip("\"'").strip().lower()
    if "*" in name:  # RFC 2231 language suffix: utf-8*en
        name = name.split("*", 1)[0]
    if name in _UNKNOWN:
        return None
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if info.name in _REFUSED or not getattr(info, "_is_text_encoding", True):
        return None
    return _ALIASES.get(info.name, info.name)


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
    if label and label.strip().strip("\"'").lower() in _MISNAMED:
        text, note = decode_bytes(data, codec)
        return text, note or f"non-standard charset name {label.strip()[:40]!r} read as {codec}"
    if data.isascii() and (codec is None or not codec.startswith(_NOT_ASCII_TRANSPARENT)):
        return scrub(data.decode("ascii"), "ascii"), None
    shown = (label or "").strip()[:40]
    if codec is None or codec in _LATIN_GUESSES:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text, used = _latin(data) if codec else _guess_single_byte(data)
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
        if other != codec:
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


def _guess_single_byte(data: bytes) -> tuple[str, str]:
    """Unlabelled 8-bit text that is not UTF-8. Western text has a few high bytes between
    ASCII letters; Cyrillic has whole words of them: koi8-r when most fall in 0xC0-0xDF
    (its lowercase letters), windows-1251 when most fall in 0xE0-0xFF (its lowercase)."""
    high = sum(1 for byte in data if byte >= 0xC0)
    letters = sum(1 for byte in data if 0x41 <= (byte | 0x20) - 0x20 <= 0x5A)
    if high > letters:
        koi_lower = sum(1 for byte in data if 0xC0 <= byte <= 0xDF)
        return (data.decode("koi8-r"), "koi8-r") if koi_lower * 2 > high else _cp1251(data)
    return _latin(data)


def _cp1251(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("cp1251"), "cp1251"
    except UnicodeDecodeError:
        return data.decode("koi8-r"), "koi8-r"


def _latin(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def text_from_surrogates(value: str) -> tuple[str, str | None]:
    """Turn a stdlib header/param value that may hold raw 8-bit bytes (as surrogate escapes)
    into text: UTF-8 (RFC 6532) first, then windows-1252."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogateescape")
        text, _ = decode_bytes(raw, None)
        return text, "raw 8-bit bytes in a header"
    return value, None


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


def header_text(value: object) -> tuple[str, list[str]]:
    """A header value as one line of readable text: 8-bit bytes and encoded words decoded,
    folding removed, control characters turned into spaces, outer whitespace stripped."""
    text, note = text_from_surrogates(str(value))
    notes = [note] if note else []
    text = _FOLD.sub("", text)
    decoded, word_notes = decode_words(text)
    notes.extend(word_notes)
    if not decoded.isprintable():
        decoded = _CONTROLS.sub(" ", decoded.replace("\x00", ""))
    return " ".join(decoded.split()), notes
