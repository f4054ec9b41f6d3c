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

_CHARS = r"[A-Za-z0-9_\-+/=.~]"
_RUN = re.compile(rf"{_CHARS}+")
_WORD_AHEAD = re.compile(rf"[A-Z]?[a-z]{{2,}}(?!{_CHARS})")
_MAX_SPACES = 12
# Groups joined by one or two spaces on one line. A group that reads as a word ends it,
# unless the group after it does not ("whsec _2Gxx giMY Ruhh 0av4 ...": random groups of
# four read as words now and then); a word before a word, punctuation or the end ends it.
_WORD = rf"(?:[A-Z]?[a-z]{{2,}}|[A-Z][a-z])(?!{_CHARS})"
_GAP = r"[ \u00a0]{1,2}"
_ENDS_WORDS = rf"(?!{_WORD}(?:{_GAP}{_WORD}|[ \u00a0]*[^ \u00a0A-Za-z0-9_\-+/=.~]|[ \u00a0]*\Z))"
_SPACED_RUN = re.compile(rf"{_CHARS}+(?:{_GAP}{_ENDS_WORDS}{_CHARS}+){{0,{_MAX_SPACES}}}")
_BREAK = re.compile(r"[ \t]?\r?\n(?:[ \t]*>)*[ \t]*")
# A match may end inside a group before these: a sentence's stop ("... yW6Y. FYI").
_PUNCTUATION = frozenset(".,;:!?")
_WRAP_MIN = 60
"""A line this long or longer may have been wrapped by the mail client (76 or 78 columns)."""


def _line_length(text: str, pos: int) -> int:
    """Length of the line that ends at pos."""
    return pos - (text.rfind("\n", max(0, pos - 200), pos) + 1)


class Joined:
    """A token read over wraps (and spaces): the joined characters, and per line read where
    its characters start in the joined token and in the text."""

    __slots__ = ("lines", "token", "walked")

    def __init__(self, token: str, lines: list[tuple[int, int, str]], walked: int) -> None:
        self.token = token
        self.lines = lines  # (offset in token, offset in text, the line as in the text)
        self.walked = walked  # end of the part of the text that was read

    def offset(self, index: int) -> int:
        """Where the token's character `index` is in the text."""
        at, start, line = next(entry for entry in reversed(self.lines) if entry[0] <= index)
        inside = index - at
        if len(line) == 0 or (" " not in line and "\u00a0" not in line):
            return start + inside
        m = _NTH.get(inside)
        if m is None:
            m = _NTH[inside] = re.compile(rf"(?:[ \u00a0]*[^ \u00a0]){{{inside}}}[ \u00a0]*")
        return start + m.match(line).end()  # type: ignore[union-attr]


_NTH: dict[int, re.Pattern[str]] = {}


def joined(
    text: str, start: int, *, spaces: bool, max_chars: int = 4096, first_min: int | None = None
) -> Joined:
    """The token at `start` with wraps (and, if `spaces`, single spaces between groups) left
    out. A group that reads as a word ("please", "Thanks") is never joined on. Each line is
    read by one regex match (at most _MAX_SPACES groups), and at most max_chars / _WRAP_MIN
    lines, so a call reads a bounded part of the text."""
    parts: list[str] = []
    lines: list[tuple[int, int, str]] = []
    size = len(text)
    pos = start
    total = 0
    line_regex = _SPACED_RUN if spaces else _RUN
    for _ in range(max_chars // _WRAP_MIN + 1):
        line = line_regex.match(text, pos, min(size, pos + max_chars - total + 64))
        if line is None:
            break
        chunk = line.group()
        piece = chunk.replace(" ", "").replace("\u00a0", "") if spaces else chunk
        lines.append((total, line.start(), chunk))
        parts.append(piece)
        total += len(piece)
        pos = line.end()
        if total >= max_chars or pos >= size or text[pos] not in " \t\r\n":
            break
        wrap = _BREAK.match(text, pos)
        shortest = first_min if first_min is not None and total == len(piece) else _WRAP_MIN
        if wrap is None or _line_length(text, pos) < shortest:
            break
        if _WORD_AHEAD.match(text, wrap.end()) or _RUN.match(text, wrap.end()) is None:
            break
        pos = wrap.end()
    token = "".join(parts)
    # A sentence's full stop after the token is not part of it ("... eyJ...KdKI.").
    return Joined(token.rstrip("."), lines, pos)


def continues(text: str, end: int, *, spaces: bool) -> bool:
    """True when the token that ends at `end` may go on after a wrap (or a space)."""
    if end >= len(text):
        return False
    ch = text[end]
    if ch in "\r\n" or (ch in " \t" and text[end + 1 : end + 3].lstrip(" \t")[:1] in "\r\n"):
        return _line_length(text, end) >= _WRAP_MIN - 2
    return spaces and ch == " "


def match_joined(
    regex: re.Pattern[str],
    text: str,
    start: int,
    *,
    spaces: bool,
    max_chars: int = 4096,
    first_min: int | None = None,
) -> int:
    """End offset in `text` of `regex` matched on the joined token at `start`, or -1.

    The match must end where a group ends (not inside a word that follows)."""
    return match_joined_walk(
        regex, text, start, spaces=spaces, max_chars=max_chars, first_min=first_min
    )[0]


def match_joined_walk(
    regex: re.Pattern[str],
    text: str,
    start: int,
    *,
    spaces: bool,
    max_chars: int = 4096,
    first_min: int | None = None,
) -> tuple[int, int]:
    """`match_joined`, and the end of the part of the text the walk read. `first_min`: how
    long the token's first line must be to be read as wrapped (shorter for a token that
    cannot end there, such as a JWT without its second dot: a table cell wraps early)."""
    token = joined(text, start, spaces=spaces, max_chars=max_chars, first_min=first_min)
    m = regex.match(token.token)
    if m is None or m.end() == 0:
        return -1, token.walked
    end = token.offset(m.end() - 1) + 1
    if (
        m.end() < len(token.token)
        and token.token[m.end()] not in _PUNCTUATION
        and token.offset(m.end()) == end
    ):
        return -1, token.walked  # the match stops inside a group
    return end, token.walked
