"""Automated mail (Auto-Submitted: auto-generated): a ticket from accepted senders, never answered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ingest.model import Outcome
from postdesk.notify_build import run_sweep
from tests.ingest.desk import Desk

ALERT = {"Auto-Submitted": "auto-generated"}


@pytest.fixture
def make_desk(tmp_path: Path, sqlite_url: str) -> Iterator[Any]:
    made: list[Desk] = []

    def make(**overrides: Any) -> Desk:
        made.append(Desk(tmp_path, sqlite_url, **overrides))
        return made[-1]

    yield make
    for desk in made:
        desk.close()


def _mails_to(desk: Desk, address: str) -> list[str]:
    return [r.kind for r in desk.outbox() if r.recipient == address]


def test_alert_from_a_known_contact_opens_a_ticket_nobody_answers_it(make_desk: Any) -> None:
    desk = make_desk()
    result = desk.send(subject="CPU above 95% on db-1", headers=ALERT)
    assert result.outcome is Outcome.CREATED
    ticket = desk.ticket(result.ticket)
    assert "automated" in ticket["flags"]
    assert _mails_to(desk, "carol@acme.example") == []  # no confirmation to a machine
    assert [r.recipient for r in desk.outbox("new_ticket_notice")] == ["team@desk.example"]


def test_a_followup_alert_on_the_ticket_is_a_comment_and_still_unanswered(make_desk: Any) -> None:
    desk = make_desk()
    first = desk.send(subject="CPU above 95% on db-1", headers=ALERT)
    again = desk.send(subject=f"[{first.ticket}] CPU back to normal on db-1", headers=ALERT)
    assert again.outcome is Outcome.COMMENTED and again.ticket == first.ticket
    assert _mails_to(desk, "carol@acme.example") == []


def test_alert_from_an_unknown_sender_is_ignored_with_the_setting_named(make_desk: Any) -> None:
    desk = make_desk()
    result = desk.send(sender="Monitor <alerts@monitoring.example>", headers=ALERT)
    assert result.outcome is Outcome.IGNORED
    assert "accept_automated_from" in result.reason
    assert desk.outbox() == []  # not even the unknown-sender reply


@pytest.mark.parametrize(
    "listed", ["alerts@monitoring.example", "monitoring.example", "@monitoring.example"]
)
def test_alert_from_a_listed_sender_opens_a_ticket_even_when_strangers_are_rejected(
    make_desk: Any, listed: str
) -> None:
    desk = make_desk(ingest={"accept_automated_from": [listed]})
    result = desk.send(sender="Monitor <alerts@monitoring.example>", headers=ALERT)
    assert result.outcome is Outcome.CREATED
    assert _mails_to(desk, "alerts@monitoring.example") == []


def test_alert_from_anyone_opens_a_ticket_when_unknown_senders_create(make_desk: Any) -> None:
    desk = make_desk(desk={"unknown_senders": "create"})
    result = desk.send(sender="ServiceNow <instance@service-now.example>", headers=ALERT)
    assert result.outcome is Outcome.CREATED
    assert _mails_to(desk, "instance@service-now.example") == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated", "Precedence": "bulk"},
        {"Auto-Submitted": "auto-generated", "List-Id": "Alerts <alerts.acme.example>"},
    ],
)
def test_replies_bulk_and_list_mail_stay_ignored(make_desk: Any, headers: dict[str, str]) -> None:
    desk = make_desk(ingest={"accept_automated_from": ["acme.example"]})
    result = desk.send(headers=headers)
    assert result.outcome is Outcome.IGNORED
    assert desk.outbox() == []


def test_sweeps_mail_staff_but_not_the_requester_of_an_alert_ticket(make_desk: Any) -> None:
    desk = make_desk()
    alert = desk.send(subject="Disk full on web-2", headers=ALERT)
    person = desk.send(subject="Cannot log in")
    run_sweep(desk.app, desk.clock.now + timedelta(days=4))  # both past their SLA: escalated
    escalated = {r.context["ticket"]["number"] for r in desk.outbox("escalation_notice")}
    assert escalated == {alert.ticket, person.ticket}  # staff hear of both
    told = [r.context["ticket"]["number"] for r in desk.outbox("escalation_customer")]
    assert told == [person.ticket]  # the alert's sender is never answered
