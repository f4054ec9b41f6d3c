"""HTML bodies: sanitised HTML to keep, and readable plain text for mails without a text part.

`sanitise_html` uses nh3 (ammonia): no script, style, iframe, object, event handler
attributes or javascript: URLs survive; `cid:` image links do, so inline images still
resolve. `html_to_text` is a small stdlib converter that writes what a reader sees:
paragraphs and line breaks, "- " list items, "> " for blockquotes (so quoted history can
be stripped later like plain text), links as their text (as a reader sees them; the
addresses stay in the sanitised HTML), nothing hidden, no markdown.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

_CLEANER = nh3.Cleaner(
    url_schemes=set(nh3.ALLOWED_URL_SCHEMES) | {"cid"},
    clean_content_tags={
        "script", "style", "title", "iframe", "object", "embed", "noscript", "template",
        "svg", "math", "applet", "frame", "frameset", "xml",
    },
)  # fmt: skip


def sanitise_html(html: str) -> str:
    """Return `html` without active content (script, style, frames, on* handlers, js URLs)."""
    return _CLEANER.clean(html)


# Elements that start a block of text: shared by the HTML readers (quotes, redaction), each
# of which adds the few it treats as blocks for its own purpose.
BLOCK_ELEMENTS: frozenset[str] = frozenset(
    [
        "address",
        "article",
        "aside",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
    ]
)
_SKIP = frozenset(
    {"script", "style", "head", "title", "template", "noscript", "object", "iframe", "svg",
     "math", "applet", "xml", "select"}
)  # fmt: skip
_PARAGRAPH = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "pre", "hr",
     "blockquote", "address", "figure", "fieldset", "form"}
)  # fmt: skip
_LINE = frozenset(
    {"div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "center", "nav",
     "aside", "main", "caption", "figcaption", "details", "summary"}
)  # fmt: skip
_VOID = frozenset({"br", "img", "hr", "wbr", "input", "meta", "link", "area", "col", "base"})
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all", re.I)
_SPACES = re.compile(r"[ \t\r\n\f\v\xa0\u200b\u200c\u200d\ufeff]+")


class _TextWriter(HTMLParser):
    """Collects visible text as lines, each with the blockquote depth it is in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self._current: list[str] = []
        self._depth = 0
        self._pre = 0
        self._skip_tag: str | None = None
        self._skip_nesting = 0
        self._line_depth = 0

    def _flush(self, blank: bool = False) -> None:
        text = "".join(self._current).rstrip()
        if text or (not blank and self.lines and self.lines[-1][1]):
            self.lines.append((self._line_depth, text))
        if blank and self.lines and self.lines[-1][1]:
            self.lines.append((self._depth, ""))
        self._current = []
        self._line_depth = self._depth

    def _break(self, blank: bool) -> None:
        if self._current or blank:
            self._flush(blank)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_tag is not None:
            self._skip_nesting += tag == self._skip_tag
            return
        style = next((v for k, v in attrs if k == "style" and v), "")
        if tag in _SKIP or (tag not in _VOID and style and _HIDDEN.search(style)):
            self._skip_tag, self._skip_nesting = tag, 1
            return
        if tag == "br":
            self._flush()
        elif tag == "blockquote":
            self._break(True)
            self._depth += 1
            self._line_depth = self._depth
        elif tag in _PARAGRAPH:
            self._break(True)
            if tag == "hr":
                self._current.append("-" * 20)
                self._flush(True)
            self._pre += tag == "pre"
        elif tag in _LINE:
            self._break(False)
            if tag == "li":
                self._current.append("- ")
        elif tag in ("td", "th") and self._current:
            self._current.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_nesting -= 1
                if self._skip_nesting <= 0:
                    self._skip_tag = None
            return
        if tag == "blockquote":
            self._break(True)
            self._depth = max(0, self._depth - 1)
            self._line_depth = self._depth
        elif tag in _PARAGRAPH:
            self._pre = max(0, self._pre - (tag == "pre"))
            self._break(True)
        elif tag in _LINE:
            self._break(False)

    def handle_data(self, data: str) -> None:
        if self._skip_tag is not None or not data:
            return
        if self._pre:
            first, *rest = data.replace("\r\n", "\n").split("\n")
            self._current.append(first)
            for line in rest:
                self._flush()
                self._current.append(line)
            return
        text = _SPACES.sub(" ", data)
        if not self._current or self._current[-1].endswith((" ", "- ")):
            text = text.lstrip(" ")
        if text:
            self._current.append(text)


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body (what a person would see, as lines)."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    writer._flush()
    lines: list[tuple[int, str]] = []
    for depth, line in writer.lines:
        if line or (lines and lines[-1][1]):
            lines.append((depth, line))
    while lines and not lines[-1][1]:
        lines.pop()
    out: list[str] = []
    for index, (depth, line) in enumerate(lines):
        # a blank line belongs to the shallower of its neighbours
        shown = min(depth, lines[index - 1][0], lines[index + 1][0]) if not line else depth
        out.append(("> " * shown + line).rstrip())
    return "\n".join(out)
