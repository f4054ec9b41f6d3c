"""Guards: bounces and auto-replies, flood limits, attachments, secrets, quarantine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from ingest.model import Outcome, RawMessage
from postdesk.notify_build import outbox_worker
from store import directory
from tests.helpers import mail
from tests.ingest.desk import Desk


@pytest.fixture
def desk(tmp_path: Path, sqlite_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, sqlite_url)
    yield d
    d.close()


def _bounce_for(message_id: str, recipient: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.acme.example\r\nTo: support@desk.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce1@mx.acme.example>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.acme.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@desk.example\r\nTo: {recipient}\r\nMessage-ID: {message_id}\r\n"
        "Subject: [SUP-1001] Cannot export\r\n\r\n--B--\r\n"
    ).encode()


def test_bounce_of_our_notification_marks_the_recipient_and_opens_nothing(desk: Desk) -> None:
    desk.send()
    confirmation = desk.outbox("confirmation")[0]
    assert confirmation.message_id
    before = len(desk.outbox())
    result = desk.ingest(_bounce_for(confirmation.message_id, "carol@acme.example"))
    assert result.outcome is Outcome.IGNORED
    assert "marked bouncing: 1" in result.reason
    assert len(desk.outbox()) == before
    with desk.app.db.transaction() as session:
        contact = directory.find_contact(session, "carol@acme.example")
        assert contact is not None and contact.bouncing
    created = desk.send(sender="dave@acme.example", cc="carol@acme.example")
    assert created.outcome is Outcome.CREATED
    outbox_worker(desk.app).drain(desk.clock.now)
    later = {r.recipient: r.status for r in desk.outbox("confirmation")[1:]}
    assert later == {"dave@acme.example": "sent", "carol@acme.example": "skipped"}


def test_bounce_of_someone_elses_mail_marks_nobody(desk: Desk) -> None:
    result = desk.ingest(_bounce_for("<not-ours@elsewhere.example>", "carol@acme.example"))
    assert result.outcome is Outcome.IGNORED
    with desk.app.db.transaction() as session:
        contact = directory.find_contact(session, "carol@acme.example")
        assert contact is not None and not contact.bouncing


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"Precedence": "bulk"},
        {"List-Id": "<announce.lists.acme.example>"},
        {"X-Loop": "support@desk.example"},
    ],
)
def test_auto_replies_are_ignored_and_never_answered(desk: Desk, headers: dict[str, str]) -> None:
    created = desk.send()
    before = len(desk.outbox())
    result = desk.send(subject=f"Re: [{created.ticket}] Automatic reply", headers=headers)
    assert result.outcome is Outcome.IGNORED
    assert len(desk.outbox()) == before
    assert len(desk.ticket(created.ticket)["comments"]) == 1


def test_auto_reply_from_a_stranger_gets_no_unknown_sender_reply(desk: Desk) -> None:
    result = desk.send(
        sender="vacation@nowhere.example", headers={"Auto-Submitted": "auto-replied"}
    )
    assert result.outcome is Outcome.IGNORED
    assert desk.outbox() == []


def test_our_own_mail_coming_back_is_ignored(desk: Desk) -> None:
    result = desk.send(sender="support@desk.example")
    assert result.outcome is Outcome.IGNORED


def test_sender_flood_is_held_and_ops_told_once(tmp_path: Path, sqlite_url: str) -> None:
    desk = Desk(tmp_path, sqlite_url, ingest={"sender_rate_limit": "3/10m"})
    outcomes = [desk.send(subject=f"n{i}").outcome for i in range(5)]
    assert outcomes == [Outcome.CREATED] * 3 + [Outcome.HELD] * 2
    assert [r.recipient for r in desk.outbox("flood_held")] == ["ops@desk.example"]
    held = desk.app.quarantine.list()
    assert [item.reason.split(":")[0] for item in held] == ["held", "held"]
    desk.clock.advance(minutes=11)
    assert desk.send(subject="later").outcome is Outcome.CREATED
    desk.clock.advance(minutes=11)
    assert desk.app.intake.ingest(
        RawMessage(data=desk.app.quarantine.read(held[0].id))
    ).outcome is (Outcome.DUPLICATE)  # the same mail sent again is not a release
    released = [
        desk.app.intake.ingest(RawMessage(data=desk.app.quarantine.read(item.id), released=True))
        for item in held
    ]
    assert [r.outcome for r in released] == [Outcome.CREATED, Outcome.CREATED]
    desk.close()


def test_quarantine_is_purged_after_the_retention_period(desk: Desk) -> None:
    desk.ingest(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert desk.app.purge_quarantine(desk.clock.now) == 0
    later = desk.app.quarantine.list()[0].quarantined_at + timedelta(days=31)
    assert desk.app.purge_quarantine(later) == 1
    assert desk.app.quarantine.list() == []


def test_domain_flood_is_held(tmp_path: Path, sqlite_url: str) -> None:
    desk = Desk(tmp_path, sqlite_url, ingest={"domain_rate_limit": "2/1h"})
    first = desk.send()
    second = desk.send(sender="dave@acme.example")
    third = desk.send(sender="zed@acme.example")
    assert (first.outcome, second.outcome, third.outcome) == (
        Outcome.CREATED,
        Outcome.CREATED,
        Outcome.HELD,
    )
    assert "domain acme.example" in third.reason
    desk.close()


def test_attachments_are_stored_by_content_and_limits_apply(
    tmp_path: Path, sqlite_url: str
) -> None:
    desk = Desk(tmp_path, sqlite_url, ingest={"max_attachment_bytes": 1000})
    result = desk.send(
        attachments=[
            ("screenshot.png", "image/png", b"\x89PNG" + b"\x00" * 500),
            ("copy.png", "image/png", b"\x89PNG" + b"\x00" * 500),
            ("huge.pdf", "application/pdf", b"%PDF" + b"x" * 2000),
            ("setup.exe", "application/octet-stream", b"MZ" + b"\x00" * 10),
            ("page.html", "text/html", b"<html><script>alert(1)</script></html>"),
        ]
    )
    ticket = desk.ticket(result.ticket)
    assert [a["filename"] for a in ticket["attachments"]] == ["screenshot.png", "copy.png"]
    blobs = [p for p in (tmp_path / "data" / "attachments").rglob("*") if p.is_file()]
    assert len(blobs) == 1
    dropped = desk.outbox("confirmation")[0].context["notes"]["dropped_attachments"]
    assert {d["filename"]: d["reason"] for d in dropped} == {
        "huge.pdf": "larger than 1000 bytes",
        "setup.exe": "blocked file type .exe",
        "page.html": "HTML with script",
    }
    assert ticket["comments"][0]["notes"]["dropped_attachments"]
    desk.close()


def test_secrets_are_removed_flagged_and_reported(desk: Desk) -> None:
    created = desk.send(
        subject="card 4111 1111 1111 1111 declined",
        body="My password is Tr0ub4dor&3 and the card 4111-1111-1111-1111.\n",
    )
    ticket = desk.ticket(created.ticket)
    assert "Tr0ub4dor" not in str(ticket)
    assert "4111" not in ticket["subject"]
    assert "credential_exposed" in ticket["flags"]
    assert created.redactions["password"] == 1
    assert created.redactions["card"] == 2
    notes = desk.outbox("confirmation")[0].context["notes"]
    assert notes["credential_exposed"] is True
    desk.send(subject=f"Re: [{created.ticket}]", body="New one: password: hunter2hunter2\n")
    notice = desk.outbox("redaction_notice")
    assert [n.recipient for n in notice] == ["carol@acme.example"]
    assert notice[0].context["redactions"] == {"password": 1}


def test_text_attachment_is_redacted(desk: Desk) -> None:
    log = b"2026-11-23 connect postgres://app:s3cretPassw0rd@db.acme.example/prod ok\n"
    created = desk.send(attachments=[("app.log", "text/plain", log)])
    assert (
        created.redactions.get("connection_string") == 1
        or created.redactions.get("url_credentials") == 1
    )
    stored = b"".join(p.read_bytes() for p in (desk.app.blobs.root).rglob("*") if p.is_file())
    assert b"s3cretPassw0rd" not in stored
    assert b"2026-11-23 connect" in stored


def test_unusable_mail_is_quarantined_encrypted(desk: Desk) -> None:
    garbage = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + b"password=hunter2"
    result = desk.ingest(garbage)
    assert result.outcome is Outcome.QUARANTINED
    items = desk.app.quarantine.list()
    assert len(items) == 1
    on_disk = b"".join(p.read_bytes() for p in desk.app.quarantine.root.rglob("*") if p.is_file())
    assert b"hunter2" not in on_disk
    assert desk.app.quarantine.read(items[0].id) == garbage


def test_mail_without_a_readable_sender_is_quarantined(desk: Desk) -> None:
    data = b"To: support@desk.example\r\nSubject: who am I\r\n\r\nsome text\r\n"
    result = desk.ingest(data)
    assert result.outcome is Outcome.QUARANTINED


def test_processing_failure_quarantines_instead_of_losing(desk: Desk, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("injected fault")

    monkeypatch.setattr("ingest.analyse.prepare", boom)
    result = desk.app.intake.ingest(RawMessage(data=mail(), source="cli"))
    assert result.outcome is Outcome.QUARANTINED
    assert "RuntimeError" in result.reason
    assert len(desk.app.quarantine.list()) == 1
    monkeypatch.undo()
    assert (
        desk.app.intake.ingest(
            RawMessage(data=desk.app.quarantine.read(desk.app.quarantine.list()[0].id))
        ).outcome
        is Outcome.CREATED
    )


def test_same_message_recorded_by_another_daemon_at_once_is_a_duplicate(desk: Desk) -> None:
    """The unique dedupe key loses the race: the message is re-run and found a duplicate."""
    from sqlalchemy.exc import IntegrityError

    data = mail(message_id="<race@acme.example>")
    real_process = desk.app.pipeline.process
    calls = []

    def racing(session, raw, analysis=None):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            desk.app.intake.ingest(RawMessage(data=data))  # the other daemon commits first
            raise IntegrityError("INSERT", {}, Exception("duplicate key value"))
        return real_process(session, raw, analysis)

    desk.app.pipeline.process = racing  # type: ignore[method-assign]
    result = desk.app.intake.ingest(RawMessage(data=data))
    assert result.outcome is Outcome.DUPLICATE
    assert desk.app.quarantine.list() == []
