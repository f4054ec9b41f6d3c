"""Judging a candidate value: where it ends, whether it looks like a secret.

Detectors find a keyword and a separator; these helpers take the value that follows and
decide whether it is a real secret or ordinary text ("password: reset", "token: SUP-1042").
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

_OPEN_TO_CLOSE = {'"': '"', "'": "'", "`": "`", "„": "“", "“": "”", "«": "»", "‘": "’", "‚": "‘"}
_TOKEN = re.compile(r"[^\s<>]{1,128}")
# "=" only as base64 padding at the end: in "key=token=secret=..." the value after "key=" is
# "token", not the rest of the run (each keyword hit would read it all again: issue 20).
_GENERIC = re.compile(r"[A-Za-z0-9+/_\-.~%]{8,8192}={0,3}")
_JUDGED = 512
"""A value is judged on its first _JUDGED characters (a key is shorter; the span is whole)."""
_MARKER_AHEAD = re.compile(r"\[[a-z0-9 _-]{1,40} removed\]")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")
_MASKED = frozenset("*•●·xX.-_#")
_TRAIL = ".,;:)]}>\"'`“”»’"
_WORDS_IN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")

STOPWORDS: frozenset[str] = frozenset(
    [
        "reset",
        "forgotten",
        "forgot",
        "vergessen",
        "oublié",
        "olvidada",
        "olvidé",
        "olvidado",
        "expired",
        "abgelaufen",
        "expiré",
        "expirado",
        "caducado",
        "required",
        "erforderlich",
        "requis",
        "obligatorio",
        "incorrect",
        "falsch",
        "incorrecto",
        "invalid",
        "ungültig",
        "invalide",
        "inválido",
        "wrong",
        "changed",
        "geändert",
        "changé",
        "cambiado",
        "none",
        "n/a",
        "na",
        "null",
        "nil",
        "empty",
        "leer",
        "vide",
        "vacío",
        "hidden",
        "redacted",
        "same",
        "unchanged",
        "unknown",
        "unbekannt",
        "inconnu",
        "desconocido",
        "protected",
        "geschützt",
        "protégé",
        "protegido",
        "the",
        "my",
        "your",
        "our",
        "is",
        "was",
        "not",
        "no",
        "yes",
        "ja",
        "oui",
        "sí",
        "see",
        "siehe",
        "voir",
        "ver",
        "below",
        "unten",
        "ci-dessous",
        "abajo",
        "above",
        "oben",
        "attached",
        "anbei",
        "ci-joint",
        "adjunto",
        "sent",
        "gesendet",
        "envoyé",
        "enviado",
        "please",
        "bitte",
        "svp",
        "change",
        "ändern",
        "changer",
        "cambiar",
        "manager",
        "policy",
        "field",
        "feld",
        "champ",
        "campo",
        "login",
        "removed",
        "nothing",
        "nichts",
        "rien",
        "nada",
        "niente",
        "niets",
        "inget",
        "nic",
        "entfernt",
        "supprimé",
        "eliminado",
    ]
)
"""Values that are words about a password, not a password."""


def quoted_value(text: str, pos: int) -> tuple[int, int] | None:
    """(start, end) of a quoted value opening at text[pos], or None."""
    if pos >= len(text):
        return None
    close = _OPEN_TO_CLOSE.get(text[pos])
    if close is None:
        return None
    end = text.find(close, pos + 1, pos + 130)
    if end <= pos + 1 or "\n" in text[pos + 1 : end]:
        return None
    return pos + 1, end


def token_value(text: str, pos: int) -> tuple[int, int] | None:
    """(start, end) of the whitespace-delimited value at pos, trailing punctuation dropped."""
    m = _TOKEN.match(text, pos)
    if m is None:
        return None
    end = m.end()
    while end > pos and text[end - 1] in _TRAIL:
        end -= 1
    return (pos, end) if end > pos else None


def generic_value(text: str, pos: int) -> tuple[int, int] | None:
    """(start, end) of a key/token-shaped value at pos (base64, hex, url-safe characters)."""
    if pos < len(text) and text[pos] in "\"'`":
        pos += 1
    m = _GENERIC.match(text, pos)
    if m is None:
        return None
    end = m.end()
    while end > pos and text[end - 1] in ".-~":
        end -= 1
    return pos, end


def is_marker_at(text: str, pos: int) -> bool:
    """True when a redaction marker already starts at pos (redacting twice changes nothing)."""
    return text.startswith("[", pos) and _MARKER_AHEAD.match(text, pos) is not None


def is_masked(value: str) -> bool:
    """True for values that are already masked (`****`, `xxxx`, `•••`)."""
    return all(ch in _MASKED for ch in value)


def is_url(value: str) -> bool:
    """True for values that are links, not secrets."""
    low = value[:8].lower()
    return low.startswith(("http://", "https://", "www.", "mailto:"))


def is_uuid(value: str) -> bool:
    """True for a canonical UUID."""
    return _UUID.match(value) is not None


def char_classes(value: str) -> int:
    """How many of lower case, upper case, digits and symbols appear in value."""
    lower = upper = digit = other = 0
    for ch in value:
        if ch.islower():
            lower = 1
        elif ch.isupper():
            upper = 1
        elif ch.isdigit():
            digit = 1
        else:
            other = 1
    return lower + upper + digit + other


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(value)
    if n == 0:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def looks_like_password(value: str) -> bool:
    """A value that reads like a chosen password rather than a word of prose."""
    if len(value) < 4 or is_url(value) or is_masked(value):
        return False
    if value.lower() in STOPWORDS:
        return False
    has_digit = any(ch.isdigit() for ch in value)
    has_alpha = any(ch.isalpha() for ch in value)
    has_symbol = any(not ch.isalnum() for ch in value)
    inner_upper = any(ch.isupper() for ch in value[1:])
    if has_digit and not has_alpha and not has_symbol:
        return len(value) >= 6
    return has_digit or has_symbol or (inner_upper and any(ch.islower() for ch in value))


def _reads_as_words(value: str) -> bool:
    """camelCase or dotted identifiers (bucketInfo.getKeys): words, not random characters."""
    if any(ch.isdigit() for ch in value):
        return False
    words = _WORDS_IN.findall(value)
    upper, lower = sum(map(str.isupper, value)), sum(map(str.islower, value))
    if lower and 3 * upper > 2 * lower:
        return False  # "AgAAAAEBlabcACDF": mixed case with this many capitals is base64
    return bool(words) and sum(map(len, words)) / len(words) >= 4


def looks_like_key(value: str, *, strict: bool) -> bool:
    """A random-looking key or token (high entropy, several character classes)."""
    value = value[:_JUDGED]
    n = len(value)
    if n < (20 if strict else 16) or "://" in value or is_masked(value):
        return False
    if is_uuid(value):
        return not strict
    classes = char_classes(value)
    if classes < 2 or _reads_as_words(value):
        return False
    threshold = 3.0 if n < 32 else 3.3
    if classes == 2 and not any(ch.isupper() for ch in value):
        # hex or lower+digit: commit hashes and checksums look like this; ask for length
        return not strict and n >= 20 and entropy(value) >= threshold
    return entropy(value) >= threshold


# Values that a "set it to X" sentence names without being a password: versions (v2.3.1,
# TLS1.2), sizes and durations (512MB, 30s), locales and encodings (en_US.UTF-8), host and
# file names (mail.example.com, config.yaml), paths, references (ORD-123456, TCK-227659).
_NOT_A_PASSWORD = re.compile(
    r"v?\d+(?:[.\-_]\d+)+[a-z]?|[a-z]{1,8}[ \-_]?v?\d+(?:\.\d+)+|"
    r"\d+(?:[.,]\d+)?\s?(?:[kmgt]i?b|bytes?|ms|s|sec|secs|min|mins|h|hrs?|days?|px|pt|em|%|x\d+)|"
    r"[a-z]{2,3}[_\-][a-z]{2}(?:\.[a-z0-9\-]{3,12})?|utf-?(?:8|16|32)|iso-?8859-?\d{1,2}|"
    r"(?:[a-z0-9\-]{1,63}\.){1,4}(?:com|net|org|io|de|fr|es|it|nl|se|pl|uk|eu|info|biz|dev|app|"
    r"local|lan|internal|txt|log|csv|json|yaml|yml|xml|ini|conf|cfg|html|php|py|js|pdf|zip)|"
    r"(?-i:[A-Z]{1,6}[\-_#]?\d{3,12})|[a-z]{1,6}[\-#]\d{3,12}|[a-z]{1,6}\d?[+\-]\d{1,2}(?::\d\d)?|"
    r"[a-z]{2,6}/\d(?:\.\d)?",
    re.I,
)


def _case_turns(value: str) -> int:
    """How often a lower-case letter is followed by an upper-case one (PostgreSQL: 1)."""
    return sum(1 for a, b in itertools.pairwise(value) if a.islower() and b.isupper())


def looks_like_told_password(value: str) -> bool:
    """A value that a sentence with no password keyword ("I reset it to X") may name as
    the password: longer than a word of settings, with a digit, a symbol or the case
    changes of random text, and none of the shapes of versions, sizes, locales, host or
    file names, paths, e-mail addresses or references."""
    if len(value) < 6 or len(value) > 128 or not any(ch.isalpha() for ch in value):
        return False
    if not looks_like_password(value) or value[0] in "/~\\" or "://" in value:
        return False
    if "@" in value and "." in value.split("@", 1)[1]:
        return False  # an e-mail address
    if _NOT_A_PASSWORD.fullmatch(value):
        return False
    if value.isalpha():
        return _case_turns(value) >= 2
    return True
