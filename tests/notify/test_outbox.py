"""Delivery through a real SMTP server on loopback: sent, retried, dead, skipped, sent once."""

from __future__ import annotations

import email
import logging
import socket
import threading
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest

from notify.message import OutgoingMail
from notify.options import DeliveryOptions, SmtpRelayOptions
from notify.outbox import OutboxWorker
from notify.render import Renderer
from notify.transport import Delivery, FileTransport, SmtpTransport, Transport
from store import outbox as store_outbox
from store.db import Database
from store.directory import mark_bouncing
from store.outbox import NewMail, list_rows
from store.records import OutboxRecord, TicketRecord
from tests.notify.conftest import SECRET, SUPPORT, T0, CaptureServer, make_ticket
from tests.notify.samples import CONTEXTS, TICKET

RENDERER = Renderer(desk_name="Acme Support")


def _message_id(db: Database, row_id: int) -> str:
    """The Message-ID stored in the row (chosen when the row was queued)."""
    with db.transaction() as session:
        [row] = [r for r in list_rows(session) if r.id == row_id]
    assert row.message_id and row.message_id.endswith("@desk.example>")
    return row.message_id


def _worker(db: Database, transport: Transport, **options: Any) -> OutboxWorker:
    opts = DeliveryOptions(from_address=SUPPORT, secret_key=SECRET, desk_name="Acme", **options)
    return OutboxWorker(db, transport, RENDERER, opts, clock=lambda: T0)


def _smtp(server: CaptureServer) -> SmtpTransport:
    return SmtpTransport(SmtpRelayOptions(host="127.0.0.1", port=server.port, timeout_seconds=10))


def _enqueue(
    db: Database, ticket: TicketRecord | None, kind: str = "confirmation", **mail: Any
) -> int:
    context = dict(CONTEXTS[kind])
    if ticket is not None and "ticket" in context:
        context["ticket"] = {**TICKET, "number": ticket.number, "requester": ticket.requester}
    fields: dict[str, Any] = {"recipient": "alice@customer.example", **mail}
    with db.transaction() as s:
        row_id = store_outbox.enqueue(
            s,
            NewMail(kind=kind, context=context, ticket_id=ticket.id if ticket else None, **fields),
            now=T0,
            message_id_domain="desk.example",
        )
    assert row_id is not None
    return row_id


def _row(db: Database, row_id: int) -> OutboxRecord:
    with db.transaction() as s:
        return next(r for r in store_outbox.list_rows(s) if r.id == row_id)


