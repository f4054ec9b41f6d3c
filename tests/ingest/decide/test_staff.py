"""Staff mail: verified replies apply commands and are relayed; unverified ones only note."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.model import Outcome
from store.reply_tokens import reply_address
from tests.ingest.desk import Desk


@pytest.fixture
def desk(tmp_path: Path, db_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, db_url, ingest={"trusted_authserv_ids": ["mx.desk.example"]})
    yield d
    d.close()


def _token(desk: Desk, number: str, recipient: str) -> str:
    return reply_address(
        desk.app.settings.desk.secret_key, "support@desk.example", number, recipient
    )


def test_verified_staff_reply_applies_commands_and_is_relayed(desk: Desk) -> None:
    created = desk.send(cc="dave@acme.example")
    token = _token(desk, created.ticket, "alice@desk.example")
    body = (
        "#status waiting_on_customer\n#priority high\n#assign bob\n\n"
        "Could you send us the export log?\n\nAlice\n"
    )
    result = desk.send(
        (token,),
        sender="Alice <alice@desk.example>",
        to=token,
        subject=f"Re: [{created.ticket}] Cannot export",
        body=body,
    )
    assert result.outcome is Outcome.COMMENTED
    ticket = desk.ticket(created.ticket)
    assert ticket["status"] == "waiting_on_customer"
    assert ticket["priority"] == "high"
    assert ticket["assignee"] == "bob"
    staff_comment = ticket["comments"][-1]
    assert staff_comment["public"] is True
    assert staff_comment["role"] == "staff"
    assert "#status" not in staff_comment["body"]
    assert staff_comment["body"].startswith("Could you send us the export log?")
    relays = desk.outbox("staff_reply")
    assert sorted(r.recipient for r in relays) == ["carol@acme.example", "dave@acme.example"]
    assert all(not r.automatic for r in relays)
    assert relays[0].context["comment"]["author"] == "alice"


def test_internal_note_is_relayed_to_nobody(desk: Desk) -> None:
    created = desk.send()
    token = _token(desk, created.ticket, "alice@desk.example")
    desk.send(
        (token,),
        sender="alice@desk.example",
        to=token,
        subject="Re: x",
        body="#internal\nCustomer is on the legacy plan.\n",
    )
    ticket = desk.ticket(created.ticket)
    assert ticket["comments"][-1]["public"] is False
    assert desk.outbox("staff_reply") == []


def test_resolve_and_close_commands(desk: Desk) -> None:
    created = desk.send()
    token = _token(desk, created.ticket, "alice@desk.example")
    desk.send(
        (token,), sender="alice@desk.example", to=token, subject="Re", body="#resolve\nFixed.\n"
    )
    assert desk.ticket(created.ticket)["status"] == "resolved"
    desk.send((token,), sender="alice@desk.example", to=token, subject="Re", body="#close\n")
    assert desk.ticket(created.ticket)["status"] == "closed"


def test_unverified_staff_mail_is_an_internal_note_and_ops_is_told(desk: Desk) -> None:
    created = desk.send()
    result = desk.send(
        sender="alice@desk.example",
        subject=f"Re: [{created.ticket}]",
        body="#status closed\nClosing this.\n",
    )
    assert result.outcome is Outcome.COMMENTED
    ticket = desk.ticket(created.ticket)
    assert ticket["status"] == "open"
    note = ticket["comments"][-1]
    assert note["public"] is False
    assert "unverified_sender" in note["notes"]
    assert desk.outbox("staff_reply") == []
    assert [r.recipient for r in desk.outbox("unverified_staff")] == ["ops@desk.example"]


def test_trusted_dmarc_pass_verifies_staff(desk: Desk) -> None:
    created = desk.send()
    header = "mx.desk.example; dkim=pass header.d=desk.example; dmarc=pass header.from=desk.example"
    desk.send(
        sender="alice@desk.example",
        subject=f"Re: [{created.ticket}]",
        body="#status in_progress\nLooking.\n",
        headers={"Authentication-Results": header},
    )
    assert desk.ticket(created.ticket)["status"] == "in_progress"


def test_dmarc_pass_from_an_untrusted_host_does_not_verify(desk: Desk) -> None:
    created = desk.send()
    header = "attacker.example; dmarc=pass header.from=desk.example"
    desk.send(
        sender="alice@desk.example",
        subject=f"Re: [{created.ticket}]",
        body="#status closed\n",
        headers={"Authentication-Results": header},
    )
    assert desk.ticket(created.ticket)["status"] == "open"


def test_trust_staff_from_opt_in(tmp_path: Path, sqlite_url: str) -> None:
    desk = Desk(tmp_path, sqlite_url, desk={"trust_staff_from": True})
    created = desk.send()
    desk.send(
        sender="alice@desk.example",
        subject=f"Re: [{created.ticket}]",
        body="#status in_progress\nOn it.\n",
    )
    assert desk.ticket(created.ticket)["status"] == "in_progress"
    desk.close()


def test_staff_reply_to_the_team_notice_token_is_verified(desk: Desk) -> None:
    created = desk.send()
    team_token = _token(desk, created.ticket, "team@desk.example")
    desk.send(
        (team_token,),
        sender="bob@desk.example",
        to=team_token,
        subject="Re: new ticket",
        body="#assign bob\nI'll take it.\n",
    )
    assert desk.ticket(created.ticket)["assignee"] == "bob"


def test_first_public_staff_reply_stops_the_first_response_clock(desk: Desk) -> None:
    created = desk.send()
    token = _token(desk, created.ticket, "alice@desk.example")
    desk.clock.advance(minutes=30)
    desk.send((token,), sender="alice@desk.example", to=token, subject="Re", body="Hello!\n")
    with desk.app.db.transaction() as session:
        from store.tickets import find_ticket

        ticket = find_ticket(session, created.ticket)
        assert ticket is not None and ticket.first_responded_at == desk.clock.now


def test_staff_naming_a_missing_ticket_gets_not_found(desk: Desk) -> None:
    result = desk.send(sender="alice@desk.example", subject="Re: [SUP-4242] hello", body="Hi\n")
    assert result.outcome is Outcome.REJECTED
    assert [r.recipient for r in desk.outbox("not_found")] == ["alice@desk.example"]


def test_customer_cannot_use_staff_commands(desk: Desk) -> None:
    created = desk.send()
    desk.send(subject=f"Re: [{created.ticket}]", body="#close\nplease\n")
    assert desk.ticket(created.ticket)["status"] == "open"
