"""ISO-2022-JP as Microsoft writes it (CP50220/CP50221/CP50222), registered as a codec.

Outlook and many Japanese phones label mail ISO-2022-JP but use Microsoft's extensions:
NEC special characters (circled numbers, row 13), the NEC-selected IBM extensions
(rows 89-92), half-width katakana (`ESC ( I` or SO/SI). Python's `iso2022_jp*` codecs reject
them. This decoder turns every JIS X 0208 pair into its Shift_JIS bytes and decodes those
as cp932, which holds all of Microsoft's additions; JIS X 0212 (`ESC $ ( D`), GB 2312
(`ESC $ A`) and KS C 5601 (`ESC $ ( C`) segments are decoded through their EUC forms.
Decoding only: encoding uses Python's `iso2022_jp_ext`.
"""

from __future__ import annotations

import codecs

__all__ = ["CODEC_NAME", "decode"]

CODEC_NAME = "iso2022_jp_ms"

_ESC = 0x1B
_SO, _SI = 0x0E, 0x0F
#: Escape sequence -> (mode, bytes consumed). Modes: ascii, jis (JIS X 0208 -> cp932),
#: kana (half-width katakana), and EUC codecs for the rarer sets.
_ESCAPES = {
    b"\x1b(B": "ascii",
    b"\x1b(J": "ascii",
    b"\x1b(H": "ascii",
    b"\x1b(I": "kana",
    b"\x1b$@": "jis",
    b"\x1b$B": "jis",
    b"\x1b$(B": "jis",
    b"\x1b$(Q": "jis",
    b"\x1b$(O": "jis",
    b"\x1b$(D": "euc_jp_0212",
    b"\x1b$A": "gb2312",
    b"\x1b$(C": "euc_kr",
    b"\x1b.A": "ascii",
    b"\x1b.F": "ascii",
    b"\x1bN": "ascii",
}


def _sjis(first: int, second: int) -> bytes:
    """The Shift_JIS bytes of one JIS X 0208 pair (both 0x21-0x7E)."""
    lead = ((first - 0x21) >> 1) + 0x81
    if lead > 0x9F:
        lead += 0x40
    trail = second + 0x1F + (second >= 0x60) if first & 1 else second + 0x7E
    return bytes((lead, trail))


def decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
    """Decode ISO-2022-JP bytes with Microsoft's extensions; `errors` as for `bytes.decode`."""
    data = bytes(data)
    out: list[str] = []
    run = bytearray()  # cp932 bytes not yet decoded
    mode = "ascii"
    shifted = False  # between SO and SI: half-width katakana
    pos, end = 0, len(data)
    while pos < end:
        byte = data[pos]
        if byte == _ESC:
            for sequence, new_mode in _ESCAPES.items():
                if data.startswith(sequence, pos):
                    mode, pos = new_mode, pos + len(sequence)
                    break
            else:
                run.append(byte)  # an unknown escape stays visible (and fails if strict)
                pos += 1
            continue
        if byte == _SO:
            shifted, pos = True, pos + 1
            continue
        if byte == _SI:
            shifted, pos = False, pos + 1
            continue
        if byte >= 0x80:  # not in a 7-bit charset
            if errors == "strict":
                raise UnicodeDecodeError(CODEC_NAME, data, pos, pos + 1, "8-bit byte")
            out.append(run.decode("cp932", errors) + ("" if errors == "ignore" else "\ufffd"))
            run.clear()
            pos += 1
            continue
        if byte in (0x0A, 0x0D):
            run.append(byte)  # line ends pass through in every mode
            pos += 1
            continue
        if shifted or mode == "kana":
            run.append(byte | 0x80 if 0x21 <= byte <= 0x5F else byte)
            pos += 1
        elif mode == "ascii" or byte <= 0x20 or pos + 1 >= end:
            run.append(byte)
            pos += 1
        elif mode == "jis":
            second = data[pos + 1]
            run += _sjis(byte, second) if 0x21 <= second <= 0x7E else data[pos : pos + 2]
            pos += 2
        else:
            out.append(run.decode("cp932", errors))
            run.clear()
            pair = bytes((byte | 0x80, data[pos + 1] | 0x80))
            codec = "euc_jp" if mode == "euc_jp_0212" else mode
            out.append((b"\x8f" + pair if mode == "euc_jp_0212" else pair).decode(codec, errors))
            pos += 2
    out.append(run.decode("cp932", errors))
    return "".join(out), end


def _search(name: str) -> codecs.CodecInfo | None:
    if name.replace("-", "_") != CODEC_NAME:
        return None
    base = codecs.lookup("iso2022_jp_ext")
    return codecs.CodecInfo(
        name=CODEC_NAME,
        encode=base.encode,
        decode=decode,  # type: ignore[arg-type]
        incrementalencoder=base.incrementalencoder,
        streamwriter=base.streamwriter,
    )


codecs.register(_search)
