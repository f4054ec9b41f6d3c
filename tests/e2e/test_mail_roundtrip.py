"""End to end: customer mail -> confirmation over SMTP -> customer replies from the mail client
-> comment -> agent replies with a command -> relay reaches the customer -> the clock moves ->
reminder and auto-close. Real SMTP on loopback (an aiosmtpd capture server), a driven clock.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from ingest.model import Outcome
from postdesk.notify_build import outbox_worker, scheduler
from store.reply_tokens import reply_address
from tests.helpers import mail
from tests.ingest.desk import Desk
from tests.notify.conftest import CaptureServer

SUPPORT = "support@desk.example"


@pytest.fixture
def relay() -> Iterator[CaptureServer]:
    server = CaptureServer()
    server.start()
    yield server
    server.stop()


def _messages(relay: CaptureServer, rcpt: str) -> list[EmailMessage]:
    found = []
    for captured in relay.handler.messages:
        if rcpt in [r.lower() for r in captured.rcpt_tos]:
            found.append(email.message_from_bytes(captured.data, policy=email.policy.default))
    return found


def _reply_to(original: EmailMessage, *, sender: str, body: str) -> bytes:
    """What a mail client sends when its user presses Reply."""
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = str(original["Reply-To"])
    reply["Subject"] = "Re: " + str(original["Subject"])
    reply["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2].strip(">"))
    reply["In-Reply-To"] = str(original["Message-ID"])
    reply["References"] = (
        str(original.get("References", "")) + " " + str(original["Message-ID"])
    ).strip()
    quoted = "\n".join(
        "> " + line for line in original.get_body(("plain",)).get_content().splitlines()
    )
    reply.set_content(f"{body}\n\nOn Mon, 23 Nov 2026, Support wrote:\n{quoted}\n")
    return reply.as_bytes()


def test_full_conversation_over_smtp(tmp_path: Path, db_url: str, relay: CaptureServer) -> None:
    desk = Desk(
        tmp_path, db_url, outbound={"transport": "smtp", "host": "127.0.0.1", "port": relay.port}
    )
    worker = outbox_worker(desk.app)
    jobs = scheduler(desk.app)

    created = desk.ingest(
        mail(subject="Exports fail", body="Priority: high\n\nExports fail with error 500.\n"),
        "support@desk.example",
    )
    assert created.outcome is Outcome.CREATED
    assert worker.drain(desk.clock.now).sent == 2  # confirmation + team notice
    (confirmation,) = _messages(relay, "carol@acme.example")
    assert f"[{created.ticket}]" in confirmation["Subject"]
    assert confirmation["Auto-Submitted"] == "auto-replied"
    assert (
        confirmation["Reply-To"]
        .addresses[0]
        .addr_spec.startswith(f"support+{created.ticket.lower()}.")
    )

    desk.clock.advance(minutes=20)
    reply = _reply_to(
        confirmation,
        sender="Carol Customer <carol@acme.example>",
        body="Here is the request id: 7f3a-991.",
    )
    commented = desk.ingest(reply, str(confirmation["Reply-To"].addresses[0].addr_spec))
    assert commented.outcome is Outcome.COMMENTED
    assert commented.ticket == created.ticket
    assert (
        desk.ticket(created.ticket)["comments"][-1]["body"] == "Here is the request id: 7f3a-991."
    )

    worker.drain(desk.clock.now)
    (_team_notice, comment_notice) = _messages(relay, "team@desk.example")
    desk.clock.advance(minutes=10)
    agent_reply = _reply_to(
        comment_notice,
        sender="Alice <alice@desk.example>",
        body="#status waiting_on_customer\nThanks! Which browser do you use?",
    )
    staff = desk.ingest(agent_reply, str(comment_notice["Reply-To"].addresses[0].addr_spec))
    assert staff.outcome is Outcome.COMMENTED, staff.reason
    assert desk.ticket(created.ticket)["status"] == "waiting_on_customer"
    worker.drain(desk.clock.now)
    relayed = _messages(relay, "carol@acme.example")[-1]
    assert "Which browser do you use?" in relayed.get_body(("plain",)).get_content()
    assert "#status" not in relayed.get_body(("plain",)).get_content()
    assert "Auto-Submitted" not in relayed
    assert str(confirmation["Message-ID"]) in str(relayed["References"])

    desk.clock.advance(days=3, minutes=1)
    jobs.run_due(desk.clock.now)
    worker.drain(desk.clock.now)
    reminder = _messages(relay, "carol@acme.example")[-1]
    assert f"[{created.ticket}]" in reminder["Subject"]
    assert reminder["Auto-Submitted"] == "auto-generated"
    jobs.run_due(desk.clock.now)  # a second sweep at the same instant sends nothing twice
    assert worker.drain(desk.clock.now).sent == 0

    desk.clock.advance(days=7, minutes=1)
    jobs.run_due(desk.clock.now)
    worker.drain(desk.clock.now)
    assert desk.ticket(created.ticket)["status"] == "closed"
    closing = _messages(relay, "carol@acme.example")[-1]
    assert (
        closing["Subject"] != reminder["Subject"] or closing["Message-ID"] != reminder["Message-ID"]
    )
    desk.close()


def test_every_mail_the_pipeline_queues_renders_and_sends(tmp_path: Path, sqlite_url: str) -> None:
    """Contract check between ingest (writes rows) and notify (renders them): nothing dead."""
    desk = Desk(
        tmp_path,
        sqlite_url,
        desk={"trust_staff_from": False},
        ingest={"sender_rate_limit": "2/10m"},
    )
    created = desk.send(
        cc="dave@acme.example",
        body="Priority: nope\n\nMy password is hunter2hunter2\n",
        attachments=[("x.exe", "application/octet-stream", b"MZ")],
    )
    number = created.ticket
    desk.clock.advance(minutes=11)
    desk.send(
        subject=f"Re: [{number}]", body="Escalation: production down\n\npassword: abc123xyz!\n"
    )
    desk.clock.advance(minutes=11)
    desk.send(subject=f"Re: [{number}]", body="#mute\n")
    desk.send(sender="stranger@nowhere.example")
    desk.send(sender="alice@desk.example", subject=f"Re: [{number}]", body="#close\n")
    desk.send(sender="alice@desk.example", subject="Re: [SUP-9999]", body="hm\n")
    desk.clock.advance(minutes=11)  # past alice's flood window
    token = reply_address(desk.app.settings.desk.secret_key, SUPPORT, number, "alice@desk.example")
    desk.send(
        (token,),
        sender="alice@desk.example",
        to=token,
        subject=f"Re: [{number}]",
        body="#assign bob\n#status done\nAnswered.\n",
        attachments=[("fix.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n")],
    )
    for i in range(3):
        desk.send(sender="dave@acme.example", subject=f"flood {i}")
    kinds = {r.kind for r in desk.outbox()}
    assert {
        "confirmation",
        "new_ticket_notice",
        "comment_notice",
        "redaction_notice",
        "escalation_requested",
        "mute_notice",
        "unknown_sender",
        "unverified_staff",
        "not_found",
        "flood_held",
        "unverified_staff_reply",
        "staff_reply",
        "staff_reply_copy",
        "assignment_notice",
        "command_problems",
    } <= kinds
    report = outbox_worker(desk.app).drain(desk.clock.now)
    dead = [(r.kind, r.last_error) for r in desk.outbox() if r.status == "dead"]
    assert dead == []
    assert report.sent >= 10
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["Message-ID"] and message["Date"] and message["X-Loop"]
        assert "hunter2" not in path.read_text(errors="replace")
    desk.close()


def test_references_hold_only_what_the_recipient_has_seen(tmp_path: Path, sqlite_url: str) -> None:
    desk = Desk(tmp_path, sqlite_url, desk={"trust_staff_from": True})
    created = desk.send(message_id="<first@acme.example>")
    desk.clock.advance(minutes=1)
    desk.send(subject=f"Re: [{created.ticket}]", body="More.\n", message_id="<second@acme.example>")
    desk.clock.advance(minutes=1)
    desk.send(
        sender="alice@desk.example",
        subject=f"Re: [{created.ticket}]",
        body="#internal\nlegacy plan\n",
        message_id="<note@desk.example>",
    )
    desk.send(
        sender="alice@desk.example",
        subject=f"Re: [{created.ticket}]",
        body="Fixed, please check.\n",
        message_id="<answer@desk.example>",
    )
    assert outbox_worker(desk.app).drain(desk.clock.now).dead == 0
    rows = {r.kind: r for r in desk.outbox() if r.recipient == "carol@acme.example"}
    team = [r.message_id for r in desk.outbox() if r.recipient == "team@desk.example"]
    relay = email.message_from_bytes(
        (tmp_path / "outbox" / f"{rows['staff_reply'].id}.eml").read_bytes(),
        policy=email.policy.default,
    )
    references = str(relay["References"]).split()
    # what Carol saw, oldest first, then the staff mail this one relays (its In-Reply-To)
    assert references == [
        "<first@acme.example>",
        rows["confirmation"].message_id,
        "<second@acme.example>",
        "<answer@desk.example>",
    ]
    assert not set(references) & set(team)
    assert "<note@desk.example>" not in references and relay["Message-ID"] not in references
    desk.close()
