"""Windows of a text around places that a detector reads with a regex too costly to run over
the whole text (cards' neighbourhoods, say): merged, so that each character is read a
bounded number of times however many places there are. (The anchor words themselves are
found by the keyword scan: `ingest.redact.keywords.ANCHORS`.)"""

from __future__ import annotations

from collections.abc import Iterable


def merged(windows: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Windows given in order of their starts, overlapping ones merged."""
    out: list[tuple[int, int]] = []
    for lo, hi in windows:
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out
