"""One-time codes told by what showed or sent them, with no "code" word before them.

"the authenticator shows 20 46 26", "I typed 835 819 from the authenticator app", "it sent
me 878613 by text", and the SMS pasted whole: "G-406548 is your Google verification code",
"123456 est votre code", "Ihr Code: ... 123456 ist dein Bestätigungscode". The first words
are keywords of the keyword scan; each handler reads anchored at them, a bounded window.
"""

from __future__ import annotations

import re

from ingest.redact.model import Span
from ingest.redact.sentences import Handler

_CODE = (
    r"(\d{4}[ \-\u00a0]\d{4}|\d{2}[ \-\u00a0]\d{2}[ \-\u00a0]\d{2}|\d{3}[ \-\u00a0]?\d{3}|\d{8})"
    r"(?![\d/.:,\-]\d|\d|[ \-\u00a0]\d)"
)
_APP = (
    r"(?:the\s+|my\s+|your\s+)?(?:google\s+|microsoft\s+)?(?:authenticator|authy|app|sms|text|"
    r"phone|token|yubikey|otp\s+app|2fa\s+app|mfa\s+app)"
)
_SHOWS = re.compile(
    r"(?:authenticator|authy)(?:\s+app)?(?:\s*:|\s+(?:shows|showed|is\s+showing|displays|"
    r"displayed|says|said|gives|gave|generated|generates|has|had)\s*:?)\s+(?:me\s+)?"
    r"(?:the\s+code\s+)?" + _CODE
)
_TYPED = re.compile(
    r"(?:typed|entered|tried|used|input|put\s+in|keyed\s+in)\s+(?:in\s+)?(?:the\s+code\s+)?" + _CODE
)
_FROM_APP = re.compile(r"\s+(?:from|in|into|on|off|via|of)\s+" + _APP)
# "I entered 123456 but it says invalid code": a code word later in the same sentence.
_CODE_WORD_LATER = re.compile(
    r"\s*(?:,|;|-|—|but|and|though|yet)[^.!?\n]{0,60}?(?<![a-z])(?:code|otp|2fa|mfa|sms|authenticator|passcode|token)(?![a-z])"
)
_SENT = re.compile(
    r"(?:sent|texted|emailed|mailed|gave)\s+(?:me|us)\s+(?P<word>(?:the\s+|a\s+|another\s+)?"
    r"(?:new\s+)?code\s+)?" + _CODE + r"(?P<how>\s+(?:by|via|per|over|in\s+an?)\s+(?:text|sms|"
    r"e-?mail|message|mail|phone))?"
)
# The SMS: "<code> is your ... code". The code word follows within a few words.
_CODE_WORD_AHEAD = re.compile(
    r"[^\n.!?]{0,50}?(?:code|código|codigo|codice|kod|kode|koodi|kód|passcode|otp|pin|tan)"
    r"(?![a-z])"
)
_CODE_BEFORE = re.compile(
    r"(?:(?<![a-z0-9])[a-z]{1,4}-|<#>\s*|(?<![\w\-]))(?P<code>\d{4,8}|\d{3}[ \-\u00a0]\d{3}|"
    r"\d{2}[ \-\u00a0]\d{2}[ \-\u00a0]\d{2}|\d{4}[ \-\u00a0]\d{4})\s*\Z"
)
_BEFORE = 20


def _one(m: re.Match[str] | None, group: int = 1) -> list[Span]:
    if m is None:
        return []
    return [Span.of(m.start(group), m.end(group), "otp_code", "one-time code")]


_SHOWS_SHORT = re.compile(
    _SHOWS.pattern.replace(_CODE, r"(?!(?:19|20)\d\d(?!\d))(\d{4,5})(?![\d/.:,\-]\d|\d)")
)


def handle_shows(text: str, low: str, start: int, end: int) -> list[Span]:
    """ "the authenticator shows 20 46 26" (or a code of four or five digits)."""
    return _one(_SHOWS.match(low, start) or _SHOWS_SHORT.match(low, start))


def handle_typed(text: str, low: str, start: int, end: int) -> list[Span]:
    """ "I typed 835 819 from the authenticator app", "I entered 123456 but the code ..."."""
    m = _TYPED.match(low, start)
    if m is None or not (_FROM_APP.match(low, m.end()) or _CODE_WORD_LATER.match(low, m.end())):
        return []
    return _one(m)


_TEXT_WITH = re.compile(
    r"(?:text|sms|message|e-?mail|mail)\s+with\s+(?:the\s+|a\s+)?(?:new\s+)?(?:code\s+)?" + _CODE
)


def handle_text_with(text: str, low: str, start: int, end: int) -> list[Span]:
    """ "I got a text with 445566 in it"."""
    return _one(_TEXT_WITH.match(low, start))


def handle_sent(text: str, low: str, start: int, end: int) -> list[Span]:
    """ "it sent me 878613 by text", "they sent me the code 123 456"."""
    m = _SENT.match(low, start)
    if m is None or (m.group("word") is None and m.group("how") is None):
        return []
    return _one(m, 2)


def handle_is_your(text: str, low: str, start: int, end: int) -> list[Span]:
    """ "G-406548 is your Google verification code" (the code before the words)."""
    if _CODE_WORD_AHEAD.match(low, end) is None:
        return []
    window_start = max(0, start - _BEFORE)
    m = _CODE_BEFORE.search(low[window_start:start])
    if m is None:
        return []
    if m.start() == m.start(1) and not _starts_message(low, window_start + m.start()):
        return []
    return [
        Span.of(window_start + m.start(1), window_start + m.end(1), "otp_code", "one-time code")
    ]


def _starts_message(low: str, pos: int) -> bool:
    """True when the SMS starts at `pos`: at the start of a line, a sentence or a quote
    ("postcode 10115 is your area code" is no SMS); a code with a sender prefix ("G-") or
    "<#>" before it needs none."""
    before = low[max(0, pos - 8) : pos].rstrip(" \t\u00a0")
    return not before or before[-1] in "\n.!?:>\"'([-"


IS_YOUR_WORDS: tuple[str, ...] = (
    *("is your", "est votre", "est ton", "ist dein", "ist ihr"),
    *("es tu", "es su", "è il tuo", "é o seu", "é seu", "is je", "is uw"),
    *("är din", "er din", "er koden", "to twój", "to kod", "je váš", "je tvůj", "on sinun"),
)
CODE_SENTENCE_HANDLERS: dict[str, Handler] = {
    "authenticator": handle_shows,
    "authy": handle_shows,
    **dict.fromkeys(("typed", "entered", "put in", "keyed in"), handle_typed),
    **dict.fromkeys(
        ("sent me", "sent us", "texted me", "texted us", "emailed me", "emailed us", "gave me"),
        handle_sent,
    ),
    **dict.fromkeys(IS_YOUR_WORDS, handle_is_your),
    **dict.fromkeys(
        ("text with", "sms with", "message with", "email with", "e-mail with", "mail with"),
        handle_text_with,
    ),
}
"""Keyword -> handler of the one-time code sentences that start with it."""
