"""ingest.parse.message over the shared corpus: every mail parses (or is reported unusable), and
spot checks against the source projects' expectations (mime4j decoded parts, mail-parser
known values, Request Tracker's charset/filename/uuencode/forward cases)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.model import ParsedMessage
from ingest.parse.decode import decode_bytes
from ingest.parse.message import UnparseableMessage, parse_message

_NOT_MAIL_SUFFIXES = {".xml", ".json", ".tsv", ".md", ".out", ".bin", ".html"}
_BODY_ONLY_FOLDERS = (
    "willdurand-email-reply-parser/",
    "zapier-email-reply-parser/",
    "talon/signature/",
)
#: MIME fragments with neither a sender nor any text, and one Outlook .msg file.
EXPECTED_UNPARSEABLE = {
    "cpython-test_email/msg_18.txt",
    "cpython-test_email/msg_37.txt",
    "mime4j/mimetools-testmsgs/bluedot-simple.msg",
    "mime4j/mimetools-testmsgs/infinite.msg",
    "mime4j/mimetools-testmsgs/russian.msg",
    "mime4j/mimetools-testmsgs/x-gzip64.msg",
    "mime4j/testmsgs/russian-headers.msg",
    "spamscope-mail-parser/mails/mail_outlook_1",
}


def corpus_mails(corpus: Path) -> list[Path]:
    """Every file of the corpus that is a mail (not an expectation file or a bare body)."""
    found = []
    for path in sorted(corpus.rglob("*")):
        rel = path.relative_to(corpus).as_posix()
        if (
            not path.is_file()
            or path.suffix in _NOT_MAIL_SUFFIXES
            or path.name in ("LICENSE", "NOTICE", "lorem-ipsum")
            or "_decoded" in path.name
            or path.name.endswith("_reply_text")
            or rel.startswith(_BODY_ONLY_FOLDERS)
            or "/" not in rel
        ):
            continue
        found.append(path)
    return found


def parse_file(corpus: Path, rel: str) -> ParsedMessage:
    return parse_message((corpus / rel).read_bytes())


def test_every_corpus_mail_parses_or_is_unparseable(corpus_dir: Path) -> None:
    mails = corpus_mails(corpus_dir)
    assert len(mails) > 1000
    unparseable: set[str] = set()
    errors: list[str] = []
    for path in mails:
        rel = path.relative_to(corpus_dir).as_posix()
        try:
            parsed = parse_message(path.read_bytes())
        except UnparseableMessage:
            unparseable.add(rel)
            continue
        except Exception as exc:  # collected so one run names every broken file
            errors.append(f"{rel}: {exc!r}")
            continue
        for text in (parsed.text, parsed.subject, *(a.filename for a in parsed.attachments)):
            text.encode("utf-8")
            assert "\x00" not in text, rel
        assert parsed.date is None or parsed.date.utcoffset() is not None
    assert errors == []
    assert unparseable == EXPECTED_UNPARSEABLE


def test_mail_parser_known_values(corpus_dir: Path) -> None:
    folder = corpus_dir / "spamscope-mail-parser"
    entries = json.loads((folder / "expected.json").read_text())["entries"]
    known = next(e for e in entries if e["file"] == "mails/mail_test_2")
    parsed = parse_file(folder, known["file"])
    assert parsed.message_id == known["message_id"]
    assert parsed.sender is not None and parsed.sender.email == known["from"]
    assert len(parsed.to) == known["to_count"]
    assert parsed.to[0].email == known["to_first"]
    assert parsed.subject == known["subject"]
    assert len(parsed.attachments) == known["attachments"]
    assert parsed.date is not None and parsed.date.isoformat() == known["date_utc"]
    for entry in entries:
        if "attachments" in entry and entry["file"] != known["file"]:
            assert len(parse_file(folder, entry["file"]).attachments) >= entry["attachments"]


MIME4J_SPOT_CHECKS = [
    "testmsgs/qp-body",
    "testmsgs/base64-encoded-text",
    "testmsgs/basic-plain-very-long-lines",
    "testmsgs/missing-inner-boundary",
    "testmsgs/base64encoded-rfc822message-nested",
    "testmsgs/intermediate-boundaries",
    "testmsgs/example",
    "mimetools-testmsgs/multi-simple",
    "mimetools-testmsgs/mp-msg-rfc822",
    "mimetools-testmsgs/german-qp",
    "mimetools-testmsgs/multi-nested",
    "mimetools-testmsgs/attachment-filename-encoding-UTF8",
]


@pytest.mark.parametrize("stem", MIME4J_SPOT_CHECKS)
def test_mime4j_decoded_parts_match(corpus_dir: Path, stem: str) -> None:
    base = corpus_dir / "mime4j" / stem
    parsed = parse_message(base.with_suffix(".msg").read_bytes())
    expected_files = sorted(base.parent.glob(base.name + "_decoded_*.txt"))
    assert expected_files
    shown = " ".join(parsed.text.split())
    for expected in expected_files:
        data = expected.read_bytes()
        charset = "iso-8859-15" if stem.endswith("qp-body") else None
        text = " ".join(decode_bytes(data, charset)[0].split())
        assert text in shown or any(a.payload == data for a in parsed.attachments), expected.name


def test_request_tracker_cases(corpus_dir: Path) -> None:
    rt = corpus_dir / "request-tracker" / "emails"
    continuation = parse_file(rt, "rfc2231-attachment-filename-continuations")
    assert [a.filename for a in continuation.attachments] == ["新しいテキスト ドキュメント.txt"]
    notes = parse_file(rt, "notes-uuencoded")
    assert [a.filename for a in notes.attachments] == ["Naz_Head.jpg"]
    assert notes.attachments[0].payload.startswith(b"\xff\xd8\xff")
    assert "begin 644" not in notes.text
    outlook = parse_file(rt, "outlook-rfc822")
    assert outlook.text.endswith(
        'Subject: Updates to our terms of use\nTo: "root@localhost" <root@localhost>\n\n'
        "this is a test"
    )
    assert parse_file(rt, "new-ticket-from-gb18030").subject == "测试"
    assert parse_file(rt, "subject-with-folding-ws").subject == "test"
    assert parse_file(rt, "russian-subject-no-content-type").subject == "тест тест"
    nested = parse_file(rt, "nested-rfc-822")
    assert "---------- Forwarded message ----------\nFrom: Jonas Liljegren" in nested.text
