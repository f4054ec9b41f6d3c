"""Windows of a text around the occurrences of literal anchors, for detectors whose regex
is too costly to run over the whole text: one bytes.find pass per anchor over the
lower-cased byte view (TextViews.low_encoded: one byte per character, so its offsets are
the text's; a str of wide characters is searched several times slower), then the regex over
the merged windows only, so each character is read a bounded number of times."""

from __future__ import annotations

from collections.abc import Iterable


def encoded(anchors: tuple[str, ...]) -> tuple[bytes, ...]:
    """Lower-case anchors as bytes of the view (Latin-1: "prüf" is b"pr\\xfcf" there)."""
    return tuple(anchor.encode("latin-1") for anchor in anchors)


def hits(low_encoded: bytes, anchors: tuple[bytes, ...]) -> list[int]:
    """Sorted offsets of every occurrence of the anchors in the lower-cased byte view."""
    found: list[int] = []
    for anchor in anchors:
        pos = low_encoded.find(anchor)
        while pos >= 0:
            found.append(pos)
            pos = low_encoded.find(anchor, pos + len(anchor))
    return sorted(found)


def merged(windows: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Windows given in order of their starts, overlapping ones merged."""
    out: list[tuple[int, int]] = []
    for lo, hi in windows:
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out


def around(
    low_encoded: bytes, anchors: tuple[bytes, ...], before: int, after: int
) -> list[tuple[int, int]]:
    """Merged windows from `before` characters before each anchor to `after` after it."""
    return merged((max(0, pos - before), pos + after) for pos in hits(low_encoded, anchors))
