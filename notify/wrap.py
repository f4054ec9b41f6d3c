"""Plain-text mail wrapped for reading: lines of at most `WIDTH` characters, broken only
between words.

Templates write a paragraph on one line; this wraps it. A list item's continuation lines are
indented under its text, a quoted line's keep its `>` marks, and a word longer than a line
(a long link) stays whole on a line of its own. Lines that fit are left exactly as they are,
trailing spaces included (the `-- ` signature separator).
"""

from __future__ import annotations

import re
import textwrap

WIDTH = 76
# Leading quote marks and indentation, then an optional list marker.
_LEAD = re.compile(r"^(?P<quote>(?:\s*>)*\s*)(?P<bullet>(?:[-*•]|\d{1,3}[.)])\s+)?")


def wrap_line(line: str, width: int = WIDTH) -> list[str]:
    """One line as wrapped lines (itself when it fits)."""
    if len(line) <= width:
        return [line]
    lead = _LEAD.match(line)
    assert lead is not None  # the pattern matches every string
    quote, bullet = lead.group("quote"), lead.group("bullet") or ""
    rest = line[lead.end() :]
    hanging = quote + " " * len(bullet)
    wrapper = textwrap.TextWrapper(
        width=width,
        initial_indent=quote + bullet,
        subsequent_indent=hanging,
        break_long_words=False,
        break_on_hyphens=False,
        drop_whitespace=True,
    )
    return wrapper.wrap(rest) or [line]


def wrap_text(text: str, width: int = WIDTH) -> str:
    """`text` with every line longer than `width` wrapped (see the module's description)."""
    lines = text.split("\n")
    if all(len(line) <= width for line in lines):
        return text
    return "\n".join(part for line in lines for part in wrap_line(line, width))
