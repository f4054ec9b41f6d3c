"""The text of Office and OpenDocument files (zip archives of XML), read without a parser.

`xml_text` turns any of their XML parts into text: tags out, entities resolved, paragraphs
and rows on lines of their own, cells apart, and the runs Word splits a paragraph into
joined again. `sheet_tables` reads the sheets of a workbook (xlsx with its shared strings,
ods) as tab-separated tables, so a column headed `Password` is checked as a column
(`ingest.redact.csv_columns`). Regular expressions only: linear, no entity expansion.
"""

from __future__ import annotations

import html
import re

__all__ = ["sheet_tables", "xml_text"]

MAX_XML_CHARS = 8 << 20
_ODS_TYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_BREAKS = frozenset({"p", "tr", "row", "si", "br", "h", "li", "div", "list-item", "line-break",
                     "table-row", "cr", "txbody", "title", "description"})  # fmt: skip
_CELLS = frozenset({"c", "tc", "td", "th", "table-cell", "tab"})
_TAG = re.compile(r"<(/?)(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[^>]*?(/?)>")
_SKIPPED = re.compile(r"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[|\]\]>|<!DOCTYPE[^>]*>", re.S)
_SHARED = re.compile(r"<si\b[^>]*>(.*?)</si>", re.S)
_TEXT_RUN = re.compile(r"<t\b[^>]*>(.*?)</t>", re.S)
_ROW = re.compile(r"<row\b[^>]*>(.*?)</row>", re.S)
_CELL = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_VALUE = re.compile(r"<v\b[^>]*>(.*?)</v>", re.S)
_ATTRIBUTE = re.compile(r'\b(r|t)="([^"]*)"')
_COLUMN = re.compile(r"[A-Z]+")
_MAX_COLUMNS = 1000


def xml_text(xml: str, *, cells_hold_paragraphs: bool = False) -> str:
    """The text of an XML part; with `cells_hold_paragraphs` (a spreadsheet) a paragraph
    inside a cell does not end the row."""

    def replace(match: re.Match[str]) -> str:
        closing, name, empty = match.group(1), match.group(2).lower(), match.group(3)
        if name in _CELLS and (closing or empty):
            return "\t"
        if name == "s" and empty:  # OpenDocument's <text:s/>: a space
            return " "
        if name == "p" and cells_hold_paragraphs:
            return ""
        return "\n" if name in _BREAKS and (closing or empty) else ""

    return html.unescape(_TAG.sub(replace, _SKIPPED.sub("", xml[:MAX_XML_CHARS])))


def _decoded(data: bytes) -> str:
    return data[:MAX_XML_CHARS].decode("utf-8", "replace")


def _runs(fragment: str) -> str:
    return html.unescape("".join(_TEXT_RUN.findall(fragment)))


def _column(reference: str) -> int | None:
    letters = _COLUMN.match(reference)
    if letters is None:
        return None
    index = 0
    for letter in letters.group():
        index = index * 26 + ord(letter) - 64
    return index - 1 if index <= _MAX_COLUMNS else None


def _xlsx_sheet(sheet: str, shared: list[str]) -> str:
    lines = []
    for row in _ROW.finditer(sheet):
        cells: list[str] = []
        for cell in _CELL.finditer(row.group(1)):
            attributes = dict(_ATTRIBUTE.findall(cell.group(1)))
            body = cell.group(2) or ""
            value = _VALUE.search(body)
            if attributes.get("t") == "s" and value and value.group(1).strip().isdigit():
                number = int(value.group(1))
                text = shared[number] if number < len(shared) else ""
            elif attributes.get("t") == "inlineStr":
                text = _runs(body)
            else:
                text = html.unescape(value.group(1)) if value else ""
            column = _column(attributes.get("r", ""))
            if column is not None and column > len(cells):
                cells.extend([""] * (column - len(cells)))
            cells.append(" ".join(text.split()))
        lines.append("\t".join(cells))
    return "\n".join(lines)


def sheet_tables(files: dict[str, bytes]) -> list[str]:
    """The sheets of an xlsx or ods workbook as tab-separated text ([] for other files)."""
    if files.get("mimetype", b"").strip() == _ODS_TYPE and "content.xml" in files:
        return [xml_text(_decoded(files["content.xml"]), cells_hold_paragraphs=True)]
    sheets = sorted(n for n in files if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    if not sheets:
        return []
    strings = files.get("xl/sharedStrings.xml", b"")
    shared = [_runs(item) for item in _SHARED.findall(_decoded(strings))]
    return [_xlsx_sheet(_decoded(files[name]), shared) for name in sheets]
