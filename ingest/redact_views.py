"""Views of one text that the detectors share: lower-cased, and one byte per character.

The regex engine finds a literal byte many times faster than a member of a character class
(it tests a class one character at a time), so the scans that would otherwise look at every
character (keyword boundaries, digit runs, camelCase keywords) run over a byte copy of the
text, translated so that every character they may start on is the same byte. The copy is
the text in Latin-1, or else in Windows-1252 (Latin-1 plus the euro sign, curly quotes and
dashes of Western mail), every other character as "?", so it keeps the offsets of the text.
Only its ASCII bytes, the no-break space and "?" mean anything to the scans; what a scan
finds there is confirmed on the text itself wherever the copy may differ from it.

The lower-cased copy of such a text is made from the bytes too (one table lookup per byte)
instead of by str.lower(), which looks up each character in the Unicode database; texts
with other characters are lower-cased by str.lower().
"""

from __future__ import annotations

from dataclasses import dataclass

_CODECS = ("latin-1", "cp1252")  # Latin-1 first: encoding and decoding it is a copy


def lower_same_length(text: str) -> str:
    """text.lower() with the same offsets (U+0130 is the one character that lengthens)."""
    if "\u0130" in text:
        text = text.replace("\u0130", "i")
    return text.lower()


def byte_table(mapping: dict[int, int], default: int | None = None) -> bytes:
    """A bytes.translate table: `mapping` for the bytes it names, else `default` (or the byte)."""
    return bytes(mapping.get(b, b if default is None else default) for b in range(256))


def _lower_table(codec: str) -> bytes:
    """Each byte of a one-byte codec to the byte of its character's lower case (str.lower)."""
    table = {}
    for b in range(256):
        try:
            char = bytes([b]).decode(codec)
        except UnicodeDecodeError:
            continue  # an unassigned byte: encoding never makes it
        lower = char.lower().encode(codec)
        if len(lower) != 1:
            raise ValueError(f"{char!r} does not lower-case to one character")
        table[b] = lower[0]
    return byte_table(table)


_LOWER = {codec: _lower_table(codec) for codec in _CODECS}


@dataclass(frozen=True, slots=True)
class TextViews:
    """A text, its lower-cased copy (same offsets), and both as one byte per character."""

    text: str
    low: str
    encoded: bytes  # text in Latin-1 or Windows-1252, every other character as "?"
    low_encoded: bytes  # low, one byte per character; only its ASCII bytes are read

    @classmethod
    def of(cls, text: str) -> TextViews:
        for codec in _CODECS:
            try:
                encoded = text.encode(codec)
            except UnicodeEncodeError:
                continue
            low_encoded = encoded.translate(_LOWER[codec])
            return cls(text, low_encoded.decode(codec), encoded, low_encoded)
        low = lower_same_length(text)
        return cls(text, low, text.encode("latin-1", "replace"), low.encode("latin-1", "replace"))