def test_delivered_over_smtp_with_every_envelope_recipient(
    db: Database, smtp_server: CaptureServer
) -> None:
    ticket = make_ticket(db)
    row_id = _enqueue(db, ticket, cc=("bob@customer.example",), bcc=("audit@desk.example",))
    report = _worker(db, _smtp(smtp_server)).drain(T0)
    assert (report.sent, report.total) == (1, 1)
    [captured] = smtp_server.handler.messages
    assert captured.mail_from == SUPPORT
    assert captured.rcpt_tos == (
        "alice@customer.example",
        "bob@customer.example",
        "audit@desk.example",
    )
    msg = email.message_from_bytes(captured.data, policy=policy.default)
    assert msg["Message-ID"] == _message_id(db, row_id)
    assert f"[{ticket.number}]" in str(msg["Subject"])
    assert msg["In-Reply-To"] == CONTEXTS["confirmation"]["in_reply_to"]
    assert "Bcc" not in msg
    row = _row(db, row_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert _worker(db, _smtp(smtp_server)).drain(T0 + timedelta(days=1)).total == 0


def test_retried_after_4xx_with_backoff_then_delivered(
    db: Database, smtp_server: CaptureServer
) -> None:
    row_id = _enqueue(db, make_ticket(db))
    smtp_server.handler.data_replies = ["451 4.3.0 mailbox busy", "452 4.3.1 full"]
    worker = _worker(db, _smtp(smtp_server), backoff_seconds=(60, 300))
    assert worker.drain(T0).retried == 1
    row = _row(db, row_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == T0 + timedelta(seconds=60)
    assert row.last_error is not None and row.last_error.startswith("451 4.3.0")
    assert worker.drain(T0 + timedelta(seconds=59)).total == 0
    assert worker.drain(T0 + timedelta(seconds=60)).retried == 1
    assert _row(db, row_id).next_attempt_at == T0 + timedelta(seconds=360)
    assert worker.drain(T0 + timedelta(seconds=360)).sent == 1
    assert len(smtp_server.handler.messages) == 1
    assert _row(db, row_id).attempts == 3


def test_dead_at_once_after_5xx(db: Database, smtp_server: CaptureServer) -> None:
    row_id = _enqueue(db, make_ticket(db))
    smtp_server.handler.data_replies = ["554 5.7.1 message rejected as spam"]
    assert _worker(db, _smtp(smtp_server)).drain(T0).dead == 1
    row = _row(db, row_id)
    assert (row.status, row.attempts) == ("dead", 1)
    assert row.last_error == "554 5.7.1 message rejected as spam"
    assert smtp_server.handler.messages == []


def test_refused_recipient_550_is_dead_and_450_is_retried(
    sqlite_db: Database, smtp_server: CaptureServer
) -> None:
    ticket = make_ticket(sqlite_db)
    dead = _enqueue(sqlite_db, ticket, recipient="gone@customer.example")
    later = _enqueue(sqlite_db, ticket, recipient="greylist@customer.example")
    smtp_server.handler.rcpt_replies = {
        "gone@customer.example": "550 5.1.1 no such user",
        "greylist@customer.example": "450 4.7.1 greylisted",
    }
    report = _worker(sqlite_db, _smtp(smtp_server)).drain(T0)
    assert (report.dead, report.retried) == (1, 1)
    assert _row(sqlite_db, dead).last_error == "550 5.1.1 no such user"
    assert _row(sqlite_db, later).status == "pending"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_dead_after_max_attempts_when_relay_is_down(sqlite_db: Database) -> None:
    row_id = _enqueue(sqlite_db, make_ticket(sqlite_db))
    down = SmtpTransport(SmtpRelayOptions(port=_closed_port(), timeout_seconds=5))
    worker = _worker(sqlite_db, down, max_attempts=3, backoff_seconds=(10, 20))
    assert worker.drain(T0).retried == 1
    assert worker.drain(T0 + timedelta(seconds=10)).retried == 1
    assert worker.drain(T0 + timedelta(seconds=30)).dead == 1
    row = _row(sqlite_db, row_id)
    assert row.status == "dead" and row.attempts == 3
    assert row.last_error is not None and row.last_error.startswith("gave up after 3 attempts")
    assert "unreachable" in row.last_error


def test_crash_mid_send_is_retried_after_the_lease(
    db: Database, smtp_server: CaptureServer
) -> None:
    row_id = _enqueue(db, make_ticket(db))
    with db.transaction() as s:  # a worker claimed the row, then died before settling it
        [claimed] = store_outbox.claim_due(s, now=T0, lease=timedelta(seconds=300), limit=10)
    worker = _worker(db, _smtp(smtp_server), lease_seconds=300)
    assert worker.drain(T0 + timedelta(seconds=299)).total == 0
    assert worker.drain(T0 + timedelta(seconds=300)).sent == 1
    row = _row(db, row_id)
    assert (row.status, row.attempts) == ("sent", 2)
    with db.transaction() as s:  # the dead worker's late answer changes nothing
        assert not store_outbox.mark_retry(
            s, row_id, attempt=claimed.attempt, next_attempt_at=T0, error="late"
        )
    assert _row(db, row_id).status == "sent"


def test_rate_limits_skip_automatic_mail_but_not_staff_replies(
    db: Database, smtp_server: CaptureServer, caplog: pytest.LogCaptureFixture
) -> None:
    ticket = make_ticket(db)
    rows = [_enqueue(db, ticket, kind="comment_notice") for _ in range(3)]
    staff = _enqueue(db, ticket, kind="staff_reply", automatic=False)
    caplog.set_level(logging.INFO, logger="notify.outbox")
    report = _worker(db, _smtp(smtp_server), per_ticket_hourly_limit=2).drain(T0)
    assert (report.sent, report.skipped) == (3, 1)
    statuses = [_row(db, r).status for r in rows]
    assert statuses == ["sent", "sent", "skipped"]
    assert _row(db, staff).status == "sent"
    assert "per hour about this ticket" in (_row(db, rows[2]).last_error or "")
    assert f"row={rows[2]} kind=comment_notice" in caplog.text and "outcome=skipped" in caplog.text
    assert "Still broken" not in caplog.text  # no body in logs
    # an hour later the ticket limit has room again; the daily per-address limit still applies
    other = make_ticket(db)
    more = [_enqueue(db, other, kind="mute_notice") for _ in range(2)]
    worker = _worker(db, _smtp(smtp_server), per_ticket_hourly_limit=5, per_address_daily_limit=3)
    report = worker.drain(T0 + timedelta(hours=1))
    assert (report.sent, report.skipped) == (1, 1)
    assert "per day to this address" in (_row(db, more[1]).last_error or "")


def test_our_own_addresses_and_digests_are_not_rate_limited(
    sqlite_db: Database, smtp_server: CaptureServer
) -> None:
    ticket = make_ticket(sqlite_db)
    for _ in range(3):
        _enqueue(sqlite_db, ticket, kind="escalation_requested", recipient="ops@desk.example")
        _enqueue(sqlite_db, None, kind="digest", recipient="boss@desk.example")
    worker = _worker(
        sqlite_db,
        _smtp(smtp_server),
        per_ticket_hourly_limit=1,
        per_address_daily_limit=1,
        exempt_recipients=frozenset({"OPS@desk.example"}),
    )
    assert worker.drain(T0).sent == 6


def test_never_sends_to_a_bouncing_contact(db: Database, smtp_server: CaptureServer) -> None:
    ticket = make_ticket(db)
    with db.transaction() as s:
        assert mark_bouncing(s, "alice@customer.example")
    row_id = _enqueue(db, ticket)
    assert _worker(db, _smtp(smtp_server)).drain(T0).skipped == 1
    assert _row(db, row_id).last_error == "recipient is marked bouncing"
    assert smtp_server.handler.messages == []


def test_unrenderable_row_is_dead_with_the_reason(sqlite_db: Database, tmp_path: Path) -> None:
    good = _enqueue(sqlite_db, make_ticket(sqlite_db))
    with sqlite_db.transaction() as s:
        broken = store_outbox.enqueue(
            s,
            NewMail(kind="confirmation", recipient="x@customer.example", context={}),
            now=T0,
            message_id_domain="desk.example",
        )
    report = _worker(sqlite_db, FileTransport(tmp_path)).drain(T0)
    assert (report.sent, report.dead) == (1, 1)
    assert _row(sqlite_db, good).status == "sent"
    assert broken is not None
    error = _row(sqlite_db, broken).last_error or ""
    assert error.startswith("cannot render: template confirmation") and "'ticket'" in error
    assert not (tmp_path / f"{broken}.eml").exists()


def test_file_transport_writes_one_eml_per_row(sqlite_db: Database, tmp_path: Path) -> None:
    ticket = make_ticket(sqlite_db)
    row_id = _enqueue(sqlite_db, ticket, cc=("bob@customer.example",), bcc=("audit@desk.example",))
    outdir = tmp_path / "outbox"
    assert _worker(sqlite_db, FileTransport(outdir)).drain(T0).sent == 1
    assert sorted(p.name for p in outdir.iterdir()) == [f"{row_id}.eml"]
    msg = email.message_from_bytes((outdir / f"{row_id}.eml").read_bytes(), policy=policy.default)
    assert msg["X-Envelope-To"] == (
        "alice@customer.example, bob@customer.example, audit@desk.example"
    )
    assert msg["Message-ID"] == _message_id(sqlite_db, row_id)
    assert "Bcc" not in msg
    assert msg.get_body(("plain",)) is not None


def test_two_workers_on_postgresql_send_each_row_once(
    pg_db: Database, pg_url: str, smtp_server: CaptureServer
) -> None:
    ticket = make_ticket(pg_db)
    rows = {_enqueue(pg_db, ticket, kind="staff_reply", automatic=False) for _ in range(40)}
    databases = [Database(pg_url), Database(pg_url)]
    workers = [_worker(d, _smtp(smtp_server), batch_size=3) for d in databases]
    start = threading.Barrier(2)
    reports = []

    def run(worker: OutboxWorker) -> None:
        start.wait(timeout=30)
        reports.append(worker.drain(T0))

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for database in databases:
        database.dispose()
    assert sum(r.sent for r in reports) == 40
    assert all(r.sent > 0 for r in reports), "both workers should have taken part"
    ids = [
        email.message_from_bytes(m.data, policy=policy.default)["Message-ID"]
        for m in smtp_server.handler.messages
    ]
    assert len(ids) == len(set(ids)) == 40
    assert {_message_id(pg_db, r) for r in rows} == set(ids)


def test_run_loop_delivers_on_wake_and_stops(
    sqlite_db: Database, smtp_server: CaptureServer
) -> None:
    worker = _worker(sqlite_db, _smtp(smtp_server), idle_poll_seconds=3600)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        _enqueue(sqlite_db, make_ticket(sqlite_db))
        worker.wake()
        assert smtp_server.handler.received.wait(timeout=30)
    finally:
        stop.set()
        worker.wake()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(smtp_server.handler.messages) == 1


class _FailingTransport:
    """Writes files, but raises an unexpected error (a bug, not a delivery problem) on the
    `fail_at`-th mail."""

    def __init__(self, directory: Path, fail_at: int) -> None:
        self.files = FileTransport(directory)
        self.fail_at = fail_at
        self.sent = 0

    def send(self, mail: OutgoingMail) -> Delivery:
        if self.sent + 1 == self.fail_at:
            raise RuntimeError("bug in a transport")
        self.sent += 1
        return self.files.send(mail)

    def close(self) -> None:
        self.files.close()


def test_an_error_mid_batch_still_records_the_mails_already_sent(
    sqlite_db: Database, tmp_path: Path
) -> None:
    ticket = make_ticket(sqlite_db)
    rows = [_enqueue(sqlite_db, ticket, kind="staff_reply", automatic=False) for _ in range(5)]
    worker = _worker(sqlite_db, _FailingTransport(tmp_path, fail_at=3), lease_seconds=300)
    with pytest.raises(RuntimeError, match="bug in a transport"):
        worker.drain(T0)
    assert [_row(sqlite_db, r).status for r in rows] == [
        "sent",
        "sent",
        "pending",
        "pending",
        "pending",
    ]
    assert _row(sqlite_db, rows[2]).next_attempt_at == T0 + timedelta(seconds=300)  # leased
