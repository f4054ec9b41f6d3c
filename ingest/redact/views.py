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

Latin-1 is tried first: encoding and decoding it is a copy. Western mail that is not all
Latin-1 usually holds few characters outside it (the euro sign, curly quotes), and the
Windows-1252 codec encodes and decodes every character through a table (10 MB: 0.1 s).
Such a text is encoded as Latin-1 with "?" for them instead, they are written into the
bytes afterwards, and the lower-cased copy is decoded as Latin-1 with them put back: the
views are the ones the codec makes, at a third of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

_CODECS = ("latin-1", "cp1252")


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

# The Windows-1252 characters outside Latin-1 (bytes 0x80-0x9f) and their bytes.
_CP1252_EXTRA = {
    char: b for b in range(0x80, 0xA0) if (char := bytes([b]).decode("cp1252", "ignore"))
}
_NOT_C1 = bytes(b for b in range(256) if not 0x80 <= b < 0xA0)  # deleted, leaves C1 bytes
_FEW_PER = 256
"""At most one "?" per _FEW_PER characters (and 64 more) in the Latin-1 copy of a text for
it to be patched: each costs a few Python steps, which stays below the codec's cost."""


@dataclass(frozen=True, slots=True)
class TextViews:
    """A text, its lower-cased copy (same offsets), and both as one byte per character."""

    text: str
    low: str
    encoded: bytes  # text in Latin-1 or Windows-1252, every other character as "?"
    low_encoded: bytes  # low, one byte per character; only its ASCII bytes are read

    @classmethod
    def of(cls, text: str) -> TextViews:
        try:
            encoded = text.encode("latin-1")
        except UnicodeEncodeError:
            pass
        else:
            low_encoded = encoded.translate(_LOWER["latin-1"])
            return cls(text, low_encoded.decode("latin-1"), encoded, low_encoded)
        if (views := cls._western(text)) is not None:
            return views
        try:
            encoded = text.encode("cp1252")
        except UnicodeEncodeError:
            low = lower_same_length(text)
            latin = text.encode("latin-1", "replace")
            return cls(text, low, latin, low.encode("latin-1", "replace"))
        low_encoded = encoded.translate(_LOWER["cp1252"])
        return cls(text, low_encoded.decode("cp1252"), encoded, low_encoded)

    @classmethod
    def _western(cls, text: str) -> TextViews | None:
        """The views of a text outside Latin-1 that Windows-1252 encodes, when it holds few
        characters outside Latin-1, exactly as the codec makes them; else None.

        Encoding as Latin-1 turns each character outside it into "?"; where the text has
        no "?" these are put right in the bytes, and decoding the lower-cased bytes as
        Latin-1 gives a C1 control character (U+0080-U+009F) for each of them, replaced
        afterwards. A text with a C1 character of its own is not Windows-1252, as the codec
        says (and it would be replaced too)."""
        encoded = text.encode("latin-1", "replace")
        if encoded.count(b"?") > 64 + len(text) // _FEW_PER or encoded.translate(None, _NOT_C1):
            return None
        found: set[str] = set()
        patched = bytearray(encoded)
        pos = encoded.find(b"?")
        while pos >= 0:
            char = text[pos]
            if char != "?":
                byte = _CP1252_EXTRA.get(char)
                if byte is None:
                    return None  # outside Windows-1252 too
                patched[pos] = byte
                found.add(char)
            pos = encoded.find(b"?", pos + 1)
        encoded = bytes(patched)
        low_encoded = encoded.translate(_LOWER["cp1252"])
        low = low_encoded.decode("latin-1")  # a C1 character where each of `found` is
        for lower in {char.lower() for char in found} & _CP1252_EXTRA.keys():  # not "Ÿ" -> "ÿ"
            low = low.replace(chr(_CP1252_EXTRA[lower]), lower)
        return cls(text, low, encoded, low_encoded)
