"""Guess the charset of 8-bit text that declares none (or a wrong one) and is not UTF-8.

Used for raw 8-bit header values (legacy clients write Latin-1, Shift_JIS or GB2312 into
Subject, From and file names without encoded words) and for 8-bit bodies without a
charset. Order of evidence:

0. Cyrillic: KOI8-R or windows-1251 when every word comes out as a Cyrillic word in one
   case (GB2312 reads KOI8-R letters as valid hanzi, so this goes first).
1. East Asian double-byte text: each candidate (cp932, GB18030, cp949, Big5-HKSCS, EUC-JP)
   that decodes strictly is scored by how many of its characters lie in that charset's
   common block (kana and level-1 kanji, level-1 hanzi, the 2,350 common hangul), ties
   broken by the language's most frequent characters. Short header values are too short
   for statistical detectors; this block test is not. Latin-1 accents rarely decode
   strictly as double-byte text, and never into common blocks.
2. Western text: non-ASCII bytes are a few accents between ASCII letters -> windows-1252.
3. Longer single-byte text (Cyrillic, Greek, Hebrew...): charset-normalizer.
4. Short single-byte text: KOI8-R / windows-1251 by where the lowercase letters fall.
`guess_codec` always answers with a codec that decodes the data strictly, else "cp1252"
(and the caller's last resort, latin-1, never fails).
"""

from __future__ import annotations

import codecs
import re
from functools import cache

__all__ = ["guess_codec", "looks_western"]

#: (codec, common byte ranges of its double-byte characters as (lead range, trail range)).
_CJK: tuple[tuple[str, tuple[tuple[int, int, int, int], ...]], ...] = (
    # Shift_JIS/cp932: symbols and kana rows, level-1 kanji (0x889F-0x9872).
    ("cp932", ((0x81, 0x83, 0x40, 0xFC), (0x88, 0x98, 0x40, 0xFC))),
    # GB2312: symbols and punctuation; level-1 hanzi (rows 16-55).
    ("gb18030", ((0xA1, 0xA3, 0xA1, 0xFE), (0xB0, 0xD7, 0xA1, 0xFE))),
    # KS X 1001: symbols; the 2,350 common hangul syllables (rows 16-40).
    ("cp949", ((0xA1, 0xA3, 0xA1, 0xFE), (0xB0, 0xC8, 0xA1, 0xFE))),
    # Big5: symbols; level-1 hanzi (0xA440-0xC67E).
    ("big5hkscs", ((0xA1, 0xA3, 0x40, 0xFE), (0xA4, 0xC6, 0x40, 0xFE))),
    # EUC-JP: symbols, hiragana, katakana rows; level-1 kanji (rows 16-47).
    ("euc_jp", ((0xA1, 0xA5, 0xA1, 0xFE), (0xB0, 0xCF, 0xA1, 0xFE))),
)
_KANA = frozenset(chr(c) for c in range(0x3041, 0x30FB))


@cache
def _frequent(codec: str) -> frozenset[str]:
    """The most frequent characters of `codec`'s language (charset-normalizer's tables),
    which break ties between codecs whose common blocks overlap (GB2312, EUC-KR, EUC-JP).
    Imported on first use: charset-normalizer takes 25 ms to import."""
    from charset_normalizer.constant import FREQUENCIES  # noqa: PLC0415

    language = {"cp932": "Japanese", "euc_jp": "Japanese", "cp949": "Korean"}.get(codec, "Chinese")
    extra = _KANA if language == "Japanese" else frozenset()
    return frozenset(FREQUENCIES[language]) | extra


#: Single-byte charsets charset-normalizer may choose from (East Asian ones are handled above).
_SINGLE_BYTE = ["cp1251", "koi8_r", "koi8_u", "cp1250", "cp1253", "cp1254", "cp1255",
                "cp1256", "cp1257", "cp874", "iso8859_2", "iso8859_5", "iso8859_7", "cp866",
                "mac_cyrillic"]  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]+")
