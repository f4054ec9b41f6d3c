"""An HTML body read within bounds: depth capped, and too large a body read as text only.

The HTML readers (nh3's tree builder, the stdlib parser behind `html_to_text`, the
redactor's and the quote stripper's walkers) do Python or tree work for every tag. So a
body is kept as HTML only up to `MAX_HTML_CHARS` characters and `MAX_HTML_TAGS` tags, with
its nesting capped (`ingest.parse.html_depth`); a larger one is reduced to text by
`html_as_text` (a few regular-expression passes over the string, no per-tag Python work)
and no HTML of it is kept. Should the sanitiser still make much more HTML than it was
given (re-opened formatting elements), that output is not kept either.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass

from ingest.parse.html import html_to_text, sanitise_html
from ingest.parse.html_depth import MAX_HTML_DEPTH, cap_depth

__all__ = ["MAX_HTML_CHARS", "MAX_HTML_TAGS", "HtmlBody", "html_as_text", "read_html", "too_large"]

MAX_HTML_CHARS = 1_000_000
MAX_HTML_TAGS = 50_000
_MAX_GROWTH = 4  # sanitised HTML may be this many times its input (plus a little)
# With this few tags neither the depth (at most the tag count) nor the re-opened formatting
# elements (at most its square) can cost the tree builder much: no need to cap.
_FEW_TAGS = 4 * MAX_HTML_DEPTH

_RAW_NAMES = ("script", "style", "title", "template", "noscript", "svg", "math", "xml", "head")
_RAW_END = {
    name: re.compile(rf"</{name}\s*>" + ("|<body\\b" if name == "head" else ""), re.I)
    for name in _RAW_NAMES
}
_TAG = re.compile(
    r"<(?:!--.*?(?:-->|\Z)|[!?][^>]*(?:>|\Z)|/?([A-Za-z][A-Za-z0-9:\-]*)"
    r"(?:[^>\"']|\"[^\"]*(?:\"|\Z)|'[^']*(?:'|\Z))*(?:>|\Z))",
    re.S,
)
_BLOCK_NAMES = frozenset(
    {"p", "div", "br", "tr", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "table",
     "blockquote", "pre", "hr", "ul", "ol", "dl", "section", "article", "header", "footer",
     "center", "address", "caption", "form", "fieldset", "figure", "nav", "main", "aside"}
)  # fmt: skip
_REPLACEMENT = {name: "\n" for name in _BLOCK_NAMES} | {"td": " ", "th": " "}


@dataclass(frozen=True, slots=True)
class HtmlBody:
    """What an HTML body part gives: sanitised HTML to keep (None when it was too large),
    readable text (None when not asked for), and a note when it was bounded ("" if not)."""

    html: str | None
    text: str | None
    note: str


def too_large(html: str) -> bool:
    """True when `html` is too large to be read as HTML (`html_as_text` reads it)."""
    return len(html) > MAX_HTML_CHARS or html.count("<") > MAX_HTML_TAGS


def _tag_replacement(m: re.Match[str]) -> str:
    name = m.group(1)
    if not name:
        return ""
    return _REPLACEMENT.get(name) or _REPLACEMENT.get(name.lower(), "")


def _without_raw_text(html: str) -> str:
    """`html` without scripts, styles, the head and the like (found with str.find on a
    lower-case copy: one pass for each name)."""
    low = html.lower()
    found = {name: low.find("<" + name) for name in _RAW_NAMES}
    kept: list[str] = []
    pos = 0
    while True:
        live = [(at, name) for name, at in found.items() if at >= 0]
        if not live:
            break
        at, name = min(live)
        after = at + 1 + len(name)
        if after < len(low) and (low[after].isalnum() or low[after] in "-:"):
            found[name] = low.find("<" + name, after)  # <header, <titles: not this one
            continue
        kept.append(html[pos:at])
        end = _RAW_END[name].search(html, after)
        if end is None:  # unclosed: a browser shows nothing after it either
            pos = len(html)
            break
        pos = end.start() if end.group()[:2] == "<b" or end.group()[:2] == "<B" else end.end()
        for other, where in found.items():
            if 0 <= where < pos:
                found[other] = low.find("<" + other, pos)
    kept.append(html[pos:])
    return "".join(kept)


def html_as_text(html: str) -> str:
    """Readable text of any HTML in linear time: scripts, styles and comments dropped,
    block tags as line breaks, cells apart, other tags removed, entities decoded."""
    text = htmllib.unescape(_TAG.sub(_tag_replacement, _without_raw_text(html)))
    lines: list[str] = []
    for line in text.split("\n"):
        words = " ".join(line.split())
        if words or (lines and lines[-1]):  # runs of blank lines: one
            lines.append(words)
    return "\n".join(lines).strip()


def _size(chars: int) -> str:
    return f"{chars / 1_000_000:.3g} MB" if chars >= 100_000 else f"{chars} characters"


def read_html(html: str, with_text: bool) -> HtmlBody:
    """The sanitised HTML and (when `with_text`) the text of one HTML body, within bounds."""
    if too_large(html):
        note = (
            f"HTML body too large to keep as HTML ({_size(len(html))}, {html.count('<')} "
            f"tags; the limits are {_size(MAX_HTML_CHARS)} and {MAX_HTML_TAGS} tags): "
            "kept as text only"
        )
        return HtmlBody(None, html_as_text(html) if with_text else None, note)
    capped, dropped = (html, 0) if html.count("<") <= _FEW_TAGS else cap_depth(html)
    note = (
        f"HTML nested deeper than {MAX_HTML_DEPTH} elements: {dropped} tags inside read as text"
        if dropped
        else ""
    )
    sanitised = sanitise_html(capped)
    if len(sanitised) > _MAX_GROWTH * len(html) + 10_000:
        note = "HTML body grew too much when sanitised: kept as text only"
        return HtmlBody(None, html_as_text(html) if with_text else None, note)
    return HtmlBody(sanitised, html_to_text(capped) if with_text else None, note)
