"""Webhook deliveries over real sockets: signed per Standard Webhooks and verified by the
`standardwebhooks` package, retried through an outage and seen once per event id, dead after
the attempt limit, Slack's format, and events that roll back with their change."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from notify.digests import daily_digest_in
from notify.options import DeliveryOptions, SweepOptions
from notify.outbox import OutboxWorker
from notify.render import Renderer
from notify.slack import slack_text
from notify.transport import FileTransport
from notify.webhooks import WebhookEndpoint, WebhookSender, secret_bytes, signature
from store import webhooks
from store.db import Database
from store.outbox import list_rows
from store.records import OutboxRecord, TicketRecord
from store.tickets import update_ticket
from store.webhooks import EVENT_TYPES, WebhookTarget
from tests.dovecot import client_tls_context, self_signed_certificate
from tests.notify.conftest import SECRET, SUPPORT, T0, make_ticket
from tests.notify.webhook_receiver import Receiver, new_secret

WEBHOOK_SECRET = new_secret()
ALL = WebhookTarget("crm", frozenset(EVENT_TYPES))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(WEBHOOK_SECRET).start()
    yield server
    server.stop()


def _worker(
    db: Database, tmp_path: Any, endpoints: list[WebhookEndpoint], **options: Any
) -> OutboxWorker:
    opts = DeliveryOptions(from_address=SUPPORT, secret_key=SECRET, **options)
    sender = WebhookSender(endpoints, timeout_seconds=5)
    return OutboxWorker(
        db,
        FileTransport(tmp_path / "mail"),
        Renderer(desk_name="Acme"),
        opts,
        clock=lambda: T0,
        webhooks=sender,
    )


def _standard(receiver: Receiver, name: str = "crm") -> WebhookEndpoint:
    return WebhookEndpoint(name, receiver.url, "standard", WEBHOOK_SECRET)


def _emit_three(
    db: Database, ticket: TicketRecord, targets: tuple[WebhookTarget, ...]
) -> list[str]:
    """ticket.created, ticket.updated and ticket.escalated, committed with the change."""
    with db.transaction() as s:
        created = webhooks.ticket_created(s, targets, ticket, None, now=T0)
        after = update_ticket(s, ticket.id, T0, status="escalated", priority="high")
        updated = webhooks.ticket_updated(
            s, targets, ticket, after, now=T0, actor="alice@desk.example"
        )
        escalated = webhooks.ticket_escalated(
            s, targets, after, now=T0, reason="customer_request", actor="carol@acme.example"
        )
    return [i for i in (created, updated, escalated) if i]


def _rows(db: Database) -> list[OutboxRecord]:
    with db.transaction() as s:
        return [r for r in list_rows(s) if r.kind == "webhook"]


def test_events_arrive_signed_and_verified(db: Database, receiver: Receiver, tmp_path: Any) -> None:
    ticket = make_ticket(db)
    ids = _emit_three(db, ticket, (ALL,))
    assert len(ids) == 3
    report = _worker(db, tmp_path, [_standard(receiver)]).drain(T0)
    assert (report.sent, report.total) == (3, 3)
    assert receiver.rejected == []
    assert list(receiver.events) == ids
    assert receiver.types() == ["ticket.created", "ticket.updated", "ticket.escalated"]
    updated = receiver.events[ids[1]]
    assert updated["data"]["changes"] == {
        "status": {"from": "open", "to": "escalated"},
        "priority": {"from": "urgent", "to": "high"},
    }
    assert updated["data"]["ticket"]["number"] == ticket.number
    assert updated["timestamp"] == "2024-06-03T09:00:00Z"
    first = receiver.requests[0]
    assert first.path == "/hooks/postdesk?team=support"
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["webhook-id"] == ids[0]
    rows = _rows(db)
    assert [(r.status, r.recipient, r.ticket_id) for r in rows] == [
        ("sent", "webhook:crm", ticket.id)
    ] * 3


def test_each_event_is_seen_once_after_an_outage(
    db: Database, receiver: Receiver, tmp_path: Any
) -> None:
    ticket = make_ticket(db)
    ids = _emit_three(db, ticket, (ALL,))
    worker = _worker(db, tmp_path, [_standard(receiver)], backoff_seconds=(60, 300), max_attempts=5)
    receiver.answers = [503, 503, 503]  # overloaded
    assert worker.drain(T0).retried == 3
    receiver.stop()  # then down: connection refused
    assert worker.drain(T0 + timedelta(seconds=59)).total == 0  # not due before the backoff
    report = worker.drain(T0 + timedelta(seconds=60))
    assert report.retried == 3
    assert all("unreachable" in (r.last_error or "") for r in _rows(db))
    receiver.start()  # back, on the same port
    assert worker.drain(T0 + timedelta(seconds=360)).sent == 3
    assert worker.drain(T0 + timedelta(days=1)).total == 0
    assert receiver.rejected == []
    assert dict(receiver.accepted) == dict.fromkeys(ids, 1)  # each event once
    tries = [r.headers["webhook-id"] for r in receiver.requests]
    assert sorted(tries) == sorted(ids * 2)  # the 503 and the success carry the same id
    assert [r.attempts for r in _rows(db)] == [3, 3, 3]


def test_a_delivery_that_keeps_failing_is_dead_after_the_limit(
    db: Database, receiver: Receiver, tmp_path: Any
) -> None:
    ticket = make_ticket(db)
    with db.transaction() as s:
        webhooks.ticket_created(s, (ALL,), ticket, None, now=T0)
    receiver.answers = [500] * 5
    worker = _worker(db, tmp_path, [_standard(receiver)], backoff_seconds=(60,), max_attempts=2)
    assert worker.drain(T0).retried == 1
    assert worker.drain(T0 + timedelta(seconds=60)).dead == 1
    [row] = _rows(db)
    assert row.status == "dead"
    assert row.last_error == (
        f"gave up after 2 attempts: http://127.0.0.1:{receiver.port} answered 500 "
        "Internal Server Error"
    )
    assert "hooks/postdesk" not in (row.last_error or "")  # never the URL's path
    options = SweepOptions(message_id_domain="desk.example", digest_to=("ops@desk.example",))
    with db.transaction() as s:  # the daily digest lists it with the undeliverable mail
        assert daily_digest_in(s, T0, T0 + timedelta(hours=1), options, lambda: 0) == 1
        [digest] = [r for r in list_rows(s) if r.kind == "daily_digest"]
    assert digest.context["dead_outbox"] == [
        {
            "id": row.id,
            "kind": "webhook",
            "ticket": ticket.number,
            "to": "webhook:crm",
            "last_error": row.last_error,
        }
    ]
    text = Renderer(desk_name="Acme").render("daily_digest", digest.context).text
    assert f"#{row.id} webhook {ticket.number} to webhook:crm: gave up after 2 attempts" in text


def test_slack_format_posts_text_unsigned(db: Database, tmp_path: Any) -> None:
    receiver = Receiver(secret=None).start()
    try:
        ticket = make_ticket(db, subject="Export <b>broken</b> & slow")
        with db.transaction() as s:
            webhooks.ticket_created(
                s, (WebhookTarget("slack", frozenset(EVENT_TYPES)),), ticket, None, now=T0
            )
        slack = WebhookEndpoint("slack", receiver.url, "slack")
        assert _worker(db, tmp_path, [slack]).drain(T0).sent == 1
    finally:
        receiver.stop()
    [request] = receiver.requests
    assert "webhook-signature" not in request.headers
    assert json.loads(request.body) == {
        "text": f"New ticket *{ticket.number}* Export &lt;b&gt;broken&lt;/b&gt; &amp; slow "
        "from alice@customer.example (priority urgent)"
    }


def test_only_subscribed_webhooks_get_an_event(
    db: Database, receiver: Receiver, tmp_path: Any
) -> None:
    ticket = make_ticket(db)
    targets = (
        WebhookTarget("crm", frozenset({"ticket.created"})),
        WebhookTarget("ops", frozenset({"sla.breached", "ticket.escalated"})),
    )
    _emit_three(db, ticket, targets)
    rows = _rows(db)
    assert sorted((r.recipient, r.context["type"]) for r in rows) == [
        ("webhook:crm", "ticket.created"),
        ("webhook:ops", "ticket.escalated"),
    ]
    with db.transaction() as s:
        assert webhooks.comment_created(s, targets, ticket, _comment(), now=T0) is None


def test_an_event_rolls_back_with_its_change(db: Database) -> None:
    ticket = make_ticket(db)
    with pytest.raises(RuntimeError), db.transaction() as s:
        update_ticket(s, ticket.id, T0, status="resolved")
        webhooks.ticket_updated(
            s, (ALL,), ticket, update_ticket(s, ticket.id, T0), now=T0, actor="x"
        )
        webhooks.sla_breached(s, (ALL,), ticket, now=T0, target="resolution", due=T0)
        raise RuntimeError("the change failed")
    assert _rows(db) == []


def test_a_webhook_removed_from_the_configuration_is_dead_at_once(
    db: Database, receiver: Receiver, tmp_path: Any
) -> None:
    ticket = make_ticket(db)
    with db.transaction() as s:
        webhooks.ticket_created(
            s, (WebhookTarget("old", frozenset(EVENT_TYPES)),), ticket, None, now=T0
        )
    assert _worker(db, tmp_path, [_standard(receiver)]).drain(T0).dead == 1
    [row] = _rows(db)
    assert "webhook 'old' is not configured" in (row.last_error or "")
    assert receiver.requests == []


def test_signature_matches_the_reference_implementation() -> None:
    body = b'{"type":"ticket.created"}'
    stamp = 1_700_000_000
    expected = Webhook(WEBHOOK_SECRET).sign("evt_1", datetime.fromtimestamp(stamp, UTC), body)
    assert signature(WEBHOOK_SECRET, "evt_1", stamp, body) == expected
    assert secret_bytes(WEBHOOK_SECRET) == bytes(range(7, 39))
    with pytest.raises(ValueError, match="base64"):
        secret_bytes("whsec_not base64!")


def test_slack_text_of_every_event() -> None:
    ticket = {"number": "SUP-1", "subject": "Export", "requester": "c@x", "priority": "high"}
    texts = {
        kind: slack_text({"type": kind, "data": data})
        for kind, data in {
            "comment.created": {
                "ticket": ticket,
                "comment": {"public": False, "author": "a@d", "body": "x" * 400},
            },
            "ticket.updated": {
                "ticket": ticket,
                "actor": "a@d",
                "changes": {"status": {"from": "open", "to": "resolved"}},
            },
            "ticket.escalated": {"ticket": ticket, "reason": "sla_breach"},
            "sla.breached": {"ticket": ticket, "target": "first_response"},
            "message.quarantined": {"message": {"reason": "no sender address could be read"}},
        }.items()
    }
    assert texts["comment.created"].startswith("Internal note on *SUP-1* Export by a@d\n> xxx")
    assert len(texts["comment.created"]) < 400
    assert texts["ticket.updated"] == "*SUP-1* Export updated by a@d: status: open → resolved"
    assert texts["ticket.escalated"] == ":rotating_light: *SUP-1* Export escalated (SLA breached)"
    assert texts["sla.breached"] == ":alarm_clock: *SUP-1* Export: first response target breached"
    assert "no sender address could be read" in texts["message.quarantined"]


def _comment() -> Any:
    from store.records import CommentRecord

    return CommentRecord(1, "carol@acme.example", "customer", True, "Hello", T0, {}, {})


def test_an_endpoint_that_hangs_costs_one_timeout_per_batch(db: Database, tmp_path: Any) -> None:
    """A host that takes the connection and never answers: the first row times out, the
    others are not tried (so mail claimed with them is not held up), and after the pause
    one connection is tried again."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def hold() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=hold, daemon=True).start()
    port = listener.getsockname()[1]
    ticket = make_ticket(db)
    _emit_three(db, ticket, (ALL,))
    endpoint = WebhookEndpoint("crm", f"http://127.0.0.1:{port}/", "standard", WEBHOOK_SECRET)
    opts = DeliveryOptions(from_address=SUPPORT, secret_key=SECRET, backoff_seconds=(60,))
    worker = OutboxWorker(
        db,
        FileTransport(tmp_path / "mail"),
        Renderer(desk_name="Acme"),
        opts,
        webhooks=WebhookSender([endpoint], timeout_seconds=0.5),
    )
    try:
        assert worker.drain(T0).retried == 3
        errors = [r.last_error or "" for r in _rows(db)]
        assert "unreachable: TimeoutError" in errors[0]
        assert all(e.startswith("not tried: ") for e in errors[1:])
        assert len(held) == 1
        assert worker.drain(T0 + timedelta(seconds=60)).retried == 3
        assert len(held) == 2
    finally:
        listener.close()
        for connection in held:
            connection.close()


