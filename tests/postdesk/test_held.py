"""Held mail comes back: the flood limit's holds by themselves once their window passed (in
arrival order, at most the limit a window), moderation holds by an operator; `show` prints
headers without secrets or body; `drop` leaves a note on the decision record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from ingest.model import Outcome
from postdesk import held
from store import messages
from tests.ingest.desk import Desk

PASSWORD = "Tr0ub4dor&3-hunter2"


@pytest.fixture
def desk(tmp_path: Path, db_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, db_url, ingest={"sender_rate_limit": "2/10m"})
    yield d
    d.close()


def _flood(desk: Desk, count: int) -> list[Outcome]:
    return [
        desk.send(subject=f"Request {i}", message_id=f"<flood.{i}@acme.example>").outcome
        for i in range(count)
    ]


def test_a_held_sender_is_released_after_the_window_in_arrival_order(desk: Desk) -> None:
    outcomes = _flood(desk, 5)
    assert outcomes == [Outcome.CREATED] * 2 + [Outcome.HELD] * 3
    items = held.ordered(desk.app.quarantine.list())
    assert [i.state for i in items] == ["held"] * 3
    assert {i.hold.scope for i in items if i.hold} == {"address"}

    assert held.release_due(desk.app, desk.clock.now + timedelta(minutes=9)) == []
    waiting = held.mail_waiting(desk.app)
    assert [(h.sender, h.count, h.scope) for h in waiting.held] == [
        ("carol@acme.example", 3, "address")
    ]
    assert waiting.held[0].release_at == desk.clock.now + timedelta(minutes=10)
    assert waiting.quarantined == ()

    desk.clock.advance(minutes=11)
    first = held.release_due(desk.app, desk.clock.now)
    assert [r.outcome for r in first] == ["created", "created"], "at most the limit a window"
    assert len(desk.app.quarantine.list()) == 1
    desk.clock.advance(minutes=11)
    second = held.release_due(desk.app, desk.clock.now)
    assert [r.outcome for r in second] == ["created"]
    assert desk.app.quarantine.list() == []

    with desk.app.db.transaction() as session:
        records = messages.list_messages(session, sender="carol@acme.example")
    assert [r.subject for r in records] == [f"Request {i}" for i in range(5)], "arrival order"
    assert {r.outcome for r in records} == {"created"}
    ticket = desk.ticket(records[4].ticket or "")
    assert ticket["created_at"] == records[0].as_json()["received_at"], "dated when it arrived"


def test_moderation_waits_for_the_operator_and_release_bypasses_it(
    tmp_path: Path, sqlite_url: str
) -> None:
    desk = Desk(tmp_path, sqlite_url, desk={"unknown_senders": "hold"})
    try:
        result = desk.send(
            sender="stranger@elsewhere.example", message_id="<s.1@elsewhere.example>"
        )
        assert result.outcome is Outcome.HELD
        [item] = desk.app.quarantine.list()
        assert item.hold is not None and item.hold.scope == "moderation"
        desk.clock.advance(days=1)
        assert held.release_due(desk.app, desk.clock.now) == [], "no window: an operator decides"

        [retried] = held.retry(desk.app, item.id)
        assert retried.outcome == "created", "retry does not just hold it again"
        assert desk.app.quarantine.list() == []
    finally:
        desk.close()


def test_release_by_sender_and_drop(desk: Desk) -> None:
    _flood(desk, 4)
    items = held.ordered(desk.app.quarantine.list())
    dropped = held.drop(desk.app, items[0].id, desk.clock.now)
    assert dropped.state == "held"
    results = held.release_sender(desk.app, "Carol@acme.example")
    assert [r.outcome for r in results] == ["created"]
    assert desk.app.quarantine.list() == []
    with desk.app.db.transaction() as session:
        [record] = messages.find_messages(session, "<flood.2@acme.example>")
    assert record.outcome == "held" and "dropped from the quarantine" in record.reason


def test_show_has_headers_without_secrets_or_body(desk: Desk) -> None:
    _flood(desk, 2)
    desk.send(
        subject=f"my password is {PASSWORD}",
        message_id="<flood.secret@acme.example>",
        body=f"the body with {PASSWORD} and text nobody should see\n",
    )
    [item] = desk.app.quarantine.list()
    detail = held.show(desk.app, item.id)
    assert detail["state"] == "held" and detail["reason"].startswith("held: address")
    assert detail["headers"]["From"].endswith("<carol@acme.example>")
    assert detail["headers"]["Message-ID"] == "<flood.secret@acme.example>"
    text = repr(detail)
    assert PASSWORD not in text and "nobody should see" not in text
    assert "removed]" in detail["headers"]["Subject"]
    assert held.quarantine_ids_for(desk.app, "<flood.secret@acme.example>") == [item.id]
