"""Unlabelled keys: a long run of letters and digits that only a random generator writes.

Customers paste keys with every phrasing ("I pasted <key> into the plugin settings", "it's
<key> (copied from the integrations tab)", "this one: <key>"), so this detector reads the
value, not the words around it. A token is a run of 28-64 characters of [A-Za-z0-9_-], or
of exactly 40 with "+" and "/" (an AWS secret access key), standing alone (not part of a
path, a URL, an e-mail address, longer base64, a longer run, or a whole line of a base64
block) that mixes upper case, lower case and digits and changes between them as often as
random text does. Hashes and ids are hex (one case), UUIDs and tracking numbers have one
case, CamelCase names change class once a word, an id made of a name and a UUID has its
capitals in one piece: none of them qualify. Its spans have the lowest priority, so any
other detector that finds the value names it.

The runs are found on the byte view, where every token character is "a" and every other
character " ": a run of 28 or more is 28 "a" in a row, which bytes.find skips to.
"""

from __future__ import annotations

import re

from ingest.redact.model import Span
from ingest.redact.views import TextViews, byte_table

_MIN, _MAX = 28, 64
_TOKEN_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/"
_AWS_SECRET_SIZE = 40  # base64 with "+" and "/": only the AWS secret access key's length
_RUN_VIEW = byte_table({b: ord("a") for b in _TOKEN_BYTES}, ord(" "))
_LONG = b"a" * _MIN
# Characters that glue a run to a path, URL, address, base64 or encoded text.
_GLUE_BEFORE = frozenset("/+=%.@\\&?#~$:;")
_GLUE_AFTER = frozenset("/+=%@\\&?#~$")
_BLOCK = re.compile(r"([A-Za-z0-9+/=]{56,100})\r?")
_BLOCK_MIN = 56
# Two lines or more of base64 from a line start: a PEM body, a MIME part, a data block.
_BLOCK_LINES = re.compile(r"(?:[A-Za-z0-9+/=]{56,100}\r?\n){2,}")
_BLOCK_LINE = 100
_MIN_CHANGES = 0.3  # random base62 changes class at about 0.6 of its steps, words at 0.2


def find_random_tokens(views: TextViews) -> list[Span]:
    """Spans of unlabelled random keys (see the module doc)."""
    view = views.encoded.translate(_RUN_VIEW)
    text = views.text
    spans: list[Span] = []
    pos = view.find(_LONG)
    while pos >= 0:
        end = view.find(b" ", pos + _MIN)
        if end < 0:
            end = len(view)
        if end - pos >= _BLOCK_MIN and (pos == 0 or text[pos - 1] == "\n"):
            block = _BLOCK_LINES.match(text, pos)
            if block is not None:  # lines of base64: skipped in one match
                pos = view.find(_LONG, block.end())
                continue
        if end - pos <= _MAX and _is_key(text, pos, end):
            spans.append(Span(pos, end, "api_key", "api key", 0))  # any other detector names it
        pos = view.find(_LONG, end)
    return spans


def _in_encoded_block(text: str, start: int, end: int) -> bool:
    """True when the run is a whole line of a base64 (or uuencoded) block: the line before
    is as long or longer, or the line after as long, and all base64 characters."""
    if (start and text[start - 1] != "\n") or (end < len(text) and text[end] not in "\r\n"):
        return False
    size = end - start
    before = text.rfind("\n", max(0, start - 2 - _BLOCK_LINE), start - 1) + 1 if start else -1
    if start and _BLOCK.fullmatch(text, before, start - 1):
        line = _BLOCK.fullmatch(text, before, start - 1)
        if line is not None and len(line.group(1)) >= size:
            return True
    after = text.find("\n", end, end + 2) + 1
    if after:
        stop = text.find("\n", after, after + _BLOCK_LINE + 2)
        line = _BLOCK.fullmatch(
            text, after, stop if stop >= 0 else min(len(text), after + _BLOCK_LINE + 2)
        )
        return line is not None and len(line.group(1)) == size
    return False


def _stands_alone(text: str, start: int, end: int) -> bool:
    if (start and text[start - 1] in _GLUE_BEFORE) or text[max(0, start - 7) : start] == "base64,":
        return False  # glued on, or the data of a `data:` URI
    if end < len(text):
        after = text[end]
        if after in _GLUE_AFTER:
            return False
        if after in ".:" and end + 1 < len(text) and not text[end + 1].isspace():
            return False  # "name.example.com", "abc:def"; a full stop ends a sentence
    return not (start and text[start - 1].isalnum()) and not (
        end < len(text) and text[end].isalnum()
    )


def _is_key(text: str, start: int, end: int) -> bool:
    token = text[start:end]
    if token.islower() or token.isupper():  # hex, ids, words, "xxxx": most runs end here
        return False
    b64 = "+" in token or "/" in token
    return (
        _random(token.replace("+", "a").replace("/", "a") if b64 else token, b64)
        and _stands_alone(text, start, end)
        and not _in_encoded_block(text, start, end)
    )


def _random(token: str, b64: bool) -> bool:
    """Upper case, lower case and digits, two of each at least, mixed like random text;
    begins and ends with a letter or digit (not a MIME boundary `--_000_...`). With "+"
    or "/" (`b64`, read here as letters) only an AWS secret key's 40 characters. Counted
    by regexes (C loops), cheapest test first."""
    if b64 and len(token) != _AWS_SECRET_SIZE:
        return False
    if not (token[0].isalnum() and token[-1].isalnum()) or token.islower() or token.isupper():
        return False
    upper, lower = len(_UPPER.findall(token)), len(_LOWER.findall(token))
    digits = len(token) - upper - lower - token.count("-") - token.count("_")
    if upper < 2 or lower < 2 or digits < 2:
        return False
    if len(_CHANGE.findall(token)) < _MIN_CHANGES * (upper + lower + digits - 1):
        return False
    # Random through and through: an id made of a name and a UUID ("AOLMsgPart_0_4d68a632-
    # fe65-...") has its capitals in one piece only.
    pieces = [p for p in token.replace("_", "-").split("-") if len(p) >= 4]
    return 2 * sum(1 for p in pieces if not p.islower() and not p.isdigit()) >= len(pieces)


_UPPER = re.compile(r"[A-Z]")
_LOWER = re.compile(r"[a-z]")
# A change of class between two neighbours (a "-" or "_" between them does not count).
_CHANGE = re.compile(r"[A-Z](?=[a-z0-9])|[a-z](?=[A-Z0-9])|[0-9](?=[A-Za-z])")
