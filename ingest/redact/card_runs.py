"""Runs of digits and separators long enough to hold a card number (13 digits or more).

The card detector (cards.py) splits each run into groups and tries the card layouts; this
module finds the runs, on the byte view of the text so that the long stretches of text
without such a run are skipped by bytes.find.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ingest.redact.views import TextViews, byte_table

_SEPS = " .\\-\u00a0\u202f\r\n>"
# A run of digits and separators with room for 13 digits; split into groups in Python.
_CANDIDATE = re.compile(rf"\d[\d{_SEPS}]{{12,}}")
# The same runs are found on the byte view (redact_views), where every ASCII digit is "0",
# every separator " " and every other character "x": a run is a block of "0" and " "
# between two "x", from its first digit on, when 13 characters or more remain; its digits
# are then counted. A "?" there may stand for another digit or for U+202F, so it counts as
# a digit too, and a run that holds one is read on the text.
_RUN_VIEW = byte_table(
    {
        **{c: ord("0") for c in b"0123456789?"},
        **{c: ord(" ") for c in b" .-\xa0\r\n>"},
    },
    ord("x"),
)
# Most blocks are short (dates, prices, phone numbers). The blocks of 13 characters or
# more are found as 13 "0" in a copy of the view where the separators are "0" too: a
# literal that bytes.find skips over many bytes at a time, where a regex starting at every
# digit (`0[0 ]{12}(?<!0[\x00-\xff]{13})[0 ]*+`, what this replaced) tried each of them.
_BLOCK_VIEW = bytes.maketrans(b" ", b"0")
_MIN_RUN = 13
_LONG_BLOCK = b"0" * _MIN_RUN


def digit_runs(views: TextViews) -> list[tuple[int, int]]:
    """(start, end) of each run of digits and separators that holds 13 digits or more."""
    runs = []
    view = views.encoded.translate(_RUN_VIEW)
    for start, end in _long_blocks(view):
        if view.count(b"0", start, end) < _MIN_RUN:
            continue
        if views.encoded.find(b"?", start, end) < 0:
            runs.append((start, end))
            continue
        for c in _CANDIDATE.finditer(views.text, start, end):
            run = c.group()
            if sum(map(str.isdigit, run)) >= 13:
                runs.append(c.span())
    return runs


def _long_blocks(view: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each block of digits and separators of the run view, from its first
    digit to its end, that is 13 characters long or more: the spans of the regex
    `0[0 ]{12}(?<!0[\x00-\xff]{13})[0 ]*+` over the view.

    The first 13 "0" of the block view after the end of the last block are the first 13
    bytes of the next long block (a shorter block holds fewer); it ends at the next "x",
    and its run starts at its first digit (a block of separators alone, such as a line of
    dashes, has none).
    """
    blocks = view.translate(_BLOCK_VIEW)
    size = len(view)
    pos = 0
    while (start := blocks.find(_LONG_BLOCK, pos)) >= 0:
        end = blocks.find(b"x", start + _MIN_RUN)
        if end < 0:
            end = size
        if view[start] != 48:  # separators first ("0" is 48)
            start = view.find(b"0", start, end)
        if start >= 0 and end - start >= _MIN_RUN:
            yield start, end
        pos = end
