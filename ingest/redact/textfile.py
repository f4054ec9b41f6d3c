"""A text attachment's bytes as text, and the redacted text back as bytes in its encoding.

A secret in a UTF-16 file is invisible to a scan of its bytes as UTF-8 (every other byte is
NUL), so the encoding is found first: a byte order mark (UTF-8, UTF-16 and UTF-32, little
and big endian), else the declared charset, else the pattern of NUL bytes of BOM-less
UTF-16/32, else UTF-8. The redacted text is written back in the same encoding (with its
mark), so the file opens as it did. UTF-8 and ASCII-compatible text is read with
`surrogateescape`, so bytes that are not UTF-8 come back unchanged.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from ingest.parse.charsets import resolve_charset

__all__ = ["TextEncoding", "decode_text", "encode_text", "has_wide_bom"]

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE = ("utf-16", "utf-32")
_SAMPLE = 4096


@dataclass(frozen=True, slots=True)
class TextEncoding:
    """How a text file was written: its byte order mark (or b"") and its codec."""

    bom: bytes
    codec: str


UTF8 = TextEncoding(b"", "utf-8")


def has_wide_bom(data: bytes) -> bool:
    """True when `data` starts with a UTF-16 or UTF-32 byte order mark."""
    return any(data.startswith(bom) and codec.startswith(_WIDE) for bom, codec in _BOMS)


def _sniff_wide(data: bytes) -> str | None:
    """UTF-16/32 without a mark, told by where its NUL bytes fall (mostly-ASCII text)."""
    sample = data[:_SAMPLE]
    if len(sample) < 8 or sample.count(0) < len(sample) // 4:
        return None
    usable = len(sample) - len(sample) % 4
    columns = [sample[i:usable:4].count(0) for i in range(4)]
    quarter = usable // 4
    if columns[1] == columns[2] == columns[3] == quarter and columns[0] < quarter:
        return "utf-32-le"
    if columns[0] == columns[1] == columns[2] == quarter and columns[3] < quarter:
        return "utf-32-be"
    odd = columns[1] + columns[3]
    even = columns[0] + columns[2]
    if odd >= quarter * 2 * 0.9 and even < odd // 4:
        return "utf-16-le"
    if even >= quarter * 2 * 0.9 and odd < even // 4:
        return "utf-16-be"
    return None


def _declared(charset: str | None) -> str | None:
    try:
        return resolve_charset(charset)
    except (LookupError, ValueError, UnicodeError):
        return None


def _encoding(data: bytes, charset: str | None) -> TextEncoding:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return TextEncoding(bom, codec)
    declared = _declared(charset)
    sniffed = _sniff_wide(data)
    if sniffed is not None:
        return TextEncoding(b"", sniffed)
    if declared is not None and declared.startswith(_WIDE):
        if b"\x00" not in data and _is_utf8(data):
            return UTF8  # labelled UTF-16/32 but plainly not
        return TextEncoding(b"", declared if declared.endswith(("le", "be")) else f"{declared}-be")
    if declared is None or declared in ("utf-8", "ascii") or data.isascii():
        return UTF8
    try:
        data.decode(declared)
    except (UnicodeError, LookupError, ValueError):
        return UTF8  # mislabelled: read as UTF-8, other bytes kept as they are
    return TextEncoding(b"", declared)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _ascii_compatible(codec: str) -> bool:
    try:
        return "password: x".encode(codec) == b"password: x"
    except (UnicodeError, LookupError, ValueError):
        return False


def decode_text(data: bytes, charset: str | None) -> tuple[str, TextEncoding]:
    """The text of a text attachment and the encoding to write it back in."""
    found = _encoding(data, charset)
    body = data[len(found.bom) :]
    if found.codec == "utf-8" or _ascii_compatible(found.codec):
        return body.decode(found.codec, "surrogateescape"), found
    return body.decode(found.codec, "replace"), found


def encode_text(text: str, encoding: TextEncoding) -> bytes:
    """`text` as bytes in `encoding` (with its byte order mark); UTF-8 when the codec
    cannot write a character of it."""
    if encoding.codec == "utf-8" or _ascii_compatible(encoding.codec):
        try:
            return encoding.bom + text.encode(encoding.codec, "surrogateescape")
        except UnicodeError:
            return text.encode("utf-8", "surrogateescape")
    try:
        return encoding.bom + text.encode(encoding.codec)
    except UnicodeError:
        return text.encode("utf-8", "surrogateescape")