#: Fewer non-ASCII bytes than this are too little for charset-normalizer.
_STATISTICS_FROM = 24
#: Detection reads at most this much of a long body.
_SAMPLE = 16 * 1024
#: The double-byte test reads at most this much (it looks at every character).
_CJK_SAMPLE = 4 * 1024


def looks_western(data: bytes) -> bool:
    """True when the non-ASCII bytes are accents among ASCII letters (German, French...):
    single bytes or pairs, never outnumbering the ASCII letters twice over."""
    high = sum(1 for byte in data if byte > 0x7F)
    letters = sum(1 for byte in data if 0x41 <= (byte & 0xDF) <= 0x5A)
    return high <= 2 * letters and _longest_high_run(data) <= 2


def _longest_high_run(data: bytes) -> int:
    longest = run = 0
    for byte in data:
        run = run + 1 if byte > 0x7F else 0
        longest = max(longest, run)
    return longest


def guess_codec(data: bytes) -> str:
    """A codec for unlabelled 8-bit `data` that is not UTF-8 (see the module docstring)."""
    sample = data[:_SAMPLE]
    cyrillic = _plausible_cyrillic(sample)
    if cyrillic is not None:
        return cyrillic
    cjk = _best_cjk(sample[:_CJK_SAMPLE])
    if cjk is not None:
        return cjk
    if looks_western(sample):
        return _strict("cp1252", sample) or "latin-1"
    if sum(1 for byte in sample if byte > 0x7F) >= _STATISTICS_FROM:
        from charset_normalizer import from_bytes  # noqa: PLC0415 - 25 ms, rarely needed

        best = from_bytes(sample, cp_isolation=_SINGLE_BYTE).best()
        if best is not None and _strict(best.encoding, sample):
            return best.encoding
    high = sum(1 for byte in sample if byte >= 0xC0)
    if high * 2 > sum(1 for byte in sample if byte > 0x7F):
        koi_lower = sum(1 for byte in sample if 0xC0 <= byte <= 0xDF)
        return "koi8_r" if koi_lower * 2 > high else _strict("cp1251", sample) or "koi8_r"
    return _strict("cp1252", sample) or "latin-1"


def _prefix_text(codec: str, data: bytes) -> str:
    """`data` decoded strictly, except that a character cut off at the end (the data is a
    sample of a longer text) is left out; raises UnicodeDecodeError."""
    return codecs.getincrementaldecoder(codec)().decode(data, final=False)


def _strict(codec: str, data: bytes) -> str | None:
    try:
        _prefix_text(codec, data)
    except (UnicodeDecodeError, LookupError):
        return None
    return codec


def _plausible_cyrillic(data: bytes) -> str | None:
    """KOI8-R or windows-1251 when that decoding gives only Cyrillic words written in one
    case (lower, Title or UPPER): double-byte text read that way mixes cases and symbols."""
    for codec in ("koi8_r", "cp1251"):
        text = data.decode(codec, "replace")
        words = _WORD.findall(text)
        if not words or any(not char.isascii() for char in _WORD.sub("", text)):
            continue
        if all(
            word.isascii()
            or (_CYRILLIC.fullmatch(word) and (word.islower() or word.isupper() or word.istitle()))
            for word in words
        ):
            return codec
    return None


def _best_cjk(data: bytes) -> str | None:
    """The East Asian codec whose decoding has the largest share of common characters."""
    best, best_score = None, 0.6  # below this share, the text is not double-byte text
    for codec, blocks in _CJK:
        try:
            text = _prefix_text(codec, data)
        except UnicodeDecodeError:
            continue
        wide = [char for char in text if not char.isascii()]
        if not wide:
            continue
        common, frequent = 0, _frequent(codec)
        for char in wide:
            encoded = char.encode(codec, "replace")
            if len(encoded) == 2 and any(
                lo <= encoded[0] <= hi and tlo <= encoded[1] <= thi for lo, hi, tlo, thi in blocks
            ):
                common += 1
        score = (common + sum(0.5 for char in wide if char in frequent)) / len(wide)
        if score > best_score:
            best, best_score = codec, score
    return best
