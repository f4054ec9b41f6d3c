"""Attached mails are redacted before they are stored; forwards keep what they forward."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from ingest.parse.message import parse_message
from ingest.prepare import prepare
from ingest.quotes import strip_forward
from ingest.redact.attached import redact_attached_mail
from tests.ingest.parse.test_bodies import tnef, winmail_mail

SECRET = "hunter2"
CARD = "4242 4242 4242 4242"


@dataclass(frozen=True)
class Limits:
    blocked_extensions: frozenset[str] = frozenset({"exe"})
    max_attachment_bytes: int = 10_000_000
    max_message_attachment_bytes: int = 20_000_000


def forwarded_as_attachment(encode_inner: bool = False) -> bytes:
    text = base64.b64encode(f"my password is {SECRET}\ncard {CARD}\n".encode()).decode()
    exe = base64.b64encode(b"MZ\x90\x00 program").decode()
    inner = (
        "From: Carl <carl@customer.example>\n"
        f"Subject: my password is {SECRET}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="i"\n\n'
        "--i\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        f"{text}\n"
        "--i\nContent-Type: application/octet-stream; name=tool.exe\n"
        "Content-Disposition: attachment; filename=tool.exe\n"
        f"Content-Transfer-Encoding: base64\n\n{exe}\n--i--\n"
    )
    cte = "Content-Transfer-Encoding: base64\n" if encode_inner else ""
    body = base64.encodebytes(inner.encode()).decode() if encode_inner else inner
    return (
        "From: Ann <ann@example.org>\nTo: help@desk.example\nSubject: Fwd: look at this\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="o"\n\n'
        "--o\nContent-Type: text/plain\n\nPlease look.\n"
        f"--o\nContent-Type: message/rfc822\n{cte}\n{body}--o--\n"
    ).encode()


def test_attached_mail_is_stored_redacted_with_blocked_parts_removed() -> None:
    for encode_inner in (False, True):
        content = prepare(parse_message(forwarded_as_attachment(encode_inner)), Limits())
        assert SECRET not in content.full_text and "[password removed]" in content.full_text
        emls = [a for a in content.attachments if a.content_type == "message/rfc822"]
        assert [a.filename for a in emls] == ["my password is [password removed].eml"]
        stored = emls[0].payload
        assert SECRET.encode() not in stored and b"4242 4242" not in stored
        reread = parse_message(stored)
        assert SECRET not in reread.subject
        assert "[password removed]" in reread.text and "[card ending 4242 removed]" in reread.text
        assert [a.filename for a in reread.attachments] == ["tool.exe.removed.txt"]
        assert b"MZ" not in reread.attachments[0].payload
        # the .exe is inside the .eml only (replaced there), never a file of the ticket
        assert [a.filename for a in content.attachments] == [emls[0].filename]
        assert content.dropped == ()
        # subject and body, shown in the text and repeated in the .eml: counted once each
        assert content.redactions == {"card": 1, "password": 2}


def test_unreadable_attached_mail_is_dropped_never_stored_raw() -> None:
    assert redact_attached_mail(b"From: a@b\n\nplain words", lambda _: None) is not None
    content = prepare(parse_message(forwarded_as_attachment()), Limits())
    assert all(SECRET.encode() not in a.payload for a in content.attachments)


FORWARD = (
    "FYI, see below.\n\n"
    "---------- Forwarded message ---------\n"
    "From: Carl <carl@customer.example>\n"
    "Date: Mon, 7 Dec 2026 10:00\n"
    "Subject: Broken login\n"
    "To: Ann <ann@example.org>\n\n"
    "I cannot log in since Friday.\n"
)
OUTLOOK_FORWARD = (
    "Please handle.\n\n"
    "From: Carl <carl@customer.example>\n"
    "Sent: Monday, December 7, 2026 10:00 AM\n"
    "To: Ann <ann@example.org>\n"
    "Subject: Broken login\n\n"
    "I cannot log in since Friday.\n"
)


def test_forward_subjects_keep_the_forwarded_message_visible() -> None:
    for subject in (
        "Fwd: Broken login",
        "FW: Broken login",
        "WG: x",
        "TR: x",
        "RV: x",
        "Doorst: x",
    ):
        for text in (FORWARD, OUTLOOK_FORWARD):
            visible = strip_forward(subject, text).visible
            assert "I cannot log in since Friday." in visible, (subject, text)
            assert visible.startswith(text.split("\n")[0])


def test_replies_still_lose_their_quoted_history() -> None:
    for subject in ("Re: Broken login", "AW: Fwd: x", "Broken login"):
        stripped = strip_forward(subject, OUTLOOK_FORWARD)
        assert stripped.visible == "Please handle."
        assert "I cannot log in" in stripped.quoted


def test_forward_keeps_its_content_through_prepare() -> None:
    raw = (
        "From: Ann <ann@example.org>\nTo: help@desk.example\nSubject: Fwd: Broken login\n\n"
        + FORWARD
    ).encode()
    content = prepare(parse_message(raw), Limits())
    assert "I cannot log in since Friday." in content.visible


def test_winmail_dat_inside_an_attached_mail_is_unpacked_and_redacted_there() -> None:
    container = tnef({"notes.txt": f"password: {SECRET}".encode(), "tool.exe": b"MZ\x90"})
    inner = winmail_mail(container, "Outlook sent this.").decode()
    raw = (
        "From: Ann <ann@example.org>\nSubject: Fwd: s\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="o"\n\n'
        f"--o\nContent-Type: message/rfc822\n\n{inner}--o--\n"
    ).encode()
    content = prepare(parse_message(raw), Limits())
    [eml] = content.attachments
    assert SECRET.encode() not in eml.payload and b"MZ\x90" not in eml.payload
    reread = parse_message(eml.payload)
    assert reread.text == "Outlook sent this."
    by_name = {a.filename: a.payload for a in reread.attachments}
    assert set(by_name) == {"notes.txt", "tool.exe.removed.txt"}
    assert b"[password removed]" in by_name["notes.txt"]
    broken = winmail_mail(b"not tnef at all").decode()
    wrapped = raw.decode().replace(inner, broken).encode()
    [kept] = prepare(parse_message(wrapped), Limits()).attachments
    assert [a.filename for a in parse_message(kept.payload).attachments] == ["winmail.dat"]
