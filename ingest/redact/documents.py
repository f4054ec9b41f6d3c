"""Secrets inside documents: the text of PDFs, archives and Office files, checked.

A password in a PDF, a key in `config.zip`, a card number in a `.docx` or in `app.log.gz`
cannot be cut out of the file the way a marker replaces it in text, so such a file is
withheld: `scan_document` extracts its text (pypdf for PDF; zip, tar, gzip, bzip2 and xz
with the stdlib, members inside members up to a depth; the XML of Office and OpenDocument
files read as text), runs the redactor over it and says which kinds of secret it holds.
The caller drops the attachment with `withheld_reason` ("contains a password"), notes it
on the ticket and names it in the notice to the sender. Reading is bounded by `Budget`
(members, bytes, compression ratio, depth, pages, a deadline); a zip bomb is withheld
unread, and a file that cannot be read at all is kept as it was (as before this check).
"""

from __future__ import annotations

import io
import logging
from collections import Counter
from dataclasses import dataclass

from ingest.redact.archives import Budget, TooCompressed, archive_kind, members
from ingest.redact.csv_columns import is_table, redact_table
from ingest.redact.office import sheet_tables, xml_text
from ingest.redact.redactor import redact_text
from ingest.redact.textfile import decode_text

__all__ = ["DocumentScan", "is_document", "scan_document", "withheld_reason"]

logging.getLogger("pypdf").setLevel(logging.ERROR)  # a hostile PDF must not flood the log

_PDF = b"%PDF-"
_MAX_PAGES = 200
_MAX_TEXT_CHARS = 8 << 20
_BINARY_SHARE = 0.1  # more control characters than this in a member: not text
_XML_SUFFIXES = (".xml", ".rels", ".xhtml", ".html", ".htm", ".svg")
_PHRASES = {
    "password": "a password",
    "api_key": "an API key",
    "private_key": "a private key",
    "jwt": "an access token",
    "bearer_token": "an access token",
    "url_credentials": "a password in a link",
    "connection_string": "a database password",
    "otp_code": "a one-time code",
    "recovery_code": "recovery codes",
    "card": "a payment card number",
    "card_cvv": "a card security code",
    "card_expiry": "a card expiry date",
}


@dataclass(frozen=True, slots=True)
class DocumentScan:
    """What a document holds: the kinds of secret found in its text (with counts), and
    whether it was withheld unread (a zip bomb)."""

    found: dict[str, int]
    too_compressed: bool = False

    @property
    def withheld(self) -> bool:
        return bool(self.found) or self.too_compressed


def is_document(data: bytes) -> bool:
    """True for the files `scan_document` reads: PDF and the archive formats."""
    return data[:1024].lstrip().startswith(_PDF) or archive_kind(data) is not None


def scan_document(filename: str, data: bytes, budget: Budget | None = None) -> DocumentScan:
    """The secrets in the text of a PDF, archive or Office file (empty for other files)."""
    budget = budget or Budget()
    found: Counter[str] = Counter()
    try:
        _scan(filename, data, budget, found, 0)
    except TooCompressed:
        return DocumentScan(dict(found), too_compressed=True)
    except RecursionError:  # pragma: no cover - a PDF object graph deeper than the stack
        pass
    return DocumentScan(dict(sorted(found.items())))


def withheld_reason(scan: DocumentScan) -> str:
    """Why a document is not kept, for the ticket and the sender: "contains a password"."""
    if scan.too_compressed:
        return "compressed too highly to be checked (a possible zip bomb)"
    phrases = list(dict.fromkeys(_PHRASES.get(kind, "a secret") for kind in scan.found))
    listed = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    return f"contains {listed}"


def _scan(name: str, data: bytes, budget: Budget, found: Counter[str], depth: int) -> None:
    if budget.out_of_time():
        return
    if data[:1024].lstrip().startswith(_PDF):
        _count(_pdf_text(data, budget), found)
    elif archive_kind(data) is not None:
        if depth >= budget.max_depth:
            budget.exhausted = True
            return
        files = list(members(data, budget))
        for table in sheet_tables(dict(files)):
            _count(table, found, table="sheet.tsv")
        for member, content in files:
            _scan(member or _inner_name(name), content, budget, found, depth + 1)
    elif depth > 0:  # a member of an archive: its text, when it is text
        _count(_member_text(name, data), found, table=name if is_table(name, "") else None)


def _inner_name(name: str) -> str:
    """`app.log.gz` -> `app.log`: the name of a compressed file's content."""
    stem, dot, extension = name.rpartition(".")
    return stem if dot and extension.lower() in ("gz", "gzip", "bz2", "xz", "tgz") else name


def _count(text: str, found: Counter[str], *, table: str | None = None) -> None:
    """Add the secrets in `text` to `found` (max per kind: a workbook's sheets repeat its
    shared strings); `table` names a CSV/TSV table read by column."""
    if text.strip():
        result = redact_table(text, table) if table is not None else redact_text(text)
        found |= Counter(result.counts())


def _member_text(name: str, data: bytes) -> str:
    text, _ = decode_text(data, None)
    if name.lower().endswith(_XML_SUFFIXES) or text.lstrip().startswith("<?xml"):
        return xml_text(text)
    sample = text[:4096]
    controls = sum(1 for ch in sample if (ch < " " and ch not in "\t\r\n\f") or
                   "\udc80" <= ch <= "\udcff")  # fmt: skip
    return "" if controls > len(sample) * _BINARY_SHARE else text[:_MAX_TEXT_CHARS]


def _pdf_text(data: bytes, budget: Budget) -> str:
    """The text of a PDF's pages and its metadata; "" when pypdf cannot read it."""
    from pypdf import PdfReader  # noqa: PLC0415 - loaded only when a PDF arrives

    pieces: list[str] = []
    size = 0
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return ""
        if reader.metadata is not None:
            pieces.extend(str(value) for value in reader.metadata.values())
        for number, page in enumerate(reader.pages):
            if number >= _MAX_PAGES or size > _MAX_TEXT_CHARS or budget.out_of_time():
                budget.exhausted = True
                break
            text = page.extract_text() or ""
            size += len(text)
            pieces.append(text)
    except Exception:  # pypdf raises many kinds on broken files: what was read is checked
        return "\n".join(pieces)
    return "\n".join(pieces)
