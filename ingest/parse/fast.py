"""A fast path for `BytesParser(policy=compat32).parsebytes` on ordinary, well-formed mail.

Why: the stdlib feedparser walks every line of every body through Python code
(`BufferedSubFile.readline`, the `_parsegen` generator, a boundary match per line). For a
typical 6 KB multipart/alternative text + HTML mail that is about half of the parse time.
`parse_bytes` builds the same `email.message.Message` tree (compat32) by locating the
header/body separators and the boundary lines with `str.find` and a few precompiled
regexes over the whole text, and slicing; only header fields and boundary lines are
visited one by one, never body lines.

What: the result is indistinguishable from the stdlib's (the same `_headers`, `_unixfrom`,
`_payload`, `preamble`, `epilogue`, `_default_type`, `policy`, `_charset`, and no
`defects`). Every input this module is not certain to reproduce exactly returns None and
must go to the stdlib parser: a lone CR, anything for which feedparser would record a
defect (missing header/body separator, continuation or "From " lines out of place, an
empty header name, a multipart without a boundary, without its start or close boundary,
or with a transfer encoding other than 7bit/8bit/binary), any message/* part,
multipart/digest, two boundary lines in a row, a boundary that is empty or a prefix of an
enclosing one (or the reverse), and nesting deeper than `MAX_DEPTH`.

How it mirrors feedparser (Python 3.11 `email.feedparser`):

* Lines end at CRLF or LF only (lone CRs fall back), so "\\n" marks every line end.
* Headers end at the first line not matching feedparser's `headerRE`; it must be the blank
  line (or the end of the part). A first line starting with "From " is the unixfrom.
  Each field (a line plus its continuation lines) goes through
  `compat32.header_source_parse([field])`, which equals passing its lines one by one:
  the first colon is on the first line, and `lstrip(' \\t')` stops at a line end.
* A multipart's parts are split on its own boundary lines only: feedparser ends a part
  at any enclosing boundary, but the enclosing part's range already stops there. The
  line ending before a boundary line belongs to it: it is stripped from the previous
  part's payload, or from a nested multipart's epilogue (which becomes None when empty).
* The preamble is the text before the first boundary line minus its last line ending
  (None when there is no text at all); the epilogue is everything after the close
  boundary line, verbatim ('' when nothing follows, never None at the top level).
"""

from __future__ import annotations

import re
from email.message import Message
from email.policy import compat32

__all__ = ["MAX_DEPTH", "parse_bytes"]

#: Deepest multipart nesting handled here; deeper mail goes to the stdlib.
MAX_DEPTH = 20

#: One header field: a line matching feedparser's `headerRE` with a non-empty name, plus
#: its continuation lines. "From " lines cannot match (space is not a name character).
_FIELD = re.compile(r"[\041-\071\073-\176]+:[^\n]*(?:\n[ \t][^\n]*)*(?:\n|\Z)")
#: The blank line ending a header block, searched from the end of a header line.
_BLANK_LINE = re.compile(r"\n\r?\n")
#: What may follow "--boundary" on a boundary line (feedparser's boundary regex, with its
#: `$` spelt out: lines end at CRLF, LF or the end of the text).
_BOUNDARY_TAIL = re.compile(r"(--)?[ \t]*(?:\r\n|\n|\Z)")
_ALLOWED_MULTIPART_CTE = ("7bit", "8bit", "binary")


def parse_bytes(raw: bytes) -> Message | None:
    """The compat32 `Message` tree stdlib `BytesParser` would build, or None to fall back."""
    text = raw.decode("ascii", "surrogateescape")
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None  # feedparser also splits lines at a lone CR
    return _parse(text, 0, len(text), (), nested=False)


def _strip_eol(value: str) -> str:
    """`value` without one trailing line ending (feedparser's NLCRE_eol; no lone CRs here)."""
    if value.endswith("\r\n"):
        return value[:-2]
    if value.endswith("\n"):
        return value[:-1]
    return value


def _parse(
    text: str, start: int, end: int, chain: tuple[str, ...], *, nested: bool
) -> Message | None:
    """The message in `text[start:end]`; `chain` holds the enclosing boundaries.

    `end` is the end of the text or the start of an enclosing boundary line. A nested part
    has the line ending before that boundary stripped, as feedparser does.
    """
    msg = Message(policy=compat32)
    pos = start
    if text.startswith("From ", start, end):
        newline = text.find("\n", start, end)
        pos = end if newline < 0 else newline + 1
        msg.set_unixfrom(_strip_eol(text[start:pos]))
    if text.startswith("\n", pos, end):
        headers_end, body = pos, pos + 1
    elif text.startswith("\r\n", pos, end):
        headers_end, body = pos, pos + 2
    else:
        blank = _BLANK_LINE.search(text, pos, end)
        headers_end, body = (end, end) if blank is None else (blank.start() + 1, blank.end())
    while pos < headers_end:
        field = _FIELD.match(text, pos, headers_end)
        if field is None:
            return None  # a defect: not a header line, or a misplaced continuation/"From "
        pos = field.end()
        msg.set_raw(*compat32.header_source_parse([field.group()]))

    maintype = msg.get_content_maintype()
    if maintype == "message":
        return None
    if maintype != "multipart":
        payload = text[body:end]
        msg.set_payload(_strip_eol(payload) if nested else payload)
        return msg
    if msg.get_content_type() == "multipart/digest":
        return None  # its parts default to message/rfc822
    boundary = msg.get_boundary()
    if not boundary or len(chain) >= MAX_DEPTH:
        return None
    if str(msg.get("content-transfer-encoding", "8bit")).lower() not in _ALLOWED_MULTIPART_CTE:
        return None
    if any(outer.startswith(boundary) or boundary.startswith(outer) for outer in chain):
        return None
    inner = (*chain, boundary)
    separator = "--" + boundary
    needle = "\n" + separator
    search_from = max(body - 1, 0)  # `body` starts a line: the "\n" before it is found too
    part_start = -1  # where the current part begins, once the start boundary is seen
    while True:
        found = text.find(needle, search_from, end)
        if found < 0:
            return None  # no start boundary, or no close boundary
        line_start = found + 1
        tail = _BOUNDARY_TAIL.match(text, line_start + len(separator))
        if tail is None:
            search_from = line_start  # "--boundaryX" and the like are content
            continue
        closing = tail.group(1) is not None
        if part_start < 0:
            if closing:
                return None  # feedparser: StartBoundaryNotFoundDefect
            if line_start > body:
                msg.preamble = _strip_eol(text[body:line_start])
        else:
            if line_start == part_start:
                return None  # feedparser swallows repeated boundary lines
            part = _parse(text, part_start, line_start, inner, nested=True)
            if part is None:
                return None
            msg.attach(part)
        if closing:
            epilogue = text[tail.end() : end]
            if nested:
                msg.epilogue = _strip_eol(epilogue) if epilogue else None
            else:
                msg.epilogue = epilogue
            return msg
        part_start = tail.end()
        search_from = part_start - 1
