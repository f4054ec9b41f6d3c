"""Redacting HTML: secrets in the visible text and in attribute values; markup stays valid.

The visible text is rebuilt from the text nodes (entities decoded, block tags as line
breaks, inline tags as nothing), so a card split by `<b>` or a password in the next table
cell is still found. Each secret is then removed from the text nodes it spans: the first
node gets the escaped marker, the rest lose their part; tags are never touched. Attribute
values (links with user:password@, data attributes) are redacted one by one.

The tokenizer never backtracks: an unclosed comment, tag or quote runs to the end of the
input, as it does in a browser.
"""

from __future__ import annotations

import bisect
import html as htmllib
import re
from dataclasses import dataclass

from ingest.parse.html import BLOCK_ELEMENTS
from ingest.redact.engine import find_spans, redact
from ingest.redact.model import Finding, Redaction, Span, marker
from store.redacted import RedactedText

_TAG = re.compile(
    r"<(?:!--.*?(?:-->|\Z)|[!?][^>]*(?:>|\Z)|(/?)([A-Za-z][A-Za-z0-9:\-]*)"
    r"(?:[^>\"']|\"[^\"]*(?:\"|\Z)|'[^']*(?:'|\Z))*(?:>|\Z))",
    re.S,
)
_ATTR = re.compile(r"""=[ \t\r\n]*(?:"([^"]*)"|'([^']*)'|([^\s"'>=`]+))""")
_ENTITY = re.compile(r"&(?:#[0-9]{1,8};?|#[xX][0-9a-fA-F]{1,8};?|[A-Za-z][A-Za-z0-9]{1,31};?)")
_RAW = {name: re.compile(rf"</{name}", re.I) for name in ("script", "style", "textarea", "title")}
_BLOCK = BLOCK_ELEMENTS | {"blockquote", "br", "caption", "figcaption", "hr", "title"}
_CELL = frozenset({"td", "th"})
_BLANKS = re.compile(r"[ \t\r\n]*")


@dataclass(frozen=True, slots=True)
class _Seg:
    """Virtual text [vstart, vstart+vlen) comes from html[sstart:send] (sstart<0: none)."""

    vstart: int
    vlen: int
    sstart: int
    send: int
    identity: bool


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int
    end: int
    text: str
    marks: tuple[tuple[str, int, int], ...]  # kind, offsets inside `text`


