"""Keys in one case, named only by where they came from: a UUID or 32-40 hex digits.

A random mixed-case key stands out by itself (random_tokens); a UUID or hex string looks
like the ids and hashes customers quote all the time, so it is a key only when the words
around it, on its line, say where keys come from or what is done with one: "I pasted <x>
into the plugin settings", "the value in the dashboard says <x>", "I copied this from the
settings page: <x>", "we're calling it with <x>", "it's <x> (copied from the integrations
tab)". A value right after an id or hash word ("request id", "tenant", "md5", "commit") is
an id, whatever the words around it.
"""

from __future__ import annotations

import re

from ingest.redact.model import Span
from ingest.redact.views import byte_table

_ANCHORS = (
    "dashboard", "settings", "integration", "plugin", "developer portal", "credentials",
    "pasted", "copied", "it with", "api with", "authenticat", "configured with",
)  # fmt: skip
_ANCHOR = re.compile("|".join(map(re.escape, _ANCHORS)))
_BEFORE, _AFTER = 90, 90
# An anchor within _BEFORE/_AFTER of a value of at most 40 characters: the value lies within
# _REACH of the anchor's start, with a character to spare on each side to see its ends.
_REACH = max(_BEFORE, _AFTER) + 40 + 1
_HEX_VIEW = byte_table({b: ord("h") for b in b"0123456789abcdefABCDEF"}, ord(" "))
_HEX_RUN = b"h" * 12
_VALUE = re.compile(
    r"(?<![A-Za-z0-9_\-./:#])"
    r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|"
    r"[0-9a-fA-F]{32}|[0-9a-fA-F]{40})(?![A-Za-z0-9_\-/@]|\.[A-Za-z0-9])"
)
_ID_BEFORE = re.compile(
    r"(?<![a-z])(?:id|ids|uuid|guid|request|req|job|tenant|workspace|correlation|trace|span|"
    r"order|ticket|case|session|commit|build|hash|checksum|digest|sha\d*|md5|version|device|"
    r"account|user|customer|project|org|organi[sz]ation|instance|invoice|file|event|message|"
    r"transaction|run|task|record|object|item|client)\W{0,4}(?:is|was|number|no\.?|nr\.?)?"
    r"\W{0,3}\Z"
)


def context_key_anchor(text: str, low: str, start: int, end: int) -> list[Span]:
    """The UUID and hex keys around an anchor word at low[start:end] (module doc).

    The keyword scan finds the anchors (CONTEXT_ANCHORS) with the other keywords, so a
    text without one costs nothing here. Around the anchor, within the reach of the line
    rule, the values are found on a byte view of the window where every hex digit is "h": a
    UUID ends with 12 of them and a hex key is 32 or 40, so the runs of exactly 12, 32 or 40
    "h" are the candidates; one with an anchor on its line is read with the value pattern."""
    del end
    lo, hi = max(0, start - _REACH), min(len(low), start + _REACH)
    view = text[lo:hi].encode("latin-1", "replace").translate(_HEX_VIEW)
    spans: list[Span] = []
    for pos, stop in _hex_runs(view, lo, hi, len(low)):
        if not _anchor_on_line(low, pos, stop):
            continue
        m = _VALUE.search(low, max(0, pos - 24), stop + 1)
        if m is not None and m.end(1) >= pos and not _after_id_word(low, m.start(1)):
            spans.append(Span(m.start(1), m.end(1), "api_key", "api key", 0))
    return spans


CONTEXT_ANCHORS = dict.fromkeys(_ANCHORS, context_key_anchor)
"""The anchor words, found by the keyword scan at the start of a word, with their handler."""


def _hex_runs(view: bytes, lo: int, hi: int, size: int) -> list[tuple[int, int]]:
    """(start, end) in the text of the runs of exactly 12, 32 or 40 hex digits in the hex
    view of text[lo:hi]; a run that touches the window's edge may go on beyond it, so it
    is left out (it is too far from the window's anchor to count anyway)."""
    runs: list[tuple[int, int]] = []
    pos = view.find(_HEX_RUN)
    while pos >= 0:
        end = view.find(b" ", pos)
        end = len(view) if end < 0 else end
        touches = (pos == 0 and lo > 0) or (end == len(view) and hi < size)
        if end - pos in (12, 32, 40) and not touches:  # a UUID's last group or a hex key
            runs.append((lo + pos, lo + end))
        pos = view.find(_HEX_RUN, end)
    return runs


def _after_id_word(low: str, start: int) -> bool:
    """True right after an id or hash word on the same line ("request id", "md5")."""
    reach = max(0, start - 24)
    line_start = low.rfind("\n", reach, start) + 1
    return _ID_BEFORE.search(low, max(line_start, reach), start) is not None


def _anchor_on_line(low: str, start: int, end: int) -> bool:
    """True when an anchor is on the value's line, within the window's reach."""
    line_start = low.rfind("\n", max(0, start - _BEFORE), start) + 1
    line_end = low.find("\n", end, end + _AFTER)
    stop = line_end if line_end >= 0 else min(len(low), end + _AFTER)
    return _ANCHOR.search(low, max(line_start, start - _BEFORE), stop) is not None