def test_https_checks_the_receivers_certificate(db: Database, tmp_path: Any) -> None:
    cert, key = self_signed_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    receiver = Receiver(WEBHOOK_SECRET, tls=server_context).start()
    try:
        ticket = make_ticket(db)
        [event_id] = _emit_three(db, ticket, (WebhookTarget("crm", frozenset({"ticket.created"})),))
        endpoint = _standard(receiver)
        untrusting = _worker(db, tmp_path, [endpoint], backoff_seconds=(60,))
        assert untrusting.drain(T0).retried == 1  # a certificate nobody vouches for
        assert "CERTIFICATE_VERIFY_FAILED" in (_rows(db)[0].last_error or "")
        opts = DeliveryOptions(from_address=SUPPORT, secret_key=SECRET)
        sender = WebhookSender([endpoint], tls_context=client_tls_context(cert))
        trusting = OutboxWorker(
            db, FileTransport(tmp_path / "mail"), Renderer(desk_name="Acme"), opts, webhooks=sender
        )
        assert trusting.drain(T0 + timedelta(seconds=60)).sent == 1
    finally:
        receiver.stop()
    assert receiver.url.startswith("https://")
    assert dict(receiver.accepted) == {event_id: 1}


def test_a_user_in_the_url_is_sent_as_basic_auth(
    db: Database, receiver: Receiver, tmp_path: Any
) -> None:
    ticket = make_ticket(db)
    _emit_three(db, ticket, (WebhookTarget("crm", frozenset({"ticket.created"})),))
    url = receiver.url.replace("http://", "http://postdesk:s%40cret@")
    endpoint = WebhookEndpoint("crm", url, "standard", WEBHOOK_SECRET)
    assert _worker(db, tmp_path, [endpoint]).drain(T0).sent == 1
    [request] = receiver.requests
    assert (
        request.headers["Authorization"] == "Basic " + base64.b64encode(b"postdesk:s@cret").decode()
    )
    assert "s%40cret" not in repr(endpoint)


def test_a_change_to_escalated_is_also_an_escalation(db: Database) -> None:
    ticket = make_ticket(db)
    with db.transaction() as s:
        after = update_ticket(s, ticket.id, T0, status="escalated")
        webhooks.ticket_changed(s, (ALL,), ticket, after, now=T0, actor="token:crm", reason="api")
        again = update_ticket(s, ticket.id, T0, priority="low")
        webhooks.ticket_changed(s, (ALL,), after, again, now=T0, actor="token:crm", reason="api")
    events = [(r.context["type"], r.context["payload"]["data"]) for r in _rows(db)]
    assert [kind for kind, _ in events] == ["ticket.updated", "ticket.escalated", "ticket.updated"]
    assert events[1][1]["reason"] == "api"
    assert events[2][1]["changes"] == {"priority": {"from": "urgent", "to": "low"}}
