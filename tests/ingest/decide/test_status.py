"""Customer replies move status: back to open, reopen window, escalation keyword, mute."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.model import Outcome
from store import subscribers, tickets
from tests.helpers import mail
from tests.ingest.desk import Desk


@pytest.fixture
def desk(tmp_path: Path, sqlite_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, sqlite_url)
    yield d
    d.close()


def _set_status(desk: Desk, number: str, status: str) -> None:
    with desk.app.db.transaction() as session:
        ticket = tickets.find_ticket(session, number)
        assert ticket is not None
        tickets.update_ticket(session, ticket.id, desk.clock.now, status=status)


@pytest.mark.parametrize("status", ["waiting_on_customer", "resolved"])
def test_customer_reply_puts_the_ball_back_with_support(desk: Desk, status: str) -> None:
    created = desk.send()
    _set_status(desk, created.ticket, status)
    result = desk.send(subject=f"Re: [{created.ticket}]", body="Here you go.\n")
    assert desk.ticket(created.ticket)["status"] == "open"
    assert f"status {status} -> open" in result.reason
    notice = desk.outbox("comment_notice")[-1]
    assert notice.recipient == "team@desk.example"
    assert notice.context["previous_status"] == status


def test_reply_to_a_closed_ticket_within_the_window_reopens_it(desk: Desk) -> None:
    created = desk.send()
    _set_status(desk, created.ticket, "closed")
    desk.clock.advance(days=13)
    result = desk.send(subject=f"Re: [{created.ticket}]", body="It broke again.\n")
    assert result.outcome is Outcome.COMMENTED
    assert "reopened" in result.reason
    assert desk.ticket(created.ticket)["status"] == "open"


def test_reply_to_a_closed_ticket_after_the_window_opens_a_linked_ticket(desk: Desk) -> None:
    created = desk.send()
    _set_status(desk, created.ticket, "closed")
    desk.clock.advance(days=15)
    result = desk.send(subject=f"Re: [{created.ticket}]", body="It broke again.\n")
    assert result.outcome is Outcome.CREATED
    assert result.ticket != created.ticket
    assert desk.ticket(result.ticket)["related"] == [created.ticket]
    assert desk.ticket(created.ticket)["status"] == "closed"


@pytest.mark.parametrize(
    "line",
    [
        "Escalation: our whole team is blocked",
        "ESCALATION - our whole team is blocked",
        "escalation our whole team is blocked",
    ],
)
def test_escalation_keyword_escalates_and_tells_ops(desk: Desk, line: str) -> None:
    created = desk.send()
    desk.send(subject=f"Re: [{created.ticket}]", body=f"{line}\n\nPlease hurry.\n")
    assert desk.ticket(created.ticket)["status"] == "escalated"
    notices = desk.outbox("escalation_requested")
    assert [n.recipient for n in notices] == ["ops@desk.example"]
    assert notices[0].context["reason"] == "our whole team is blocked"


def test_escalation_word_inside_text_does_not_escalate(desk: Desk) -> None:
    created = desk.send()
    desk.send(subject=f"Re: [{created.ticket}]", body="Is an escalation needed?\n")
    assert desk.ticket(created.ticket)["status"] == "open"


def test_mute_and_unmute(desk: Desk) -> None:
    created = desk.send()
    result = desk.send(subject=f"Re: [{created.ticket}]", body="#mute\n")
    assert result.outcome is Outcome.COMMENTED
    assert "muted" in result.reason
    assert desk.outbox("mute_notice")[0].context["muted"] is True
    assert len(desk.ticket(created.ticket)["comments"]) == 1
    with desk.app.db.transaction() as session:
        ticket = tickets.find_ticket(session, created.ticket)
        assert ticket is not None
        assert [s.muted for s in subscribers.of_ticket(session, ticket.id)] == [True]
    desk.send(subject=f"Re: [{created.ticket}]", body="#unmute\n")
    assert desk.outbox("mute_notice")[-1].context["muted"] is False


def test_muted_requester_gets_no_staff_relay(tmp_path: Path, sqlite_url: str) -> None:
    desk = Desk(tmp_path, sqlite_url, desk={"trust_staff_from": True})
    created = desk.send()
    desk.send(subject=f"Re: [{created.ticket}]", body="#mute\n")
    desk.send(sender="alice@desk.example", subject=f"Re: [{created.ticket}]", body="Update.\n")
    assert desk.outbox("staff_reply") == []
    desk.close()


def test_received_time_starts_the_clock(desk: Desk) -> None:
    result = desk.ingest(mail())
    ticket = desk.ticket(result.ticket)
    assert ticket["created_at"] == datetime(2026, 11, 23, 9, 0, tzinfo=UTC).isoformat().replace(
        "+00:00", "Z"
    )
