"""Passwords told in sentences rather than after a label, and in command lines.

"I reset it to violet harbor canyon pencil" (a passphrase of plain words), "I changed it
from Sunny2023 to Rainy2024!" (both values), "my password ... so I set it to Xy7!", and
`curl -u user:pass`. The sentence forms are read only near a password keyword (the keyword
handler calls `later_password` with a bounded window), so "I set it to Tuesday" elsewhere
stays. Every read is anchored at a given offset and bounded.
"""

from __future__ import annotations

import re

from ingest.redact.model import Span
from ingest.redact.told_words import CLAUSE_ENDS, FUNCTION_WORDS, HOST_ENDINGS, SETTING_WORDS
from ingest.redact.values import (
    STOPWORDS,
    is_masked,
    is_url,
    looks_like_password,
    looks_like_told_password,
)

# A passphrase: three to six plain words joined by one kind of separator, ending the clause:
# at a punctuation mark, a word that ends it ("but it fails") or a capital that starts the
# next sentence ("... velvet Betrifft"). Callers ask for how many words.
_WORD = "[a-zà-öø-ÿA-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]{2,11}"
_PASSPHRASE = re.compile(
    rf"{_WORD}(?P<sep>[ \u00a0\-._]){_WORD}(?:(?P=sep){_WORD}){{1,4}}"
    r"(?=[ \t\u00a0]*(?:[.,;:!?()\"'\r\n<]|\Z|[ \t\u00a0]-)|[ \t\u00a0]+[A-ZÀ-ÖØ-Þ]"
    rf"|[ \t\u00a0]+(?i:{'|'.join(sorted(CLAUSE_ENDS, key=len, reverse=True))})(?![a-zà-ÿ]))"
)
_PROSE_ENDINGS = ("ing", "ly", "ed")
# Sentences that set a password: "reset it to X", "changed it from X to Y", "set it to X".
_SET_IT = re.compile(
    r"(?:re-?set|changed?|set|updated?|switched|made|chose|picked|use[ds]?|using|went\s+with)"
    r"\s+(?:it|this|that|mine|my\s+password|the\s+password|the\s+new\s+one|a\s+new\s+one)"
    r"(?:\s+back)?(?:\s+from\s+(?P<old>\S{1,128}))?\s+(?:to|as)(?:\s+>)*\s+(?:be\s+)?"
)
_FROM_TO = re.compile(r"\s+from\s+(?P<old>\S{1,128})\s+to\s+")
_PHRASE_MAX = 100
_TO = re.compile(r" (?:to|as)\s")
_NEAR = 300  # how far after a password keyword a "set it to" sentence is read
_TRAIL = ".,;:)]}>\"'`“”»’!?"
_CURL_USER = re.compile(
    r"(?:-u|--user)(?:\s+|=)[\"']?(?P<user>[^\s:\"']{1,64}):(?P<pw>[^\s\"']{1,128})"
)


def _value_end(text: str, start: int) -> int:
    """End of the whitespace-delimited value at `start`, trailing punctuation dropped."""
    end = start
    limit = min(len(text), start + 128)
    while end < limit and not text[end].isspace():
        end += 1
    while end > start and text[end - 1] in _TRAIL:
        end -= 1
    return end


def passphrase_at(text: str, pos: int, min_words: int = 4, *, told: bool = False) -> int:
    """End of a passphrase of `min_words` to six plain words at `pos`, or -1.

    `told`: the sentence has no password keyword ("I set it to X"), so words that name a
    setting ("read only mode") or read as prose ("showing error messages") are no passphrase.
    """
    if pos >= len(text) or not text[pos].isalpha():
        return -1
    window = text[pos : pos + _PHRASE_MAX]
    m = _PASSPHRASE.match(window)
    if m is None or (m.end() == len(window) and pos + len(window) < len(text)):
        return -1
    sep = m.group("sep")
    words = m.group().lower().split(sep)
    prose = [i for i, w in enumerate(words) if w in FUNCTION_WORDS or w in STOPWORDS]
    if prose:  # "tortuga lámpara cebolla pero sigue igual": the phrase ends at "pero"
        if sep not in " \u00a0" or words[prose[0]] not in CLAUSE_ENDS:
            return -1
        words = words[: prose[0]]
    if len(words) < min_words:
        return -1
    if m.group("sep") == "." and words[-1] in HOST_ENDINGS:
        return -1  # a host or file name
    if told and (any(w in SETTING_WORDS for w in words) or words[0].endswith(_PROSE_ENDINGS)):
        return -1
    return pos + len(sep.join(m.group().split(sep)[: len(words)]))


