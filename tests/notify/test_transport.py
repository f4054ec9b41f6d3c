"""The SMTP transport keeps one connection for many mails, and survives a relay that drops it.

A real aiosmtpd server on loopback counts the connections it was opened and can misbehave
like relays do (closing after a number of mails, dropping a connection without an answer).
"""

from __future__ import annotations

import email
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from email import policy
from typing import Any

from notify.message import OutgoingMail
from notify.options import DeliveryOptions, SmtpRelayOptions
from notify.outbox import OutboxWorker
from notify.render import Renderer
from notify.transport import SmtpTransport
from store import outbox as store_outbox
from store.db import Database
from store.outbox import NewMail
from tests.notify.conftest import SECRET, SUPPORT, T0, CaptureServer, make_ticket
from tests.notify.samples import CONTEXTS, TICKET

RENDERER = Renderer(desk_name="Acme Support")


def _worker(db: Database, server: CaptureServer, **options: Any) -> OutboxWorker:
    transport = SmtpTransport(
        SmtpRelayOptions(host="127.0.0.1", port=server.port, timeout_seconds=10)
    )
    opts = DeliveryOptions(from_address=SUPPORT, secret_key=SECRET, desk_name="Acme", **options)
    return OutboxWorker(db, transport, RENDERER, opts, clock=lambda: T0)


def _enqueue_replies(db: Database, count: int) -> list[int]:
    """`count` staff replies (not rate limited) about one ticket, to different customers."""
    ticket = make_ticket(db)
    context = {**CONTEXTS["staff_reply"], "ticket": {**TICKET, "number": ticket.number}}
    rows = []
    with db.transaction() as session:
        for n in range(count):
            mail = NewMail(
                kind="staff_reply",
                recipient=f"customer{n}@customer.example",
                context=context,
                ticket_id=ticket.id,
                automatic=False,
            )
            row_id = store_outbox.enqueue(session, mail, now=T0, message_id_domain="desk.example")
            assert row_id is not None
            rows.append(row_id)
    return rows


def _statuses(db: Database) -> dict[int, str]:
    with db.transaction() as session:
        return {row.id: row.status for row in store_outbox.list_rows(session)}


def _received_ids(server: CaptureServer) -> list[str]:
    return [
        str(email.message_from_bytes(m.data, policy=policy.default)["Message-ID"])
        for m in server.handler.messages
    ]


def _message_ids(db: Database) -> set[str]:
    with db.transaction() as session:
        return {str(row.message_id) for row in store_outbox.list_rows(session)}


def _wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_many_mails_over_one_connection_across_batches(
    sqlite_db: Database, smtp_server: CaptureServer
) -> None:
    rows = _enqueue_replies(sqlite_db, 30)
    report = _worker(sqlite_db, smtp_server, batch_size=7).drain(T0)
    assert (report.sent, report.total) == (30, 30)
    assert smtp_server.handler.connections == 1
    assert sorted(_received_ids(smtp_server)) == sorted(_message_ids(sqlite_db))
    assert set(_statuses(sqlite_db).values()) == {"sent"} and len(rows) == 30
    assert _wait_until(lambda: smtp_server.handler.open_connections == 0)  # drain closed it


def test_relay_closing_after_some_mails_is_reconnected_and_nothing_is_lost_or_doubled(
    db: Database, smtp_server: CaptureServer
) -> None:
    _enqueue_replies(db, 25)
    smtp_server.handler.mails_per_connection = 10  # then 421 at MAIL FROM and close
    report = _worker(db, smtp_server, batch_size=20).drain(T0)
    assert (report.sent, report.total) == (25, 25)
    assert smtp_server.handler.connections == 3
    received = _received_ids(smtp_server)
    assert len(received) == len(set(received)) == 25
    assert set(received) == _message_ids(db)


def test_connection_dropped_before_a_mail_is_reopened_and_the_mail_sent_at_once(
    sqlite_db: Database, smtp_server: CaptureServer
) -> None:
    _enqueue_replies(sqlite_db, 12)
    smtp_server.handler.drop_at_mail = {5, 9}  # hang up without answering MAIL FROM
    report = _worker(sqlite_db, smtp_server, batch_size=20).drain(T0)
    assert (report.sent, report.total) == (12, 12)
    assert smtp_server.handler.connections == 3
    received = _received_ids(smtp_server)
    assert len(received) == len(set(received)) == 12


