"""Who may do what: outsiders, partners, private tickets, unknown senders, DMARC."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.model import Outcome
from tests.ingest.desk import Desk

TRUSTED = {"ingest": {"trusted_authserv_ids": ["mx.desk.example"]}}


@pytest.fixture
def desk(tmp_path: Path, sqlite_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, sqlite_url, **TRUSTED)
    yield d
    d.close()


def _shape(desk: Desk, result) -> tuple:  # type: ignore[no-untyped-def]
    """Everything an outsider can observe about the answer to their mail."""
    ticket = desk.ticket(result.ticket)
    mails = [
        (r.kind, r.recipient, sorted(r.context))
        for r in desk.outbox()
        if r.ticket_id is not None and r.context["ticket"]["number"] == result.ticket
    ]
    return (
        result.outcome,
        result.reason,
        ticket["organisation"],
        len(ticket["comments"]),
        [(k, rcpt) for k, rcpt, _ in mails],
        [keys for _, _, keys in mails],
    )


def test_outsider_naming_a_real_ticket_gets_what_a_nonexistent_number_gets(
    tmp_path: Path, sqlite_url: str
) -> None:
    real = Desk(tmp_path / "a", sqlite_url, **TRUSTED)
    acme = real.send()
    outsider = real.send(
        sender="erin@globex.example",
        subject=f"Re: [{acme.ticket}] hello",
        body="Let me in.\n",
        message_id="<probe@globex.example>",
    )
    real.close()

    other_db = f"sqlite:///{tmp_path / 'b.db'}"
    from store import migrate
    from store.db import Database

    database = Database(other_db)
    migrate.upgrade(database.engine)
    database.dispose()
    fake = Desk(tmp_path / "b", other_db, **TRUSTED)
    fake.send()  # SUP-1001 exists there too; the outsider names a number that does not
    ghost = fake.send(
        sender="erin@globex.example",
        subject="Re: [SUP-9999] hello",
        body="Let me in.\n",
        message_id="<probe@globex.example>",
    )

    assert outsider.outcome is ghost.outcome is Outcome.CREATED
    assert outsider.ticket == ghost.ticket == "SUP-1002"
    assert outsider.reason == ghost.reason
    real = Desk(tmp_path / "a", sqlite_url, **TRUSTED)
    assert _shape(real, outsider) == _shape(fake, ghost)
    assert real.ticket(outsider.ticket)["organisation"] == "Globex"
    assert len(real.ticket(acme.ticket)["comments"]) == 1
    real.close()
    fake.close()


def test_colleague_may_comment_on_an_organisation_ticket(desk: Desk) -> None:
    created = desk.send()
    result = desk.send(
        sender="dave@acme.example", subject=f"Re: [{created.ticket}]", body="Me too.\n"
    )
    assert result.outcome is Outcome.COMMENTED


def test_private_ticket_is_closed_to_colleagues(desk: Desk) -> None:
    created = desk.send(body="Visibility: private\n\nSalary question.\n")
    result = desk.send(
        sender="dave@acme.example", subject=f"Re: [{created.ticket}]", body="Curious.\n"
    )
    assert result.outcome is Outcome.CREATED
    assert result.ticket != created.ticket


def test_partner_contact_sees_and_comments_on_client_tickets(desk: Desk) -> None:
    created = desk.send()
    result = desk.send(
        sender="frank@initech.example",
        subject=f"Re: [{created.ticket}]",
        body="Partner here, adding details.\n",
    )
    assert result.outcome is Outcome.COMMENTED


def test_partner_opens_a_ticket_for_an_assigned_client(desk: Desk) -> None:
    result = desk.send(sender="frank@initech.example", body="Organisation: Acme\n\nFor Acme.\n")
    assert desk.ticket(result.ticket)["organisation"] == "Acme"
    refused = desk.send(sender="frank@initech.example", body="Organisation: Globex\n\nNo.\n")
    assert desk.ticket(refused.ticket)["organisation"] == "Initech Partners"


def test_unknown_sender_is_rejected_politely_once_a_day(desk: Desk) -> None:
    first = desk.send(sender="stranger@nowhere.example")
    second = desk.send(sender="stranger@nowhere.example", subject="again")
    assert first.outcome is second.outcome is Outcome.REJECTED
    assert first.ticket is None
    assert [r.recipient for r in desk.outbox("unknown_sender")] == ["stranger@nowhere.example"]
    desk.clock.advance(hours=25)
    desk.send(sender="stranger@nowhere.example", subject="third")
    assert len(desk.outbox("unknown_sender")) == 2


def test_unknown_sender_naming_a_real_ticket_is_treated_the_same(desk: Desk) -> None:
    created = desk.send()
    result = desk.send(sender="stranger@nowhere.example", subject=f"Re: [{created.ticket}]")
    assert result.outcome is Outcome.REJECTED
    assert result.reason == "rejected: unknown sender (told how to get access)"


def test_unknown_sender_hold_policy(tmp_path: Path, sqlite_url: str) -> None:
    desk = Desk(tmp_path, sqlite_url, desk={"unknown_senders": "hold"})
    result = desk.send(sender="stranger@nowhere.example")
    assert result.outcome is Outcome.HELD
    assert desk.outbox() == []
    desk.close()


def test_unknown_sender_create_policy(tmp_path: Path, sqlite_url: str) -> None:
    desk = Desk(tmp_path, sqlite_url, desk={"unknown_senders": "create"})
    result = desk.send(sender="New Person <new@nowhere.example>")
    assert result.outcome is Outcome.CREATED
    ticket = desk.ticket(result.ticket)
    assert ticket["requester"] == "new@nowhere.example"
    assert ticket["organisation"] is None
    again = desk.send(sender="new@nowhere.example", subject=f"Re: [{result.ticket}]")
    assert again.outcome is Outcome.COMMENTED
    desk.close()


def test_dmarc_fail_may_not_comment_on_existing_tickets(desk: Desk) -> None:
    created = desk.send()
    header = "mx.desk.example; dmarc=fail header.from=acme.example; spf=fail"
    result = desk.send(
        subject=f"Re: [{created.ticket}]", body="Hi\n", headers={"Authentication-Results": header}
    )
    assert result.outcome is Outcome.CREATED
    assert result.ticket != created.ticket


def test_untrusted_authentication_results_are_ignored(desk: Desk) -> None:
    created = desk.send()
    header = "evil.example; dmarc=fail header.from=acme.example"
    result = desk.send(
        subject=f"Re: [{created.ticket}]", body="Hi\n", headers={"Authentication-Results": header}
    )
    assert result.outcome is Outcome.COMMENTED