class _Text:
    """The visible text of a document and where each piece of it came from."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.segs: list[_Seg] = []
        self.size = 0

    def add(self, value: str, sstart: int, send: int, identity: bool) -> None:
        if value:
            self.parts.append(value)
            self.segs.append(_Seg(self.size, len(value), sstart, send, identity))
            self.size += len(value)

    def ends_line(self) -> bool:
        """True when the text so far ends with a line break made by a tag."""
        return bool(self.segs) and self.segs[-1].sstart < 0 and self.parts[-1] == "\n"

    def add_text(self, source: str, start: int, end: int, decode: bool) -> None:
        pos = start
        if decode and "&" in source[start:end]:
            for m in _ENTITY.finditer(source, start, end):
                value = htmllib.unescape(m.group())
                if value == m.group():
                    continue
                self.add(source[pos : m.start()], pos, m.start(), True)
                self.add(value, m.start(), m.end(), False)
                pos = m.end()
        self.add(source[pos:end], pos, end, True)


def _scan(source: str, text: _Text, edits: list[_Edit]) -> None:
    pos, n = 0, len(source)
    while pos < n:
        m = _TAG.search(source, pos)
        if m is None:
            text.add_text(source, pos, n, True)
            return
        text.add_text(source, _after_break(source, text, pos, m.start()), m.start(), True)
        pos = m.end()
        name = (m.group(2) or "").lower()
        if not name:
            if m.group().startswith("<!--"):  # hidden, but still stored: redact it too
                stop = pos - 3 if m.group().endswith("-->") and pos - 3 >= m.start() + 4 else pos
                text.add_text(source, m.start() + 4, stop, False)
                text.add("\n", -1, -1, False)
            continue
        edits.extend(_attribute_edits(source, m.start(), m.end()))
        if name in _BLOCK:
            if not text.ends_line():  # `</div><div>` is one line break, as it renders
                text.add("\n", -1, -1, False)
        elif name in _CELL:
            text.add(" ", -1, -1, False)
        closing = _RAW.get(name)
        if closing is not None and not m.group(1):
            close = closing.search(source, pos)
            stop = close.start() if close else n
            text.add_text(source, pos, stop, name in ("textarea", "title"))
            text.add("\n", -1, -1, False)
            pos = stop


def _after_break(source: str, text: _Text, start: int, end: int) -> int:
    """Where the text of source[start:end] begins: after the line breaks and spaces that
    follow a tag-made line break (`<br>` and then a new line in the source), which a browser
    does not show, so a card or token wrapped as `4111 1111<br>\n1111 1111` reads as one
    line break."""
    if not text.ends_line():
        return start
    return _BLANKS.match(source, start, end).end()  # type: ignore[union-attr]


def _attribute_edits(source: str, start: int, end: int) -> list[_Edit]:
    edits: list[_Edit] = []
    for m in _ATTR.finditer(source, start, end):
        group = 1 if m.group(1) is not None else 2 if m.group(2) is not None else 3
        value = m.group(group)
        if len(value) < 8:
            continue
        result = redact(htmllib.unescape(value))
        if result.found:
            edits.append(_escaped_edit(m.start(group), m.end(group), result))
    return edits


def _escaped_edit(start: int, end: int, result: Redaction) -> _Edit:
    pieces: list[str] = []
    marks: list[tuple[str, int, int]] = []
    pos = size = 0
    for f in result.findings:
        before = htmllib.escape(result.text[pos : f.start], quote=True)
        pieces.append(before)
        size += len(before)
        mark = htmllib.escape(result.text[f.start : f.end], quote=True)
        pieces.append(mark)
        marks.append((f.kind, size, size + len(mark)))
        size += len(mark)
        pos = f.end
    pieces.append(htmllib.escape(result.text[pos:], quote=True))
    return _Edit(start, end, "".join(pieces), tuple(marks))


def _text_edits(text: _Text, spans: list[Span]) -> list[_Edit]:
    edits: list[_Edit] = []
    starts = [seg.vstart for seg in text.segs]
    for span in spans:
        first = True
        i = max(0, bisect.bisect_right(starts, span.start) - 1)
        while i < len(text.segs) and text.segs[i].vstart < span.end:
            seg = text.segs[i]
            i += 1
            lo, hi = max(span.start, seg.vstart), min(span.end, seg.vstart + seg.vlen)
            if hi <= lo or seg.sstart < 0:
                continue
            if seg.identity:
                s, e = seg.sstart + lo - seg.vstart, seg.sstart + hi - seg.vstart
            else:
                s, e = seg.sstart, seg.send
            if edits and edits[-1].end > s:
                continue  # an entity already replaced by the previous span
            if first:
                mark = htmllib.escape(marker(span.label), quote=False)
                edits.append(_Edit(s, e, mark, ((span.kind, 0, len(mark)),)))
                first = False
            else:
                edits.append(_Edit(s, e, "", ()))
    return edits


def redact_html_document(source: str) -> Redaction:
    """Redacted HTML (still valid HTML) and the markers' offsets in it."""
    text = _Text()
    attr_edits: list[_Edit] = []
    _scan(source, text, attr_edits)
    spans = find_spans("".join(text.parts))
    edits = sorted(_text_edits(text, spans) + attr_edits, key=lambda e: e.start)
    if not edits:
        return Redaction(RedactedText(source), ())
    out: list[str] = []
    findings: list[Finding] = []
    pos = size = 0
    for edit in edits:
        if edit.start < pos:
            continue
        out.append(source[pos : edit.start])
        size += edit.start - pos
        findings.extend(Finding(kind, size + a, size + b) for kind, a, b in edit.marks)
        out.append(edit.text)
        size += len(edit.text)
        pos = edit.end
    out.append(source[pos:])
    return Redaction(RedactedText("".join(out)), tuple(findings))