def test_connection_lost_during_data_is_retried_later_not_lost(
    sqlite_db: Database, smtp_server: CaptureServer
) -> None:
    rows = _enqueue_replies(sqlite_db, 6)
    smtp_server.handler.drop_in_data = {3}  # the relay may or may not have the third mail
    worker = _worker(sqlite_db, smtp_server, backoff_seconds=(60,))
    report = worker.drain(T0)
    assert (report.sent, report.retried) == (5, 1)
    assert smtp_server.handler.connections == 2  # the rest went over a new connection
    statuses = _statuses(sqlite_db)
    assert statuses[rows[2]] == "pending"
    assert worker.drain(T0 + timedelta(seconds=60)).sent == 1
    received = _received_ids(smtp_server)
    assert len(received) == len(set(received)) == 6
    assert set(_statuses(sqlite_db).values()) == {"sent"}


def test_a_refused_transaction_is_reset_and_the_connection_kept(
    sqlite_db: Database, smtp_server: CaptureServer
) -> None:
    rows = _enqueue_replies(sqlite_db, 5)
    smtp_server.handler.rcpt_replies = {"customer1@customer.example": "550 5.1.1 no such user"}
    smtp_server.handler.data_replies = ["451 4.3.0 try again later"]  # the first DATA
    report = _worker(sqlite_db, smtp_server).drain(T0)
    assert (report.sent, report.dead, report.retried) == (3, 1, 1)
    assert smtp_server.handler.connections == 1
    statuses = _statuses(sqlite_db)
    assert (statuses[rows[0]], statuses[rows[1]]) == ("pending", "dead")


def test_run_keeps_the_connection_between_drains_and_closes_it_when_idle(
    sqlite_db: Database, smtp_server: CaptureServer
) -> None:
    worker = _worker(sqlite_db, smtp_server, idle_poll_seconds=3600, connection_idle_seconds=3600)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        for expected in (1, 2, 3):
            _enqueue_replies(sqlite_db, 1)
            worker.wake()
            assert _wait_until(lambda n=expected: len(smtp_server.handler.messages) == n)
        assert smtp_server.handler.connections == 1
        assert smtp_server.handler.open_connections == 1  # kept while mail keeps coming
    finally:
        stop.set()
        worker.wake()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert _wait_until(lambda: smtp_server.handler.open_connections == 0)  # closed at the end


def test_run_closes_an_idle_connection_and_opens_a_new_one_for_later_mail(
    sqlite_db: Database, smtp_server: CaptureServer
) -> None:
    worker = _worker(sqlite_db, smtp_server, idle_poll_seconds=3600, connection_idle_seconds=0)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        _enqueue_replies(sqlite_db, 1)
        worker.wake()
        assert _wait_until(lambda: len(smtp_server.handler.messages) == 1)
        assert _wait_until(lambda: smtp_server.handler.open_connections == 0)
        _enqueue_replies(sqlite_db, 1)
        worker.wake()
        assert _wait_until(lambda: len(smtp_server.handler.messages) == 2)
    finally:
        stop.set()
        worker.wake()
        thread.join(timeout=30)
    assert smtp_server.handler.connections == 2


def test_an_address_smtplib_cannot_send_is_dead_and_the_rest_still_go(
    smtp_server: CaptureServer,
) -> None:
    transport = SmtpTransport(SmtpRelayOptions(port=smtp_server.port, timeout_seconds=10))
    data = b"Subject: x\r\n\r\nbody\r\n"
    try:
        bad = transport.send(OutgoingMail(1, "staff_reply", SUPPORT, ("jürgen@x.example",), data))
        good = transport.send(OutgoingMail(2, "staff_reply", SUPPORT, ("a@x.example",), data))
    finally:
        transport.close()
    assert bad.outcome == "permanent" and "not ASCII" in bad.detail
    assert good.outcome == "sent"
    assert [m.rcpt_tos for m in smtp_server.handler.messages] == [("a@x.example",)]
