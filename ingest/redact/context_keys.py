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
from ingest.redact.views import TextViews, byte_table

_ANCHORS = (
    "dashboard", "settings", "integrations", "integration tab", "plugin",
    "developer portal", "credentials", "pasted", "copied",
    "calling it with", "call it with", "calling the api with", "authenticate with",
    "authenticating with", "configured with",
)  # fmt: skip
_BEFORE, _AFTER = 90, 90
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


def context_keys(views: TextViews) -> list[Span]:
    """UUID and hex keys on a line that says where keys come from (module doc).

    The values are found first, on a byte view where every hex digit is "h": a UUID ends
    with 12 of them and a hex key is 32 or 40, so each run of 12 "h" (rare in prose) is
    read with the value pattern around it, and only then is its line searched for the
    anchor words."""
    low = views.low
    view = views.encoded.translate(_HEX_VIEW)
    spans: list[Span] = []
    pos = view.find(_HEX_RUN)
    while pos >= 0:
        end = view.find(b" ", pos)
        end = len(view) if end < 0 else end
        size = end - pos  # a UUID's last group, or a whole hex key; longer runs are not
        m = _VALUE.search(low, max(0, pos - 24), end + 1) if size in (12, 32, 40) else None
        if m is not None and m.end(1) >= pos and _named_a_key(low, m.start(1), m.end(1)):
            spans.append(Span(m.start(1), m.end(1), "api_key", "api key", 0))
        pos = view.find(_HEX_RUN, end)
    return spans


def _named_a_key(low: str, start: int, end: int) -> bool:
    """Not right after an id or hash word, and an anchor on the value's line."""
    reach = max(0, start - 24)
    line_start = low.rfind("\n", reach, start) + 1
    if _ID_BEFORE.search(low, max(line_start, reach), start):
        return False
    return _anchor_on_line(low, start, end)


def _anchor_on_line(low: str, start: int, end: int) -> bool:
    """True when an anchor is on the value's line, within the window's reach."""
    line_start = low.rfind("\n", max(0, start - _BEFORE), start) + 1
    line_end = low.find("\n", end, end + _AFTER)
    line = low[max(line_start, start - _BEFORE) : line_end if line_end >= 0 else end + _AFTER]
    return any(anchor in line for anchor in _ANCHORS)
