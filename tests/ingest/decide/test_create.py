"""New tickets: fields, categories, SLA, watchers, notices, dedupe, dry run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from ingest.model import Outcome
from tests.helpers import mail
from tests.ingest.desk import START, Desk


@pytest.fixture
def desk(tmp_path: Path, db_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, db_url)
    yield d
    d.close()


def test_known_contact_opens_a_ticket_with_confirmation_and_team_notice(desk: Desk) -> None:
    result = desk.send()
    assert result.outcome is Outcome.CREATED
    assert result.ticket == "SUP-1001"
    ticket = desk.ticket("SUP-1001")
    assert ticket["status"] == "open"
    assert ticket["priority"] == "medium"
    assert ticket["category"] == "general"
    assert ticket["organisation"] == "Acme"
    assert ticket["requester"] == "carol@acme.example"
    assert ticket["first_response_due"] == (START + timedelta(hours=24)).isoformat().replace(
        "+00:00", "Z"
    )
    assert ticket["comments"][0]["body"].startswith("Hello,\n\nthe export button does nothing")
    assert ticket["messages"][0]["outcome"] == "created"
    confirmations = desk.outbox("confirmation")
    assert [r.recipient for r in confirmations] == ["carol@acme.example"]
    context = confirmations[0].context
    assert context["ticket"]["number"] == "SUP-1001"
    assert context["sla"] == {"first_response": "24 hours", "resolution": "5 days"}
    assert context["in_reply_to"] == result.message_id
    assert [r.recipient for r in desk.outbox("new_ticket_notice")] == ["team@desk.example"]


def test_same_message_twice_is_recorded_once(desk: Desk) -> None:
    data = mail(message_id="<once@acme.example>")
    first = desk.ingest(data)
    second = desk.ingest(data, "billing@desk.example")
    assert second.outcome is Outcome.DUPLICATE
    assert second.ticket == first.ticket
    assert len(desk.ticket(first.ticket)["comments"]) == 1
    assert len(desk.outbox("confirmation")) == 1


def test_message_without_message_id_dedupes_on_its_bytes(desk: Desk) -> None:
    data = mail().replace(b"Message-ID:", b"X-Old-Id:")
    assert desk.ingest(data).outcome is Outcome.CREATED
    assert desk.ingest(data).outcome is Outcome.DUPLICATE


def test_field_lines_set_fields_and_are_removed_from_the_description(
    tmp_path: Path, db_url: str
) -> None:
    desk = Desk(tmp_path, db_url, desk={"customer_max_priority": "urgent"})
    body = (
        "Priority: critical\nCategory: technical\nCall reference: CALL-88231\n"
        "Affected product: Mobile\nSteps to reproduce: open app, tap export\n"
        "Visibility: private\n\nRecordings are missing.\n"
    )
    result = desk.send(body=body)
    ticket = desk.ticket(result.ticket)
    assert ticket["priority"] == "urgent"
    assert ticket["category"] == "technical"
    assert ticket["call_reference"] == "CALL-88231"
    assert ticket["visibility"] == "private"
    assert ticket["fields"] == {
        "Affected product": "mobile",
        "Steps to reproduce": "open app, tap export",
    }
    assert ticket["comments"][0]["body"] == "Recordings are missing."
    assert ticket["first_response_due"] == (START + timedelta(hours=1)).isoformat().replace(
        "+00:00", "Z"
    )
    desk.close()


def test_unknown_field_values_are_ignored_and_mentioned(desk: Desk) -> None:
    result = desk.send(body="Priority: whenever\nAffected product: fax\n\nHelp.\n")
    ticket = desk.ticket(result.ticket)
    assert ticket["priority"] == "medium"
    assert ticket["fields"] == {}
    ignored = desk.outbox("confirmation")[0].context["notes"]["ignored_fields"]
    assert [i["line"] for i in ignored] == ["Priority: whenever", "Affected product: fax"]


def test_field_lines_only_count_at_the_very_top(desk: Desk) -> None:
    result = desk.send(body="Hello,\nPriority: urgent\nthanks\n")
    ticket = desk.ticket(result.ticket)
    assert ticket["priority"] == "medium"
    assert "Priority: urgent" in ticket["comments"][0]["body"]


def test_category_is_implied_by_the_support_address(desk: Desk) -> None:
    result = desk.send(("billing@desk.example",), to="billing@desk.example")
    assert desk.ticket(result.ticket)["category"] == "billing"


def test_sender_priority_headers_never_set_the_priority(desk: Desk) -> None:
    result = desk.send(
        headers={"X-Priority": "1 (Highest)", "Importance": "high", "Priority": "urgent"}
    )
    assert desk.ticket(result.ticket)["priority"] == "medium"


def test_cc_colleagues_become_watchers_and_strangers_do_not(desk: Desk) -> None:
    result = desk.send(
        cc="dave@acme.example, someone@elsewhere.example, erin@globex.example, billing@desk.example"
    )
    assert desk.ticket(result.ticket)["watchers"] == ["dave@acme.example"]
    assert sorted(r.recipient for r in desk.outbox("confirmation")) == [
        "carol@acme.example",
        "dave@acme.example",
    ]


def test_domain_member_not_listed_as_contact_opens_a_ticket(desk: Desk) -> None:
    result = desk.send(sender="Zed <zed@sales.acme.example>")
    assert result.outcome is Outcome.CREATED
    assert desk.ticket(result.ticket)["organisation"] == "Acme"


def test_dry_run_prints_the_decision_and_records_nothing(desk: Desk) -> None:
    result = desk.ingest(mail(message_id="<dry@acme.example>"), dry_run=True)
    assert result.outcome is Outcome.CREATED
    assert desk.outbox() == []
    again = desk.ingest(mail(message_id="<dry@acme.example>"))
    assert again.outcome is Outcome.CREATED


def test_empty_subject_and_body_still_make_a_ticket(desk: Desk) -> None:
    result = desk.send(subject="", body="\n")
    ticket = desk.ticket(result.ticket)
    assert ticket["subject"] == "(no subject)"
    assert ticket["comments"][0]["body"] == "(no text)"
