"""Capping how deep an HTML body nests before a tree builder sees it.

An HTML5 tree builder (html5ever in nh3) checks the stack of open elements on every tag, so
a body of 100,000 nested `<div>` costs it quadratic time; unclosed formatting elements
(`<b>`, `<font>`, ...) are re-opened in every later paragraph, so a few hundred of them
multiply the output. `cap_depth` walks the tags once (a regular expression that never
backtracks, constant work a tag) with a conservative model of the builder's stack and its
list of active formatting elements, and drops the tags that would go deeper than
`MAX_HTML_DEPTH` or open more than `MAX_OPEN_FORMATTING` formatting elements: the content
of a dropped element stays, as text in the deepest kept element (a dropped block still
breaks the line). The model errs on the deep side (it may count an element the builder
closed implicitly, never the reverse), so the builder's own depth stays within a small
multiple of the cap whatever the markup.
"""

from __future__ import annotations

import re
from collections import defaultdict

__all__ = ["MAX_HTML_DEPTH", "MAX_OPEN_FORMATTING", "cap_depth"]

MAX_HTML_DEPTH = 128
MAX_OPEN_FORMATTING = 8

_TAG = re.compile(
    r"<(?:!--.*?(?:-->|\Z)|[!?][^>]*(?:>|\Z)|(/?)([A-Za-z][A-Za-z0-9:\-]*)"
    r"(?:[^>\"']|\"[^\"]*(?:\"|\Z)|'[^']*(?:'|\Z))*(?:>|\Z))",
    re.S,
)
_VOID = frozenset(
    {"area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img",
     "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
     "html", "head", "body"}  # merged into the existing ones by the builder: never deeper
)  # fmt: skip
_FOREIGN = frozenset({"svg", "math"})
_RAW_TEXT = frozenset(
    {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"}
)
_FORMATTING = frozenset(
    {"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong",
     "tt", "u"}
)  # fmt: skip
_MARKERS = frozenset({"applet", "caption", "marquee", "object", "template", "td", "th"})
_SCOPE = _MARKERS | {"html", "table", "svg", "math", "foreignobject", "desc"}
_SCOPES = {
    "": _SCOPE,
    "button": _SCOPE | {"button"},
    "list": _SCOPE | {"ol", "ul"},
    "table": frozenset({"html", "table", "template"}),
}
_SPECIAL = frozenset(
    {"address", "applet", "article", "aside", "blockquote", "button", "caption", "center",
     "colgroup", "dd", "details", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure",
     "footer", "form", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
     "iframe", "li", "listing", "main", "marquee", "menu", "nav", "noembed", "noframes",
     "noscript", "object", "ol", "p", "plaintext", "pre", "script", "search", "section",
     "select", "style", "summary", "table", "tbody", "td", "template", "textarea", "tfoot",
     "th", "thead", "title", "tr", "ul", "xmp",
     "mi", "mo", "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc"}
)  # fmt: skip
_BLOCKS = _SPECIAL - {
    "button", "script", "style", "title", "template", "textarea", "iframe", "mi", "mo", "mn",
    "ms", "mtext", "annotation-xml", "foreignobject", "desc", "select", "noscript", "noembed",
    "noframes", "object", "applet", "marquee",
}  # fmt: skip
_CLOSES_P = frozenset(
    {"address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
     "dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu",
     "nav", "ol", "p", "search", "section", "summary", "ul", "h1", "h2", "h3", "h4", "h5", "h6",
     "pre", "listing", "form", "li", "dd", "dt", "plaintext", "table", "hr", "xmp"}
)  # fmt: skip
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_TABLE_MODE = frozenset({"table", "tbody", "thead", "tfoot", "tr"})
# start tag -> (names it closes when one is open in scope, the scope, stopped by specials)
_IMPLIED: dict[str, tuple[frozenset[str], str, bool]] = {
    "li": (frozenset({"li"}), "list", True),
    "dd": (frozenset({"dd", "dt"}), "", True),
    "dt": (frozenset({"dd", "dt"}), "", True),
    "tr": (frozenset({"tr", "td", "th"}), "table", False),
    "td": (frozenset({"td", "th"}), "table", False),
    "th": (frozenset({"td", "th"}), "table", False),
}
_CLOSERS = {name: re.compile(rf"</{name}[\s/>]", re.I) for name in _RAW_TEXT | _FOREIGN}
_TABLE_PARTS = frozenset(
    {"caption", "col", "colgroup", "tbody", "td", "tfoot", "th", "thead", "tr"}
)
_BREAK = "<br>"


class _Model:
    """The builder's stack of open elements and active formatting elements, as names."""

    def __init__(self) -> None:
        self.stack: list[str | None] = []  # None: removed from the middle (a formatting end)
        self.live = 0
        self.positions: defaultdict[str, list[int]] = defaultdict(list)
        self.bounds: dict[str, list[int]] = {scope: [] for scope in _SCOPES}
        self.specials: list[int] = []
        self.stoppers: list[int] = []  # specials but address, div and p (they end li, dd)
        self.active: list[str | None] = []  # None: a marker (cell, caption, object)
        self.formatting = 0

    def in_scope(self, name: str, scope: str = "") -> int | None:
        """Where `name` is open with no scope boundary above it, or None."""
        where = self.positions.get(name)
        if not where:
            return None
        bounds = self.bounds[scope]
        if bounds and bounds[-1] > where[-1]:
            return None
        return where[-1]

    def special_above(self, index: int, stoppers_only: bool = False) -> bool:
        """True when a special element (one that stops the builder's searches) is open
        above `index`."""
        above = self.stoppers if stoppers_only else self.specials
        return bool(above) and above[-1] > index

    def top(self) -> str | None:
        """The current node's name (None when nothing is open)."""
        return self.stack[-1] if self.stack else None

    def push(self, name: str) -> None:
        index = len(self.stack)
        self.stack.append(name)
        self.live += 1
        self.positions[name].append(index)
        for scope, names in _SCOPES.items():
            if name in names:
                self.bounds[scope].append(index)
        if name in _SPECIAL:
            self.specials.append(index)
            if name not in ("address", "div", "p"):
                self.stoppers.append(index)
        if name in _FORMATTING:
            self.active.append(name)
            self.formatting += 1
        elif name in _MARKERS:
            self.active.append(None)

    def pop_to(self, index: int) -> None:
        """Close the element at `index` and everything opened after it."""
        while len(self.stack) > index:
            self._pop_top()
        while self.stack and self.stack[-1] is None:
            self.stack.pop()

    def _pop_top(self) -> None:
        name = self.stack.pop()
        if name is None:
            return
        index = len(self.stack)
        self.live -= 1
        self.positions[name].pop()
        for bounds in self.bounds.values():
            if bounds and bounds[-1] == index:
                bounds.pop()
        for marks in (self.specials, self.stoppers):
            if marks and marks[-1] == index:
                marks.pop()
        if name in _MARKERS:  # the formatting opened inside a cell ends with it
            while self.active:
                entry = self.active.pop()
                if entry is None:
                    break
                self.formatting -= 1

    def remove(self, index: int) -> None:
        """Take the element at `index` out of the stack, leaving what is above it open."""
        name = self.stack[index]
        assert name is not None
        self.stack[index] = None
        self.live -= 1
        self.positions[name].pop()  # `index` is the last of them

    def forget_formatting(self, name: str) -> None:
        """Drop the last active `name` after the last marker (its end tag was seen)."""
        for back in range(len(self.active) - 1, -1, -1):
            entry = self.active[back]
            if entry is None:
                return
            if entry == name:
                del self.active[back]
                self.formatting -= 1
                return


def cap_depth(html: str, max_depth: int = MAX_HTML_DEPTH) -> tuple[str, int]:
    """`html` without the tags that nest deeper than `max_depth` (or open too many
    formatting elements) and without SVG and MathML, and how many tags were dropped."""
    model = _Model()
    dropped: defaultdict[str, int] = defaultdict(int)
    out: list[str] = []
    pos = kept_to = 0
    text_since_break = False
    removed = 0
    changed = False
    n = len(html)
    while pos < n:
        m = _TAG.search(html, pos)
        if m is None:
            break
        if m.start() > pos and not html[pos : m.start()].isspace():
            text_since_break = True
        pos = m.end()
        name = (m.group(2) or "").lower()
        if not name or (name in _VOID and name != "hr"):
            continue
        drop = False
        if m.group(1):  # an end tag
            drop = _end_tag(model, name, dropped)
        elif name == "plaintext":  # everything after it is text
            model.push(name)
            break
        elif name in _FOREIGN:  # removed with its content (the sanitiser drops it too)
            close = _CLOSERS[name].search(html, pos)
            end = _TAG.match(html, close.start()) if close else None
            out.append(html[kept_to : m.start()])
            kept_to = pos = end.end() if end else pos
            changed = True
            continue
        else:
            drop = _start_tag(model, name, max_depth, dropped)
            closer = _CLOSERS.get(name)
            if closer is not None and not drop:  # its content is text, not tags
                close = closer.search(html, pos)
                pos = close.start() if close else n
        if not drop:
            if name in _BLOCKS:
                text_since_break = False
            continue
        removed += 1
        changed = True
        out.append(html[kept_to : m.start()])
        kept_to = m.end()
        if name in _BLOCKS and text_since_break:
            out.append(_BREAK)
            text_since_break = False
    if not changed:
        return html, 0
    out.append(html[kept_to:])
    return "".join(out), removed


def _start_tag(model: _Model, name: str, max_depth: int, dropped: defaultdict[str, int]) -> bool:
    """Apply a start tag to the model; True when it must be dropped."""
    if name in _TABLE_PARTS and model.in_scope("table", "table") is None:
        return False  # outside a table the builder ignores it
    if name == "form" and model.positions.get("form"):
        return False  # a form inside a form is ignored
    top = model.top()
    implied = _IMPLIED.get(name)
    if implied is not None:
        closes, scope, stopped = implied
        found = [i for i in (model.in_scope(c, scope) for c in closes) if i is not None]
        if found and not (stopped and model.special_above(max(found), True)):
            model.pop_to(min(found) if name == "tr" else max(found))  # a row closes its cell
    elif name in ("a", "nobr") and model.positions.get(name):
        _end_tag(model, name, defaultdict(int))  # the open one is closed first
    elif name == "select" and model.positions.get("select"):
        model.pop_to(model.positions[name][-1])
        return False  # a select inside a select only closes it
    elif name == "button" and model.in_scope(name) is not None:
        model.pop_to(model.positions[name][-1])
    elif name == "table" and top in _TABLE_MODE and model.in_scope("table", "table") is not None:
        model.pop_to(model.positions["table"][-1])
    if name in _CLOSES_P:
        where = model.in_scope("p", "button")
        if where is not None:
            model.pop_to(where)
    top = model.top()
    if (name in _HEADINGS and top in _HEADINGS) or (name == "option" and top == "option"):
        model.pop_to(len(model.stack) - 1)  # a heading ends the heading it is in
    if name == "hr":
        return False
    too_deep = model.live >= max_depth and name not in _RAW_TEXT
    if too_deep or (name in _FORMATTING and model.formatting >= MAX_OPEN_FORMATTING):
        dropped[name] += 1
        return True
    model.push(name)
    return False


def _end_tag(model: _Model, name: str, dropped: defaultdict[str, int]) -> bool:
    """Apply an end tag to the model; True when it closes a dropped start tag."""
    if dropped[name] > 0:  # dropped elements are deeper than every kept one: theirs first
        dropped[name] -= 1
        return True
    scope = "button" if name == "p" else "list" if name == "li" else ""
    where = model.in_scope(name, scope)
    if where is None:
        if name in _FORMATTING and not model.positions.get(name):
            model.forget_formatting(name)  # not open: the builder forgets it too
        return False
    if name == "form":
        model.remove(where)  # the builder takes the form out and leaves the rest open
        return False
    if name not in _SPECIAL and model.special_above(where):
        if name in _FORMATTING:
            model.remove(where)  # the adoption agency keeps the blocks opened inside open
        return False  # any other element: the builder ignores the end tag
    model.pop_to(where)
    if name in _FORMATTING:
        model.forget_formatting(name)
    return False
