"""HTML mail body -> plain text in which quoted history is `>`-prefixed.

Mail clients mark quoted history in HTML rather than with `>`: `<blockquote>`, Gmail's
`gmail_quote`, Yahoo's `yahoo_quoted`, Outlook for Mac's `OLK_SRC_BODY_SECTION`. This
converter (stdlib `html.parser`, one pass, linear in the input) writes readable text with
every line inside such an element prefixed by `> `, so the plain-text rules in
`quotes_rules` find quotes, attributions and Outlook header blocks the same way in both.
A horizontal rule becomes an underscore line, the separator Outlook puts above its header
block. Scripts, styles and the head are dropped; links keep their address in brackets.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

from ingest.parse.html import BLOCK_ELEMENTS

_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
_BLOCK = BLOCK_ELEMENTS | {"center"}
_SKIP = frozenset(["script", "style", "head", "title", "template", "noscript"])
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "protonmail_quote", "moz-forward-container")
_QUOTE_IDS = ("olk_src_body_section",)
_RULE = "_" * 32
_SPACES = re.compile(r"[ \t\r\n\f\u00a0]+")


class _TextWriter(HTMLParser):
    """Collects text lines; tracks open elements to know the quote depth and skipped parts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[str] = []
        self._line: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, opens a quote)
        self._open: Counter[str] = Counter()
        self._depth = 0
        self._skipping = 0
        self._pre = 0
        self._link: str | None = None
        self._link_text: list[str] = []

    def _break(self) -> None:
        text = "".join(self._line).strip() if not self._pre else "".join(self._line).rstrip()
        self._lines.append("> " + text if self._depth else text)
        self._line = []

    def _push(self, tag: str, quote: bool) -> None:
        self._stack.append((tag, quote))
        self._open[tag] += 1
        if quote:
            self._break()
            self._depth += 1
        if tag in _SKIP:
            self._skipping += 1
        if tag == "pre":
            self._pre += 1

    def _pop(self) -> None:
        tag, quote = self._stack.pop()
        self._open[tag] -= 1
        if tag in _BLOCK or quote:
            self._break()
        if quote:
            self._depth -= 1
        if tag in _SKIP:
            self._skipping -= 1
        if tag == "pre":
            self._pre -= 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open an element: breaks for blocks, quote depth for quote containers."""
        values = {name: (value or "") for name, value in attrs}
        if tag == "br":
            self._break()
            return
        if tag == "hr":
            self._break()
            self._line.append(_RULE)
            self._break()
            return
        if tag in _VOID:
            return
        if tag in _BLOCK:
            self._break()
        classes = values.get("class", "")
        quote = (
            tag == "blockquote"
            or any(name in classes for name in _QUOTE_CLASSES)
            or values.get("id", "").lower() in _QUOTE_IDS
        )
        if tag == "a":
            href = values.get("href", "")
            self._link = href if href.startswith(("http://", "https://")) else None
            self._link_text = []
        self._push(tag, quote)

    def handle_endtag(self, tag: str) -> None:
        """Close the element and any unclosed ones inside it."""
        if tag == "a" and self._link:
            shown = "".join(self._link_text).strip()
            if shown and shown != self._link:
                self._line.append(f" <{self._link}>")
            self._link = None
        if not self._open[tag]:
            return
        while self._stack:
            done = self._stack[-1][0] == tag
            self._pop()
            if done:
                return

    def handle_data(self, data: str) -> None:
        """Text: whitespace collapsed outside <pre>."""
        if self._skipping:
            return
        if self._pre:
            for number, part in enumerate(data.split("\n")):
                if number:
                    self._break()
                self._line.append(part)
            return
        text = _SPACES.sub(" ", data)
        self._line.append(text)
        if self._link is not None:
            self._link_text.append(text)

    def text(self) -> str:
        """All collected text, with runs of blank lines collapsed to one."""
        while self._stack:
            self._pop()
        self._break()
        out: list[str] = []
        for line in self._lines:
            blank = not line.strip(" >")
            if blank and out and not out[-1].strip(" >"):
                continue
            out.append(line.rstrip())
        return "\n".join(out).strip()


def html_to_quoted_text(html: str) -> str:
    """Readable plain text of an HTML body; quoted history comes out `>`-prefixed."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    return writer.text()
