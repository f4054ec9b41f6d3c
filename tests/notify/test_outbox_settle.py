"""Each delivery is settled as soon as the relay answers: a killed worker resends at most the
mail in flight, and a mail sent while the database failed is recorded sent (never skipped,
never sent again) once the database is back."""

from __future__ import annotations

import email
import os
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from email import policy
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

import notify.outbox
from notify.message import OutgoingMail
from notify.options import DeliveryOptions, SmtpRelayOptions
from notify.outbox import OutboxWorker
from notify.render import Renderer
from notify.transport import Delivery, SmtpTransport
from postdesk.app import App
from postdesk.notify_build import outbox_worker
from store import outbox as store_outbox
from store.db import Database
from store.directory import mark_bouncing
from store.errors import StoreUnavailable
from store.outbox import NewMail, Settlement
from store.records import OutboxRecord
from tests.conftest import REPO_ROOT
from tests.e2e.cli import POSTDESK, toml_dump
from tests.e2e.serve_helpers import child_env, wait_until
from tests.helpers import example_config, make_settings
from tests.notify.conftest import SECRET, SUPPORT, T0, CaptureServer, make_ticket
from tests.notify.samples import CONTEXTS, TICKET

LEASE = timedelta(seconds=300)
RECIPIENT = "alice@customer.example"


def _enqueue(db: Database, count: int, *, automatic: bool = False) -> list[int]:
    ticket = make_ticket(db, requester=RECIPIENT)
    context = {**CONTEXTS["staff_reply"], "ticket": {**TICKET, "number": ticket.number}}
    ids = []
    with db.transaction() as s:
        for _ in range(count):
            row_id = store_outbox.enqueue(
                s,
                NewMail(
                    kind="staff_reply",
                    recipient=RECIPIENT,
                    context=dict(context),
                    ticket_id=ticket.id,
                    automatic=automatic,
                ),
                now=T0,
                message_id_domain="desk.example",
            )
            assert row_id is not None
            ids.append(row_id)
    return ids


def _rows(db: Database, ids: Sequence[int]) -> list[OutboxRecord]:
    with db.transaction() as s:
        by_id = {r.id: r for r in store_outbox.list_rows(s)}
    return [by_id[i] for i in ids]


def _times_received(server: CaptureServer, rows: Sequence[OutboxRecord]) -> list[int]:
    """How often the relay received each row's mail (told apart by its Message-ID)."""
    seen = Counter(
        email.message_from_bytes(m.data, policy=policy.default)["Message-ID"]
        for m in server.handler.messages
    )
    return [seen[row.message_id] for row in rows]


def _smtp(server: CaptureServer) -> SmtpTransport:
    return SmtpTransport(SmtpRelayOptions(host="127.0.0.1", port=server.port, timeout_seconds=10))


def _worker(db: Any, transport: Any) -> OutboxWorker:
    options = DeliveryOptions(from_address=SUPPORT, secret_key=SECRET, desk_name="Acme")
    return OutboxWorker(
        cast(Database, db), transport, Renderer(desk_name="Acme"), options, clock=lambda: T0
    )


class Killed(BaseException):
    """The process dies here: no handler runs (as after SIGKILL)."""


