"""Mail for agents: commands reported, team copies, assignment and unverified-sender notices,
display names and signatures, attachments both ways, and the customers' priority ceiling."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from ingest.model import Outcome
from postdesk.notify_build import outbox_worker
from store.attachment_links import verify
from store.reply_tokens import reply_address
from tests.helpers import example_config
from tests.ingest.desk import Desk

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
STAFF = [
    {
        "name": "alice",
        "email": "alice@desk.example",
        "display_name": "Alice Moreau",
        "signature": "Alice Moreau\nSecond-level support",
    },
    {"name": "bob", "email": "bob@desk.example"},
]


@pytest.fixture
def desk(tmp_path: Path, db_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, db_url, staff=STAFF)
    yield d
    d.close()


def _token(desk: Desk, number: str, recipient: str) -> str:
    return reply_address(
        desk.app.settings.desk.secret_key, "support@desk.example", number, recipient
    )


def _staff_reply(desk: Desk, number: str, body: str, sender: str = "alice", **fields: Any) -> Any:
    token = _token(desk, number, f"{sender}@desk.example")
    return desk.send(
        (token,),
        sender=f"{sender}@desk.example",
        to=token,
        subject=f"Re: [{number}]",
        body=body,
        **fields,
    )


def _sent(tmp_path: Path, row_id: int) -> EmailMessage:
    data = (tmp_path / "outbox" / f"{row_id}.eml").read_bytes()
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content()).replace("\r\n", "\n")


def _files(message: EmailMessage) -> dict[str, bytes]:
    return {
        str(part.get_filename()): part.get_content()
        for part in message.iter_attachments()
        if isinstance(part, EmailMessage)
    }


def test_commands_by_word_and_colon_apply_and_are_never_relayed(desk: Desk) -> None:
    created = desk.send()
    result = _staff_reply(
        desk, created.ticket, "#Status Waiting on customer\n#priority: low\n\nWhich browser?\n"
    )
    assert result.outcome is Outcome.COMMENTED, result.reason
    ticket = desk.ticket(created.ticket)
    assert (ticket["status"], ticket["priority"]) == ("waiting_on_customer", "low")
    (relay,) = desk.outbox("staff_reply")
    assert relay.context["comment"]["body"] == "Which browser?"
    assert desk.outbox("command_problems") == []


def test_invalid_commands_are_reported_to_the_agent_with_the_valid_forms(desk: Desk) -> None:
    created = desk.send()
    result = _staff_reply(
        desk, created.ticket, "#status done\n#assign nobody\n\nLooking into it.\n"
    )
    assert "2 invalid command(s) reported" in result.reason
    assert desk.ticket(created.ticket)["status"] == "open"
    (relay,) = desk.outbox("staff_reply")
    assert relay.context["comment"]["body"] == "Looking into it."
    (report,) = desk.outbox("command_problems")
    assert report.recipient == "alice@desk.example"
    lines = [item["line"] for item in report.context["invalid"]]
    assert lines == ["#status done", "#assign nobody"]
    assert any(form.startswith("#status open") for form in report.context["valid_forms"])
    note = desk.ticket(created.ticket)["comments"][-1]["notes"]
    assert len(note["invalid_commands"]) == 2


def test_category_visibility_cc_and_unassign(desk: Desk) -> None:
    created = desk.send()
    _staff_reply(desk, created.ticket, "#assign me\n#category billing\n#visibility private\n")
    ticket = desk.ticket(created.ticket)
    assert (ticket["assignee"], ticket["category"], ticket["visibility"]) == (
        "alice",
        "billing",
        "private",
    )
    assert desk.outbox("assignment_notice") == []  # she assigned herself
    _staff_reply(desk, created.ticket, "#unassign\n#cc erin@globex.example\n\nCopying Erin.\n")
    ticket = desk.ticket(created.ticket)
    assert ticket["assignee"] is None
    assert "erin@globex.example" in ticket["watchers"]
    relays = sorted(r.recipient for r in desk.outbox("staff_reply"))
    assert relays == ["carol@acme.example", "erin@globex.example"]


def test_assignee_is_told(desk: Desk) -> None:
    created = desk.send()
    _staff_reply(desk, created.ticket, "#assign bob\n")
    (notice,) = desk.outbox("assignment_notice")
    assert notice.recipient == "bob@desk.example"
    assert notice.context["assigned_by"] == "Alice Moreau"
    assert notice.context["ticket"]["assignee"] == "bob"


def test_public_reply_is_copied_to_the_team_never_to_its_author(desk: Desk) -> None:
    created = desk.send()
    _staff_reply(desk, created.ticket, "Fixed, please check.\n")
    (copy,) = desk.outbox("staff_reply_copy")
    assert copy.recipient == "team@desk.example"
    assert copy.context["relayed_to"] == ["carol@acme.example"]
    assert copy.context["comment"]["body"] == "Fixed, please check."
    _staff_reply(desk, created.ticket, "#internal\nnote only\n")
    assert len(desk.outbox("staff_reply_copy")) == 1  # internal notes are not copied


def test_without_a_team_address_the_assignee_and_staff_watchers_get_the_copy(
    tmp_path: Path, db_url: str
) -> None:
    desk = Desk(tmp_path, db_url, staff=STAFF, ops={"team_address": ""})
    created = desk.send(cc="dave@acme.example")
    _staff_reply(desk, created.ticket, "#assign bob\n#cc alice@desk.example\n\nOn it.\n")
    copies = desk.outbox("staff_reply_copy")
    assert [c.recipient for c in copies] == ["bob@desk.example"]
    relays = sorted(r.recipient for r in desk.outbox("staff_reply"))
    assert relays == ["carol@acme.example", "dave@acme.example"]  # never staff
    _staff_reply(desk, created.ticket, "More news.\n", sender="bob")
    copies = desk.outbox("staff_reply_copy")
    assert [c.recipient for c in copies] == ["bob@desk.example", "alice@desk.example"]
    desk.close()


def test_unverified_staff_mail_is_answered_to_the_staff_mailbox(desk: Desk) -> None:
    created = desk.send()
    result = desk.send(
        sender="Alice <alice@desk.example>",
        subject=f"Re: [{created.ticket}]",
        body="#close\nAll fixed.\n",
        headers={"Reply-To": "attacker@evil.example"},
        attachments=[("fix.pdf", "application/pdf", PDF)],
    )
    assert result.outcome is Outcome.COMMENTED
    assert desk.ticket(created.ticket)["status"] == "open"
    assert desk.outbox("staff_reply") == []
    (notice,) = desk.outbox("unverified_staff_reply")
    assert notice.recipient == "alice@desk.example"
    assert notice.context["commands"] == ["#close"]
    assert notice.context["attachments"] == ["fix.pdf"]
    assert notice.context["relayed"] is True
    assert notice.context["reply_address"] == _token(desk, created.ticket, "alice@desk.example")
    assert [r.recipient for r in desk.outbox("unverified_staff")] == ["ops@desk.example"]
    assert all(r.recipient != "attacker@evil.example" for r in desk.outbox())


def test_relayed_reply_is_from_the_agents_display_name_with_the_signature(
    tmp_path: Path, desk: Desk
) -> None:
    created = desk.send()
    _staff_reply(desk, created.ticket, "Fixed, please check.\n")
    (relay,) = desk.outbox("staff_reply")
    assert relay.context["from_name"] == "Alice Moreau (Example Support)"
    assert outbox_worker(desk.app).drain(desk.clock.now).dead == 0
    message = _sent(tmp_path, relay.id)
    assert message["From"].addresses[0].display_name == "Alice Moreau (Example Support)"
    assert message["From"].addresses[0].addr_spec == "support@desk.example"
    content = _text(message)
    assert "-- \nAlice Moreau\nSecond-level support" in content
    assert "alice, Example Support" not in content


def test_agents_attachments_reach_the_customer_and_blocked_ones_do_not(
    tmp_path: Path, desk: Desk
) -> None:
    created = desk.send()
    _staff_reply(
        desk,
        created.ticket,
        "Here is the report.\n",
        attachments=[
            ("report.pdf", "application/pdf", PDF),
            ("tool.exe", "application/octet-stream", b"MZ"),
        ],
    )
    (relay,) = desk.outbox("staff_reply")
    assert [a["filename"] for a in relay.context["attachments"]] == ["report.pdf"]
    (copy,) = desk.outbox("staff_reply_copy")
    assert [b["filename"] for b in copy.context["blocked_attachments"]] == ["tool.exe"]
    outbox_worker(desk.app).drain(desk.clock.now)
    assert _files(_sent(tmp_path, relay.id)) == {"report.pdf": PDF}
    assert _files(_sent(tmp_path, copy.id)) == {"report.pdf": PDF}


def test_team_notice_carries_attachments_flags_and_blocked_files(
    tmp_path: Path, desk: Desk
) -> None:
    desk.send(
        body="My password is hunter2hunter2, see the screenshot.\n",
        attachments=[
            ("screenshot.png", "image/png", PNG),
            ("setup.exe", "application/octet-stream", b"MZ"),
        ],
    )
    (notice,) = desk.outbox("new_ticket_notice")
    assert notice.context["flags"] == ["credential_exposed"]
    assert [b["filename"] for b in notice.context["blocked_attachments"]] == ["setup.exe"]
    assert [a["filename"] for a in notice.context["attachments"]] == ["screenshot.png"]
    outbox_worker(desk.app).drain(desk.clock.now)
    message = _sent(tmp_path, notice.id)
    assert _files(message) == {"screenshot.png": PNG}
    content = _text(message)
    assert "Flags: credential_exposed" in content
    assert "setup.exe: " in content
    assert "screenshot.png (" in content and "attached" in content


def test_comment_notice_carries_the_comments_attachments(tmp_path: Path, desk: Desk) -> None:
    created = desk.send()
    desk.send(
        subject=f"Re: [{created.ticket}]",
        body="Another one.\n",
        attachments=[("second.png", "image/png", PNG)],
    )
    (notice,) = desk.outbox("comment_notice")
    assert [a["filename"] for a in notice.context["attachments"]] == ["second.png"]


def test_attachments_over_the_limit_are_linked(tmp_path: Path, db_url: str) -> None:
    desk = Desk(
        tmp_path,
        db_url,
        notify={"attach_max_bytes": 1000},
        http={"public_url": "https://desk.example.com/"},
    )
    desk.send(attachments=[("screenshot.png", "image/png", PNG)])
    (notice,) = desk.outbox("new_ticket_notice")
    outbox_worker(desk.app).drain(desk.clock.now)
    message = _sent(tmp_path, notice.id)
    assert _files(message) == {}
    content = _text(message)
    prefix = "https://desk.example.com/attachments/"
    start = content.index(prefix) + len(prefix)
    signed = content[start:].split()[0]
    attachment_id = notice.context["attachments"][0]["id"]
    assert verify(desk.app.settings.desk.secret_key, signed, desk.clock.now) == attachment_id
    desk.close()


def _organisations(**max_priority: str) -> list[dict[str, Any]]:
    organisations = example_config()["organisations"]
    for org in organisations:
        if org["name"] in max_priority:
            org["max_priority"] = max_priority[org["name"]]
    return organisations


def test_customers_may_not_start_an_urgent_sla_by_default(desk: Desk) -> None:
    created = desk.send(body="Priority: urgent\n\nEverything is down.\n")
    assert desk.ticket(created.ticket)["priority"] == "high"
    (confirmation,) = desk.outbox("confirmation")
    lowered = confirmation.context["notes"]["priority_lowered"]
    assert lowered == {"requested": "urgent", "applied": "high"}


def test_an_organisation_may_allow_urgent_or_allow_less(tmp_path: Path, db_url: str) -> None:
    organisations = _organisations(Acme="urgent", Globex="medium")
    desk = Desk(tmp_path, db_url, organisations=organisations)
    acme = desk.send(body="Priority: critical\n\nDown.\n")
    assert desk.ticket(acme.ticket)["priority"] == "urgent"
    globex = desk.send(sender="erin@globex.example", body="Priority: high\n\nSlow.\n")
    assert desk.ticket(globex.ticket)["priority"] == "medium"
    low = desk.send(sender="erin@globex.example", body="Priority: low\n\nA question.\n")
    assert desk.ticket(low.ticket)["priority"] == "low"
    desk.close()


def test_the_confirmation_says_the_priority_was_lowered(tmp_path: Path, desk: Desk) -> None:
    desk.send(body="Priority: urgent\n\nEverything is down.\n")
    (confirmation,) = desk.outbox("confirmation")
    outbox_worker(desk.app).drain(desk.clock.now)
    content = _text(_sent(tmp_path, confirmation.id))
    words = " ".join(content.split())
    assert "You asked for priority Urgent; we have set it to High" in words
