"""Charset labels as mail clients and browsers read them: one alias table for headers and bodies.

Mail declares charsets the way the sender's software named them, and the sender's software
usually meant a superset (the WHATWG Encoding Standard, which every browser and most mail
clients follow): ISO-8859-1 and US-ASCII mean windows-1252, GB2312/GBK mean GB18030,
Shift_JIS means cp932, EUC-KR and ks_c_5601-1987 mean cp949, Big5 means Big5-HKSCS,
ISO-8859-9 means windows-1254, TIS-620 and ISO-8859-11 mean windows-874, and
ISO-2022-JP is decoded with Microsoft's extensions (CP50220: NEC and IBM rows, half-width
katakana; `ingest.parse.iso2022jp`). `resolve_charset` maps any label, however broken, to
a Python codec or None ("guess"); it never raises.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

from ingest.parse.iso2022jp import CODEC_NAME as ISO2022JP_MS

__all__ = ["ISO2022JP_MS", "is_misnamed", "resolve_charset"]

#: WHATWG labels (https://encoding.spec.whatwg.org/#names-and-labels) whose decoder is wider
#: than, or unknown to, Python's codec of the same name, plus labels seen in real mail.
_ALIASES = {
    **dict.fromkeys(
        (
            "unicode-1-1-utf-8",
            "unicode11utf8",
            "unicode20utf8",
            "utf8",
            "x-unicode20utf8",
            "uft-8",
            "utf-8-sig",
        ),
        "utf-8",
    ),
    **dict.fromkeys(("unicode-1-1-utf-7", "x-unicode-2-0-utf-7", "utf7"), "utf-7"),
    **dict.fromkeys(
        (
            "ansi_x3.4-1968",
            "ascii",
            "us-ascii",
            "cp819",
            "csisolatin1",
            "ibm819",
            "iso-ir-100",
            "l1",
            "latin1",
            "latin-1",
            "x-cp1252",
            "us",
            "iso646-us",
            "csascii",
        ),
        "cp1252",
    ),
    **dict.fromkeys(("csisolatin5", "iso-ir-148", "l5", "latin5", "x-cp1254"), "cp1254"),
    **dict.fromkeys(("dos-874", "tis-620", "windows-874", "tis620"), "cp874"),
    **dict.fromkeys(("csiso88598i", "logical", "visual", "csiso88598e"), "iso8859_8"),
    **dict.fromkeys(("csiso88596e", "csiso88596i"), "iso8859_6"),
    **dict.fromkeys(("koi", "koi8", "cskoi8r"), "koi8_r"),
    "koi8-ru": "koi8_u",
    **dict.fromkeys(("csmacintosh", "mac", "macintosh", "x-mac-roman"), "mac_roman"),
    **dict.fromkeys(("x-mac-cyrillic", "x-mac-ukrainian"), "mac_cyrillic"),
    **dict.fromkeys(
        (
            "chinese",
            "csgb2312",
            "csiso58gb231280",
            "gb2312",
            "gb_2312",
            "gb_2312-80",
            "gbk",
            "iso-ir-58",
            "x-gbk",
            "euc-cn",
            "cp936",
            "ms936",
            "windows-936",
            "gb18030",
        ),
        "gb18030",
    ),
    **dict.fromkeys(("big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"), "big5hkscs"),
    **dict.fromkeys(("cseucpkdfmtjapanese", "x-euc-jp", "x-euc"), "euc_jp"),
    **dict.fromkeys(
        (
            "csiso2022jp",
            "iso-2022-jp",
            "iso2022-jp",
            "iso_2022_jp",
            "cp50220",
            "cp50221",
            "cp50222",
            "iso-2022-jp-ms",
            "iso-2022-jp-1",
            "iso-2022-jp-ext",
        ),
        ISO2022JP_MS,
    ),
    **dict.fromkeys(
        (
            "csshiftjis",
            "ms932",
            "ms_kanji",
            "shift-jis",
            "shift_jis",
            "sjis",
            "windows-31j",
            "x-sjis",
            "x-ms-cp932",
            "cp943",
            "cp943c",
        ),
        "cp932",
    ),
    **dict.fromkeys(
        (
            "cseuckr",
            "csksc56011987",
            "euc-kr",
            "iso-ir-149",
            "korean",
            "ks_c_5601-1987",
            "ks_c_5601-1989",
            "ksc5601",
            "ksc_5601",
            "ks_c_5601",
            "windows-949",
            "x-windows-949",
            "uhc",
        ),
        "cp949",
    ),
    **dict.fromkeys(("unicodefffe",), "utf-16-be"),
    **dict.fromkeys(("csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff"), "utf-16"),
}
#: Python codec names (after `codecs.lookup`) whose WHATWG decoder is wider.
_WIDER = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "iso2022_jp": ISO2022JP_MS,
    "iso2022_jp_1": ISO2022JP_MS,
    "iso2022_jp_ext": ISO2022JP_MS,
}
#: Labels that are not standard names for what they mean (noted as defects when used).
_MISNAMED = frozenset(
    {"uft-8", "unicode-1-1-utf-8", "x-unicode20utf8", "unicode-1-1-utf-7", "x-unicode-2-0-utf-7"}
)
#: Labels that mean "the sender did not know": decode by guessing, without a note.
_UNKNOWN = frozenset(
    {"", "x-unknown", "unknown", "unknown-8bit", "x-user-defined", "default", "none", "8bit"}
)
#: Python codecs that are not charsets a mail can honestly be in (they would interpret text).
_REFUSED = frozenset(
    {"undefined", "idna", "punycode", "unicode_escape", "raw_unicode_escape", "mbcs", "oem",
     "charmap", "string_escape", "palmos"}
)  # fmt: skip
#: iso-8859-N (any spelling) and windows-125N (any spelling) as one family each.
_ISO_8859 = re.compile(r"iso[-_ ]?8859[-_ ]?(\d{1,2})(?:[-_:].*)?|iso8859(\d{1,2})")
_WINDOWS = re.compile(r"(?:windows|win|x-cp|cp|ms)[-_ ]?(125\d|874)")
#: WHATWG decoders for iso-8859-N that are wider than Python's codec of that name.
_ISO_WIDER = {"1": "cp1252", "9": "cp1254", "11": "cp874"}


def is_misnamed(label: str | None) -> bool:
    """True for labels that are a known but non-standard name (worth a note when used)."""
    return bool(label) and _clean(label or "") in _MISNAMED


def _clean(label: str) -> str:
    name = "".join(label.split()).strip("\"'").lower()
    return name.split("*", 1)[0] if "*" in name else name  # RFC 2231 language: utf-8*en


@lru_cache(maxsize=512)
def resolve_charset(label: str | None) -> str | None:
    """A declared charset label as a Python codec name, or None for "guess" (no label, an
    "unknown" label, or one Python cannot use as a text charset). Never raises."""
    if label is None:
        return None
    name = _clean(label)
    if name in _UNKNOWN or "\x00" in name or not name.isprintable() or len(name) > 60:
        return None
    name = _ALIASES.get(name, name)
    iso = _ISO_8859.fullmatch(name)
    if iso:
        number = iso.group(1) or iso.group(2)
        name = _ISO_WIDER.get(number, f"iso8859_{number}")
    windows = _WINDOWS.fullmatch(name)
    if windows:
        name = f"cp{windows.group(1)}"
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if info.name.replace("-", "_") in _REFUSED or not getattr(info, "_is_text_encoding", True):
        return None
    try:  # a codec that cannot decode even one byte with "replace" is no charset
        codecs.decode(b"a", info.name, "replace")
    except (LookupError, ValueError, TypeError, UnicodeError):
        return None
    return _WIDER.get(info.name, info.name)
