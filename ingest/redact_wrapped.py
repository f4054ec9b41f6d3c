"""Tokens that a mail client wrapped over lines or a customer split with spaces.

A JWT or an `sk-ant-` key broken at 76 columns (quoted or not), a Slack token pasted as
`xoxb-1 234567 890123 ...`, `whsec _AbCd EfGhI ...`, an AWS key id in groups of four.
`joined` reads a token from a given offset on, leaving out the line breaks (with their
quote markers) that end a long line and, when asked, single spaces between groups; it
returns the joined token and where each of its characters is in the text, so a detector
can match its pattern on the joined token and remove the whole of it. The walk is bounded
(`max_chars`), so each call costs at most that much.
"""

from __future__ import annotations

import re

_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/=.~")
_BREAK = re.compile(r"[ \t]?\r?\n(?:[ \t]*>)*[ \t]*")
_SPACES = re.compile(r"[ \u00a0]{1,2}")
_WORD = re.compile(r"[A-Z]?[a-z]{2,}\Z")
_WRAP_MIN = 60
"""A line this long or longer may have been wrapped by the mail client (76 or 78 columns)."""


def _line_length(text: str, pos: int) -> int:
    """Length of the line that ends at pos."""
    return pos - (text.rfind("\n", max(0, pos - 200), pos) + 1)


def joined(text: str, start: int, *, spaces: bool, max_chars: int = 4096) -> tuple[str, list[int]]:
    """The token at `start` with wraps (and, if `spaces`, single spaces between groups) left
    out, and the offset in `text` of each of its characters. A group that reads as a word
    ("please", "Thanks") is never joined on."""
    out: list[str] = []
    where: list[int] = []
    pos, size = start, len(text)
    limit = min(size, start + 2 * max_chars)
    while pos < limit and len(out) < max_chars:
        ch = text[pos]
        if ch in _TOKEN_CHARS:
            out.append(ch)
            where.append(pos)
            pos += 1
            continue
        gap = None
        if ch in " \t\r\n":
            wrap = _BREAK.match(text, pos)
            if wrap is not None and _line_length(text, pos) >= _WRAP_MIN:
                gap = wrap
            elif spaces and ch == " ":
                gap = _SPACES.match(text, pos)
        if gap is None or not out or gap.end() >= size or text[gap.end()] not in _TOKEN_CHARS:
            break
        group_end = gap.end()
        while group_end < size and text[group_end] in _TOKEN_CHARS and group_end - gap.end() < 64:
            group_end += 1
        if _WORD.match(text[gap.end() : group_end]):
            break
        pos = gap.end()
    return "".join(out), where


def continues(text: str, end: int, *, spaces: bool) -> bool:
    """True when the token that ends at `end` may go on after a wrap (or a space)."""
    if end >= len(text):
        return False
    ch = text[end]
    if ch in "\r\n" or (ch in " \t" and text[end + 1 : end + 3].lstrip(" \t")[:1] in "\r\n"):
        return _line_length(text, end) >= _WRAP_MIN - 2
    return spaces and ch == " "


def match_joined(regex: re.Pattern[str], text: str, start: int, *, spaces: bool) -> int:
    """End offset in `text` of `regex` matched on the joined token at `start`, or -1.

    The match must end where a group ends (not inside a word that follows)."""
    token, where = joined(text, start, spaces=spaces)
    m = regex.match(token)
    if m is None or m.end() == 0:
        return -1
    end = where[m.end() - 1] + 1
    if m.end() < len(token) and where[m.end()] == end:
        return -1  # the match stops inside a group
    return end
