"""Secrets inside PDFs, archives and Office files: found, the file withheld; bombs bounded."""

from __future__ import annotations

import bz2
import zipfile

import pytest

from ingest.redact.archives import Budget
from ingest.redact.documents import is_document, scan_document, withheld_reason
from tests.ingest.redact.documents import docx, gzipped, odt, pdf, tar_gz, xlsx, zipped

TEXT = "Login details\nuser: carol\npassword: Xk9#mPq2vLr\n"
CARD = "Card 4111 1111 1111 1111 exp 12/29\n"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("creds.pdf", pdf(TEXT)),
        ("creds.zip", zipped({"notes/creds.txt": TEXT.encode()})),
        ("app.log.gz", gzipped(TEXT.encode())),
        ("logs.tar.gz", tar_gz({"logs/app.log": TEXT.encode()})),
        ("creds.docx", docx(TEXT)),
        ("creds.odt", odt(TEXT)),
        ("users.xlsx", xlsx([["user", "password"], ["carol", "hunter2"]])),
        ("nested.zip", zipped({"inner.zip": zipped({"creds.docx": docx(TEXT)})})),
        ("utf16.zip", zipped({"creds.txt": b"\xff\xfe" + TEXT.encode("utf-16-le")})),
        ("users.zip", zipped({"users.csv": b"user,password\ncarol,hunter2\n"})),
    ],
)
def test_a_document_holding_a_password_is_withheld(name: str, data: bytes) -> None:
    assert is_document(data)
    scan = scan_document(name, data)
    assert scan.withheld and scan.found == {"password": 1}
    assert withheld_reason(scan) == "contains a password"


def test_the_reason_names_every_kind_found() -> None:
    scan = scan_document("card.pdf", pdf(CARD + TEXT))
    reason = withheld_reason(scan)
    assert reason.startswith("contains ") and " and " in reason
    for phrase in ("a password", "a payment card number", "a card expiry date"):
        assert phrase in reason


def test_documents_without_secrets_are_kept() -> None:
    for name, data in [
        ("report.pdf", pdf("Quarterly figures\nall fine, invoice INV-2026-0042")),
        ("report.docx", docx("Meeting notes\nthe export works again")),
        ("table.xlsx", xlsx([["user", "note"], ["carol", "fine"]])),
        ("pics.zip", zipped({"a.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8})),
    ]:
        assert not scan_document(name, data).withheld, name


def test_unreadable_and_encrypted_files_are_kept_as_they_were() -> None:
    assert not scan_document("broken.pdf", b"%PDF-1.4\n garbage").withheld
    assert not scan_document("broken.zip", b"PK\x03\x04 not really").withheld
    encrypted = bytearray(zipped({"creds.txt": TEXT.encode()}))
    encrypted[6] |= 0x1  # the "encrypted" flag: its bytes cannot be read
    central = encrypted.rfind(b"PK\x01\x02")
    encrypted[central + 8] |= 0x1
    assert not scan_document("locked.zip", bytes(encrypted)).withheld


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bomb.zip", zipped({"zeros.txt": b"0" * (64 << 20)})),
        ("bomb.gz", gzipped(b"0" * (64 << 20))),
        ("bomb.bz2", bz2.compress(b"0" * (64 << 20))),
    ],
)
def test_compression_bombs_are_withheld_unread(name: str, data: bytes) -> None:
    scan = scan_document(name, data)
    assert scan.too_compressed and scan.withheld
    assert "zip bomb" in withheld_reason(scan)


def test_reading_stops_at_the_member_limit_and_the_depth() -> None:
    many = zipped({f"f{i}.txt": b"hello" for i in range(50)} | {"z.txt": TEXT.encode()})
    budget = Budget(max_members=10)
    assert not scan_document("many.zip", many, budget).withheld and budget.exhausted
    deep = TEXT.encode()
    for level in range(5):
        deep = zipped({f"level{level}.zip" if level else "creds.txt": deep})
    budget = Budget(max_depth=3)
    assert not scan_document("deep.zip", deep, budget).withheld and budget.exhausted
    assert scan_document("deep.zip", deep, Budget(max_depth=6)).withheld


def test_a_zip_member_named_as_a_directory_or_empty_is_skipped() -> None:
    data = zipped({"dir/": b"", "empty.txt": b""})
    assert zipfile.is_zipfile(__import__("io").BytesIO(data))
    assert not scan_document("d.zip", data).withheld