def test_a_crash_between_the_relays_250_and_the_settle_resends_only_that_mail(
    db: Database, smtp_server: CaptureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _enqueue(db, 5)
    settle, calls = store_outbox.settle, []

    def settle_then_die_at_the_third(
        session: Session, items: Sequence[Settlement], **options: Any
    ) -> set[int]:
        calls.append(items)
        if len(calls) == 3:
            raise Killed  # the third mail is with the relay; its settlement never commits
        return settle(session, items, **options)

    monkeypatch.setattr(store_outbox, "settle", settle_then_die_at_the_third)
    with pytest.raises(Killed):
        _worker(db, _smtp(smtp_server)).drain(T0)
    monkeypatch.setattr(store_outbox, "settle", settle)
    assert [r.status for r in _rows(db, ids)] == ["sent", "sent", "pending", "pending", "pending"]
    # A new worker, once the dead one's lease is over: the mail in flight goes again, and the
    # two it never handed to the relay go for the first time.
    assert _worker(db, _smtp(smtp_server)).drain(T0 + LEASE).sent == 3
    rows = _rows(db, ids)
    assert [r.status for r in rows] == ["sent"] * 5
    assert _times_received(smtp_server, rows) == [1, 1, 2, 1, 1]


def test_a_worker_killed_with_sigkill_resends_at_most_the_mail_in_flight(
    sqlite_db: Database, smtp_server: CaptureServer, tmp_path: Path
) -> None:
    ids = _enqueue(sqlite_db, 5)
    outbound = {"transport": "smtp", "host": "127.0.0.1", "port": smtp_server.port}
    data = example_config()
    data["database"]["url"] = sqlite_db.url
    data["ingest"]["data_dir"] = str(tmp_path / "data")
    data["outbound"].update(outbound)
    data["logging"]["file"] = str(tmp_path / "postdesk.log")
    config = tmp_path / "config.toml"
    config.write_text(toml_dump(data))
    handler = smtp_server.handler
    handler.hold_at_data = 3  # the relay keeps the third mail; its 250 never reaches the worker
    worker = subprocess.Popen(
        [*POSTDESK, "--config", str(config), "outbox", "flush", "--now", T0.isoformat()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT,
        env=child_env(),
    )
    try:
        wait_until(handler.holding.is_set, timeout=60, what="the third mail at the relay")
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.communicate(timeout=30)
        handler.release.set()
    assert worker.returncode == -signal.SIGKILL
    assert [r.status for r in _rows(sqlite_db, ids)] == ["sent", "sent"] + ["pending"] * 3
    app = App.build(make_settings(tmp_path, sqlite_db.url, outbound=outbound))
    try:
        assert outbox_worker(app).drain(T0 + LEASE).sent == 3
    finally:
        app.close()
    rows = _rows(sqlite_db, ids)
    assert [r.status for r in rows] == ["sent"] * 5
    assert _times_received(smtp_server, rows) == [1, 1, 2, 1, 1]


class FlakyDatabase:
    """A worker's database that can go away: while `down`, every transaction fails."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.down = False

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        if self.down:
            raise StoreUnavailable("cannot reach the database (injected)")
        with self.db.transaction() as session:
            yield session


class OutageDuringSend:
    """A relay connection during which the database goes down once: the first mail is sent
    (250), then its settlement fails."""

    def __init__(self, relay: SmtpTransport, database: FlakyDatabase) -> None:
        self.relay = relay
        self.database = database
        self.outages = 1

    def send(self, mail: OutgoingMail) -> Delivery:
        delivery = self.relay.send(mail)
        if self.outages:
            self.outages -= 1
            self.database.down = True
        return delivery

    def close(self) -> None:
        self.relay.close()


def test_a_mail_sent_during_a_database_outage_is_recorded_sent_once_it_is_back(
    db: Database, smtp_server: CaptureServer
) -> None:
    ids = _enqueue(db, 3)
    flaky = FlakyDatabase(db)
    worker = _worker(flaky, OutageDuringSend(_smtp(smtp_server), flaky))
    with pytest.raises(StoreUnavailable):
        worker.drain(T0)
    assert len(smtp_server.handler.messages) == 1, "nothing more is sent while it is down"
    with pytest.raises(StoreUnavailable):  # still down: the kept outcome waits
        worker.drain(T0 + timedelta(minutes=1))
    flaky.down = False
    # Back after the lease: the kept outcome is recorded first, then the rest is sent.
    report = worker.drain(T0 + LEASE)
    assert (report.sent, report.skipped, report.lost) == (3, 0, 0)
    rows = _rows(db, ids)
    assert [r.status for r in rows] == ["sent"] * 3
    assert _times_received(smtp_server, rows) == [1, 1, 1]


def test_a_sent_mail_skipped_by_another_worker_meanwhile_is_recorded_sent(
    db: Database, smtp_server: CaptureServer
) -> None:
    ids = _enqueue(db, 2, automatic=True)
    flaky = FlakyDatabase(db)
    first = _worker(flaky, OutageDuringSend(_smtp(smtp_server), flaky))
    with pytest.raises(StoreUnavailable):
        first.drain(T0)  # the first mail went out; its worker cannot record it
    with db.transaction() as s:  # meanwhile a bounce about the recipient came in
        assert mark_bouncing(s, RECIPIENT)
    # Another daemon, whose database answers, claims both rows once the lease is over and
    # skips them: the recipient is bouncing.
    assert _worker(db, _smtp(smtp_server)).drain(T0 + LEASE).skipped == 2
    flaky.down = False
    assert first.drain(T0 + LEASE).sent == 1  # the kept outcome: the relay has that mail
    rows = _rows(db, ids)
    assert [r.status for r in rows] == ["sent", "skipped"]
    assert _times_received(smtp_server, rows) == [1, 0]


class SlowRelay:
    """A relay that takes 200 s (of the worker's monotonic clock) for each mail."""

    def __init__(self, relay: SmtpTransport, clock: list[float]) -> None:
        self.relay = relay
        self.clock = clock

    def send(self, mail: OutgoingMail) -> Delivery:
        self.clock[0] += 200.0
        return self.relay.send(mail)

    def close(self) -> None:
        self.relay.close()


def test_mails_not_handed_to_a_slow_relay_within_half_a_lease_are_left_to_it(
    sqlite_db: Database, smtp_server: CaptureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _enqueue(sqlite_db, 3)
    clock = [1000.0]
    monkeypatch.setattr(notify.outbox, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    report = _worker(sqlite_db, SlowRelay(_smtp(smtp_server), clock)).drain(T0)
    assert report.sent == 1  # 200 s gone: past half the 300 s lease, the rest is not sent
    rows = _rows(sqlite_db, ids)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1), ("pending", 1), ("pending", 1)]
    assert rows[1].next_attempt_at == T0 + LEASE  # sent by whoever claims it after the lease
    assert _worker(sqlite_db, _smtp(smtp_server)).drain(T0 + LEASE).sent == 2
    assert _times_received(smtp_server, _rows(sqlite_db, ids)) == [1, 1, 1]


def test_a_settlement_need_not_wait_for_postgresqls_disk_flush(pg_db: Database) -> None:
    [row_id] = _enqueue(pg_db, 1)
    with pg_db.transaction() as s:
        [mail] = store_outbox.claim_due(s, now=T0, lease=LEASE, limit=1)
    with pg_db.transaction() as s:
        sent = Settlement(mail.id, mail.attempt, store_outbox.sent_values(T0))
        assert store_outbox.settle(s, [sent], wait_for_disk=False) == {row_id}
        assert s.execute(text("SHOW synchronous_commit")).scalar_one() == "off"
    with pg_db.transaction() as s:  # for that transaction only
        assert s.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
    assert _rows(pg_db, [row_id])[0].status == "sent"