def _password_like(value: str) -> bool:
    if len(value) < 4 or is_url(value) or is_masked(value) or value.lower() in STOPWORDS:
        return False
    return looks_like_password(value)


def value_after_to(text: str, low: str, pos: int) -> tuple[int, int] | None:
    """The password after "... to ": a passphrase or a password-like token."""
    end = passphrase_at(text, pos, 3)
    if end > 0:
        return pos, end
    end = _value_end(text, pos)
    if end > pos and _password_like(text[pos:end]):
        return pos, end
    return None


def from_to(text: str, low: str, pos: int) -> list[Span]:
    """ "(password) from OLD to NEW" at `pos`: both values."""
    m = _FROM_TO.match(low, pos)
    if m is None:
        return []
    return _both(text, low, m.start("old"), m.end("old"), m.end())


def _both(text: str, low: str, old_start: int, old_stop: int, new_pos: int) -> list[Span]:
    spans: list[Span] = []
    old_end = _value_end(text, old_start)
    if old_end > old_start and old_end <= old_stop and _password_like(text[old_start:old_end]):
        spans.append(Span.of(old_start, old_end, "password", "password"))
    new = value_after_to(text, low, new_pos)
    if new is not None:
        spans.append(Span.of(new[0], new[1], "password", "password"))
    return spans if new is not None else []


def later_password(text: str, low: str, end: int) -> list[Span]:
    """A "reset it to X" / "changed it from X to Y" sentence shortly after a password
    keyword (within _NEAR characters, same paragraph)."""
    limit = min(len(low), end + _NEAR)
    if _TO.search(low, end, limit) is None:
        return []  # every sentence of _SET_IT has one of them
    para = low.find("\n\n", end, limit)
    if para >= 0:
        limit = para
    m = _SET_IT.search(low, end, limit)
    if m is None:
        return []
    if m.group("old") is not None:
        return _both(text, low, m.start("old"), m.end("old"), m.end())
    new = value_after_to(text, low, m.end())
    return [Span.of(new[0], new[1], "password", "password")] if new else []


# Sentences that name the password after a keyword: "wrong password, but I'm sure it's X",
# "I've tried both X and the old one", "I typed X".
_CLAIM = re.compile(
    r"sure\s+(?:that\s+)?(?:it['’]s|it\s+is|it\s+was|its)\s+"
    r"|(?:tried|typed|entered)\s+(?:both\s+|again\s+|in\s+)?"
)
_CLAIM_NEAR = 80  # the claim is part of the sentence of the keyword


def later_claim(text: str, low: str, end: int) -> list[Span]:
    """ "I'm sure it's X" / "I tried X" shortly after a password keyword (same line), when X
    reads as a password even without its keyword (`looks_like_told_password`)."""
    limit = min(len(low), end + _CLAIM_NEAR)
    if (
        low.find("sure", end, limit) < 0
        and low.find("tried", end, limit) < 0
        and low.find("typed", end, limit) < 0
        and low.find("entered", end, limit) < 0
    ):
        return []  # every sentence of _CLAIM has one of them
    m = _CLAIM.search(low, end, limit)
    if m is None or "\n" in low[end : m.start()]:
        return []
    value_end = _value_end(text, m.end())
    if value_end > m.end() and looks_like_told_password(text[m.end() : value_end]):
        return [Span.of(m.end(), value_end, "password", "password")]
    return []


def curl_passwords(text: str) -> list[Span]:
    """The password of `curl -u user:pass` (and `--user`), on a line that runs curl."""
    spans: list[Span] = []
    pos = text.find("curl")
    while pos >= 0:
        line_end = _command_end(text, pos)
        for m in _CURL_USER.finditer(text, pos, min(line_end, pos + 4096)):
            value_end = m.end("pw")
            while value_end > m.start("pw") and text[value_end - 1] in _TRAIL:
                value_end -= 1
            if value_end > m.start("pw"):
                spans.append(Span.of(m.start("pw"), value_end, "password", "password"))
        pos = text.find("curl", max(line_end, pos + 4))
    return spans


def _command_end(text: str, pos: int) -> int:
    """End of the command line at `pos`, over up to 20 continuation lines ending in "\\"."""
    end = pos
    for _ in range(20):
        end = text.find("\n", end)
        if end < 0:
            return len(text)
        if text[end - 1 : end] != "\\" and text[end - 2 : end] != "\\\r":
            return end
        end += 1
    return end
