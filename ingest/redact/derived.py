"""Parts of redacted text, still typed `RedactedText`: what the pipeline stores is selected
from the redactor's output, never made anew.

Each function only removes from its input (lines at the top, quoted history, white space)
or puts a fixed placeholder in place of nothing, so its result holds nothing that was not in
redacted text.
"""

from __future__ import annotations

from ingest.quotes.forward import split_forward
from ingest.quotes.strip import strip_forward
from store.redacted import RedactedText

__all__ = [
    "NO_NAME",
    "NO_SUBJECT",
    "NO_TEXT",
    "fold_spaces",
    "forward_parts",
    "head",
    "or_placeholder",
    "strip",
    "visible_part",
    "without_head",
]

NO_TEXT = RedactedText("(no text)")
NO_SUBJECT = RedactedText("(no subject)")
NO_NAME = RedactedText("")


def strip(text: RedactedText) -> RedactedText:
    """`text` without white space at either end."""
    return RedactedText(text.strip())


def head(text: RedactedText, chars: int) -> RedactedText:
    """The first `chars` characters of `text` (a column's length)."""
    return RedactedText(text[:chars])


def fold_spaces(text: RedactedText) -> RedactedText:
    """`text` with every run of white space one space (a subject on one line)."""
    return RedactedText(" ".join(text.split()))


def or_placeholder(text: RedactedText, placeholder: RedactedText) -> RedactedText:
    """`text`, or `placeholder` when it is empty."""
    return text or placeholder


def without_head(text: RedactedText, skipped: int) -> RedactedText:
    """`text` without its blank first lines and the `skipped` lines after them (field lines
    or commands read from the top), and without newlines at the ends; `text` itself when
    none is skipped."""
    if not skipped:
        return text
    lines = text.split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    return RedactedText("\n".join(lines[start + skipped :]).strip("\n"))


def visible_part(subject: RedactedText, text: RedactedText) -> RedactedText:
    """What the sender wrote in `text`, without quoted history and signature (its lines); a
    forward (`Fwd:`, `WG:`, ... in `subject`) keeps what it forwards."""
    return RedactedText(strip_forward(subject, text).visible)


def forward_parts(text: RedactedText) -> tuple[RedactedText, RedactedText]:
    """(the forwarder's note, the forwarded mail) of a forward's text (lines of it)."""
    note, forwarded = split_forward(text)
    return RedactedText(note), RedactedText(forwarded)
