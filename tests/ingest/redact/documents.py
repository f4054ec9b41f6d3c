"""Builders of small documents that hide text: a PDF (compressed page stream), Office and
OpenDocument files, zip, gzip and tar archives. Used by the document and leak tests."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
import zlib
from xml.sax.saxutils import escape


def pdf(text: str, *, title: str = "Report") -> bytes:
    """A one-page PDF showing `text` (one line per line), its page stream Flate-compressed."""
    lines = "".join(
        f"({line.replace(chr(92), chr(92) * 2).replace('(', chr(92) + '(').replace(')', chr(92) + ')')}) Tj 0 -14 Td "
        for line in text.splitlines()
    )
    stream = zlib.compress(f"BT /F1 12 Tf 72 720 Td {lines}ET".encode("latin-1"))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Title ({title}) >>".encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def docx(text: str) -> bytes:
    """A Word document; each word of a line in its own run (as Word splits them)."""
    paragraphs = "".join(
        "<w:p>"
        + "".join(f'<w:r><w:t xml:space="preserve">{escape(w)} </w:t></w:r>' for w in line.split())
        + "</w:p>"
        for line in text.splitlines()
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{paragraphs}</w:body></w:document>"
    )
    return zipped(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
            "word/document.xml": document.encode(),
        }
    )


def xlsx(rows: list[list[str]]) -> bytes:
    """A workbook whose cells are shared strings."""
    strings = [cell for row in rows for cell in row]
    shared = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    index = iter(range(len(strings)))
    sheet_rows = "".join(
        "<row>" + "".join(f'<c t="s"><v>{next(index)}</v></c>' for _ in row) + "</row>"
        for row in rows
    )
    return zipped(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
            "xl/sharedStrings.xml": f'<?xml version="1.0"?><sst>{shared}</sst>'.encode(),
            "xl/worksheets/sheet1.xml": f"<worksheet><sheetData>{sheet_rows}</sheetData></worksheet>".encode(),
        }
    )


def odt(text: str) -> bytes:
    body = "".join(f"<text:p>{escape(line)}</text:p>" for line in text.splitlines())
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        f"<office:body><office:text>{body}</office:text></office:body></office:document-content>"
    )
    return zipped(
        {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": content.encode()}
    )
