"""A forwarded mail inside a text body: where it starts, and who wrote it.

A forward reads: the forwarder's note (perhaps empty), then a separator such as
"---------- Forwarded message ---------" or an Outlook header block ("From: ... Sent: ..."),
then the forwarded mail. `split_forward` finds the separator with the same rules as quote
stripping; `forwarded_author` reads the From line of the forwarded mail's header block.
"""

from __future__ import annotations

import email.utils

from ingest.quotes.rules import bare, history_start, is_blank, is_quoted
from ingest.quotes.rules import from_line_value as _from_value

__all__ = ["forwarded_author", "split_forward"]

HEADER_LINES = 12  # a forwarded header block is short: its From line comes early


def split_forward(text: str) -> tuple[str, str]:
    """(the forwarder's note, the forwarded mail); the second is empty when none is found."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = history_start(lines)
    if start >= len(lines):
        return text.strip(), ""
    return "\n".join(lines[:start]).strip(), "\n".join(lines[start:]).strip()


def forwarded_author(forwarded: str) -> tuple[str, str] | None:
    """(name, address) from the From line at the top of a forwarded mail, or None."""
    for line in forwarded.split("\n")[:HEADER_LINES]:
        if is_blank(line) or is_quoted(line):
            continue
        value = _from_value(bare(line))
        if value is None:
            continue
        name, address = email.utils.parseaddr(value.replace("[mailto:", "<").replace("]", ">"))
        if "@" in address:
            return name.strip(), address.strip().lower()
    return None
