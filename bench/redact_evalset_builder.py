"""Writes one mail body (plain text or HTML) piece by piece and keeps the labels' offsets.

Secrets and decoys are recorded as spans of the body being built. Values tagged `wrapped`
are broken at the line width (72 or 76 columns, or at a space for grouped numbers); in
HTML, text is escaped, line breaks become `<br>`, and some values get `&nbsp;`, `<wbr>` or
an inline tag inside, as mail clients write them. `quote` prefixes a finished plain-text
block with `> ` and moves its labels along.
"""

from __future__ import annotations

import bisect
import html as htmllib
import random
import re
from dataclasses import dataclass, replace

from redact_evalset_phrases import Sec, Snippet

_SLOT = re.compile(r"\{(\d)\}")


@dataclass(frozen=True)
class Mark:
    """A labelled span of a body under construction (secret when `sec` is set, else decoy)."""

    start: int
    end: int
    kind: str
    sec: Sec | None = None
    tags: tuple[str, ...] = ()
    lang: str = "en"


class Builder:
    """Appends text, secrets and decoys to a body and records where each label lands."""

    def __init__(self, rng: random.Random, html: bool) -> None:
        self.rng = rng
        self.html = html
        self.parts: list[str] = []
        self.size = 0
        self.col = 0
        self.marks: list[Mark] = []

    def raw(self, text: str) -> None:
        """Append text as it is (markup in HTML mode)."""
        self.parts.append(text)
        self.size += len(text)
        newline = text.rfind("\n")
        self.col = len(text) - newline - 1 if newline >= 0 else self.col + len(text)

    def esc(self, text: str) -> str:
        """Text as written into the body: escaped, with <br> line breaks, in HTML mode."""
        if not self.html:
            return text
        return htmllib.escape(text, quote=False).replace("\n", "<br>\n")

    def text(self, text: str) -> None:
        """Append prose."""
        self.raw(self.esc(text))

    def decoy(self, kind: str, value: str) -> None:
        """Append a decoy value and label it."""
        start = self.size
        self.text(value)
        self.marks.append(Mark(start, self.size, kind))

    def secret(self, sec: Sec, tags: tuple[str, ...], lang: str) -> None:
        """Append a secret as written (wrapped, or HTML-split, where it says) and label it."""
        value = self._wrap(sec.value) if "wrapped" in sec.tags else sec.value
        written = self._html_form(value) if self.html else value
        start = self.size
        self.raw(written)
        self.marks.append(Mark(start, self.size, sec.kind, sec, tuple(sec.tags) + tags, lang))

    def snippet(self, snip: Snippet, tags: tuple[str, ...] = ()) -> None:
        """Append a snippet: its prose and its secrets in their slots."""
        pieces = _SLOT.split(snip.template)
        for i, piece in enumerate(pieces):
            if i % 2:
                self.secret(snip.secrets[int(piece)], tags + snip.tags, snip.lang)
            elif piece:
                self.text(piece.replace("{{", "{").replace("}}", "}"))

    def extend(self, text: str, marks: list[Mark], tags: tuple[str, ...]) -> None:
        """Append a finished block (e.g. quoted history) with its labels, adding `tags`."""
        base = self.size
        self.raw(text)
        for m in marks:
            extra = tags if m.sec is not None else ()
            self.marks.append(
                replace(m, start=m.start + base, end=m.end + base, tags=m.tags + extra)
            )

    def body(self) -> str:
        """The body written so far."""
        return "".join(self.parts)

    def _wrap(self, value: str) -> str:
        rng = self.rng
        if " " in value and len(value) < 30:
            spaces = [i for i, ch in enumerate(value) if ch == " "]
            cut = rng.choice(spaces[len(spaces) // 2 :])
            return value[:cut] + "\n" + value[cut + 1 :]
        width = rng.choice([72, 76])
        first = width - self.col
        if not 8 <= first < len(value):
            first = rng.randint(len(value) // 3, 2 * len(value) // 3)
        chunks = [value[:first]]
        chunks += [value[i : i + width] for i in range(first, len(value), width)]
        return "\n".join(chunks)

    def _html_form(self, value: str) -> str:
        rng = self.rng
        roll = rng.random()
        if " " in value and "\n" not in value and roll < 0.3:
            return self.esc(value).replace(" ", "&nbsp;")
        if " " in value and "\n" not in value and roll < 0.5:
            cut = value.rfind(" ")
            return f"{self.esc(value[:cut])} <span>{self.esc(value[cut + 1 :])}</span>"
        if len(value) > 40 and "\n" not in value and roll < 0.5:
            step = rng.randint(15, 30)
            return "<wbr>".join(self.esc(value[i : i + step]) for i in range(0, len(value), step))
        return self.esc(value)


def quote(text: str, marks: list[Mark], depth: int = 1) -> tuple[str, list[Mark]]:
    """The block with every line quoted (`> `, or `>` for blank lines), labels moved along."""
    for _ in range(depth):
        lines = text.split("\n")
        starts, new_starts, pads = [], [], []
        old = new = 0
        out = []
        for line in lines:
            pad = 2 if line else 1
            starts.append(old)
            new_starts.append(new)
            pads.append(pad)
            out.append(("> " if line else ">") + line)
            old += len(line) + 1
            new += len(line) + pad + 1

        text = "\n".join(out)
        moved = (starts, new_starts, pads)
        marks = [
            replace(m, start=_move(moved, m.start), end=_move(moved, m.end - 1) + 1) for m in marks
        ]
    return text, marks


def _move(lines: tuple[list[int], list[int], list[int]], pos: int) -> int:
    """Where offset `pos` of a block lands once every line got its quote prefix."""
    starts, new_starts, pads = lines
    i = bisect.bisect_right(starts, pos) - 1
    return new_starts[i] + pads[i] + pos - starts[i]
