"""Webhook events from the places things happen: a new ticket, a customer's comment and
escalation, a staff reply's commands, a quarantined mail, an SLA breach found by the sweep.
Each is queued with its change (a dry run queues none), carries only redacted text, and
reaches a real receiver signed (`outbox flush`), listed by `outbox list`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ingest.model import Outcome, RawMessage
from postdesk.cli.outbox import outbox_command
from postdesk.notify_build import run_sweep
from store.reply_tokens import reply_address
from tests.helpers import mail
from tests.ingest.desk import Desk
from tests.notify.webhook_receiver import Receiver, new_secret

SECRET = new_secret()
CARD = "4111 1111 1111 1111"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(SECRET).start()
    yield server
    server.stop()


def _desk(tmp_path: Path, db_url: str, receiver: Receiver, **overrides: Any) -> Desk:
    hook = {"name": "crm", "url": receiver.url, "events": ["*"], "secret": SECRET}
    return Desk(
        tmp_path,
        db_url,
        webhooks=[hook],
        ingest={"trusted_authserv_ids": ["mx.desk.example"]},
        **overrides,
    )


@pytest.fixture
def desk(tmp_path: Path, db_url: str, receiver: Receiver) -> Iterator[Desk]:
    d = _desk(tmp_path, db_url, receiver)
    yield d
    d.close()


def _events(desk: Desk) -> list[str]:
    return [r.context["type"] for r in desk.outbox("webhook")]


def _listing(desk: Desk, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    outbox_command(desk.app, "list", now=desk.clock.now, as_json=True)
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return [r for r in rows if r["kind"] == "webhook"]


def test_events_follow_a_ticket_and_reach_the_receiver_signed(
    desk: Desk, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    created = desk.send(body=f"Hello,\n\nmy card {CARD} was charged twice.\n\nCarol\n")
    number = created.ticket
    assert number is not None
    assert _events(desk) == ["ticket.created"]
    desk.clock.advance(minutes=5)
    desk.send(
        subject=f"Re: [{number}] Cannot export call history",
        body="Escalation: we lose calls\n\nPlease hurry.\n",
    )
    assert _events(desk)[1:] == ["comment.created", "ticket.updated", "ticket.escalated"]
    desk.clock.advance(minutes=5)
    token = reply_address(
        desk.app.settings.desk.secret_key, "support@desk.example", number, "alice@desk.example"
    )
    desk.send(
        (token,),
        sender="Alice <alice@desk.example>",
        to=token,
        subject=f"Re: [{number}] Cannot export call history",
        body="#status resolved\n#priority high\n#assign bob\n\nFixed on our side.\n\nAlice\n",
    )
    assert _events(desk)[4:] == ["comment.created", "ticket.updated"]
    assert desk.ingest(b"\x00\x01 not a mail").outcome is Outcome.QUARANTINED
    assert _events(desk)[6:] == ["message.quarantined"]

    outbox_command(desk.app, "flush", now=desk.clock.now, as_json=True)
    assert receiver.rejected == []
    assert receiver.types() == [
        "ticket.created",
        "comment.created",
        "ticket.updated",
        "ticket.escalated",
        "comment.created",
        "ticket.updated",
        "message.quarantined",
    ]
    assert CARD not in json.dumps(list(receiver.events.values()))
    payloads = list(receiver.events.values())
    assert "was charged twice" in payloads[0]["data"]["comment"]["body"]
    assert payloads[0]["data"]["ticket"]["number"] == number
    assert payloads[3]["data"]["reason"] == "customer_request"
    staff = payloads[5]["data"]
    assert staff["actor"] == "alice@desk.example"
    assert staff["changes"] == {
        "status": {"from": "escalated", "to": "resolved"},
        "priority": {"from": "medium", "to": "high"},
        "assignee": {"from": None, "to": "bob"},
    }
    assert payloads[4]["data"]["comment"]["body"].startswith("Fixed on our side.")
    assert payloads[6]["data"]["message"]["reason"].startswith("unparseable")
    listing = _listing(desk, capsys)
    assert {(r["to"], r["status"]) for r in listing} == {("webhook:crm", "sent")}
    assert [r["ticket"] for r in listing] == [number] * 6 + [None]


def test_a_dry_run_emits_nothing(desk: Desk) -> None:
    assert desk.ingest(mail(), dry_run=True).outcome is Outcome.CREATED
    assert desk.outbox("webhook") == []


def test_the_sweep_reports_a_breach_and_the_escalation(desk: Desk, receiver: Receiver) -> None:
    created = desk.send(body="Priority: urgent\n\nEverything is down.\n")
    assert created.ticket is not None
    run_sweep(desk.app, desk.clock.now + timedelta(hours=5))  # a customer's urgent is high: 4 h
    run_sweep(desk.app, desk.clock.now + timedelta(hours=6))  # nothing twice
    assert _events(desk) == [
        "ticket.created",
        "sla.breached",
        "ticket.updated",
        "ticket.escalated",
    ]
    outbox_command(desk.app, "flush", now=desk.clock.now + timedelta(hours=6), as_json=True)
    breach, updated, escalated = list(receiver.events.values())[1:]
    assert breach["data"]["target"] == "first_response"
    assert updated["data"]["changes"] == {"status": {"from": "open", "to": "escalated"}}
    assert updated["data"]["actor"] == "scheduler"
    assert escalated["data"]["reason"] == "sla_breach"


def test_dead_webhook_rows_show_in_outbox_list(
    tmp_path: Path, sqlite_url: str, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = _desk(
        tmp_path, sqlite_url, receiver, outbound={"max_attempts": 2, "backoff_seconds": [60]}
    )
    try:
        desk.send()
        receiver.answers = [503, 503]
        outbox_command(desk.app, "flush", now=desk.clock.now, as_json=True)
        outbox_command(desk.app, "flush", now=desk.clock.now + timedelta(seconds=60), as_json=True)
        [row] = _listing(desk, capsys)
    finally:
        desk.close()
    assert row["status"] == "dead"
    assert row["attempts"] == 2
    assert row["to"] == "webhook:crm"
    assert row["last_error"].endswith("answered 503 Service Unavailable")
    assert receiver.accepted == {}


def test_a_mail_whose_processing_fails_is_announced_once_quarantined(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its own transaction rolled back (no ticket, no ticket.created): the event is queued
    in a transaction of its own, alone or in a batch (where the savepoint rolled back)."""
    from ingest.decide import create as ticket_create

    real_create = ticket_create.tickets.create_ticket

    def create_or_fail(session, new):  # type: ignore[no-untyped-def]
        if "Boom" in new.subject:
            raise RuntimeError("injected fault")
        return real_create(session, new)

    monkeypatch.setattr(ticket_create.tickets, "create_ticket", create_or_fail)
    alone = desk.ingest(mail(subject="Boom", message_id="<b0@acme.example>"))
    assert alone.outcome is Outcome.QUARANTINED
    batch = desk.app.intake.ingest_batch(
        [
            RawMessage(data=mail(subject="Boom", message_id="<b1@acme.example>")),
            RawMessage(data=mail(subject="Fine", message_id="<b2@acme.example>")),
        ]
    )
    assert [r.outcome for r in batch] == [Outcome.QUARANTINED, Outcome.CREATED]
    rows = desk.outbox("webhook")
    assert [r.context["type"] for r in rows] == [
        "message.quarantined",
        "message.quarantined",
        "ticket.created",
    ]
    messages = [r.context["payload"]["data"]["message"] for r in rows[:2]]
    assert [m["message_id"] for m in messages] == ["<b0@acme.example>", "<b1@acme.example>"]
    assert {m["reason"] for m in messages} == {"processing failed: RuntimeError"}


def test_the_spool_workers_last_resort_quarantine_is_announced(desk: Desk) -> None:
    raw = RawMessage(data=mail(message_id="<w1@acme.example>"), source="smtp")
    desk.app.intake.quarantine_raw(raw, "processing failed 5 times: RuntimeError", 5)
    [row] = desk.outbox("webhook")
    message = row.context["payload"]["data"]["message"]
    assert (message["message_id"], message["source"]) == ("<w1@acme.example>", "smtp")
    assert len(desk.app.quarantine.list()) == 1
