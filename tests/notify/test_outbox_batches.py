"""Batched claims and settlements: each row leased and settled exactly once, lost claims told
apart, counts that still count the right rows, and the renderer's shortcuts and caches."""

from __future__ import annotations

import dataclasses
import os
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jinja2
import pytest
from sqlalchemy import select, text

from notify import transport as transport_module
from notify.errors import TemplateProblem
from notify.message import OutgoingMail
from notify.options import DeliveryOptions
from notify.outbox import OutboxWorker
from notify.render import Renderer, _when
from notify.transport import FileTransport
from store import outbox as store_outbox
from store.db import Database
from store.durable import fsync_directory
from store.outbox import NewMail, Settlement
from store.records import OutboxRecord
from store.schema import OutboxRow
from tests.notify.conftest import SECRET, SUPPORT, T0, make_ticket
from tests.notify.samples import CONTEXTS, TICKET

LEASE = timedelta(seconds=300)


def _enqueue(db: Database, count: int, **mail: Any) -> list[int]:
    fields: dict[str, Any] = {
        "kind": "staff_reply",
        "recipient": "alice@customer.example",
        "context": dict(CONTEXTS["staff_reply"]),
        "automatic": False,
        **mail,
    }
    ids = []
    with db.transaction() as s:
        for _ in range(count):
            row_id = store_outbox.enqueue(s, NewMail(**fields), now=T0, message_id_domain="d.ex")
            assert row_id is not None
            ids.append(row_id)
    return ids


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite gives naive UTC datetimes back, PostgreSQL aware ones."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _rows(db: Database) -> dict[int, OutboxRecord]:
    with db.transaction() as s:
        return {r.id: r for r in store_outbox.list_rows(s)}


def test_a_batch_claim_leases_each_row_once_and_only_the_claimed_ones(db: Database) -> None:
    ids = _enqueue(db, 5)
    with db.transaction() as s:
        first = store_outbox.claim_due(s, now=T0, lease=LEASE, limit=3)
    assert [m.id for m in first] == ids[:3]
    assert all(m.attempt == 1 for m in first)
    rows = _rows(db)
    assert [rows[i].attempts for i in ids] == [1, 1, 1, 0, 0]
    assert [rows[i].next_attempt_at for i in ids] == [T0 + LEASE] * 3 + [T0] * 2
    with db.transaction() as s:
        second = store_outbox.claim_due(s, now=T0, lease=LEASE, limit=3)
        nothing = store_outbox.claim_due(s, now=T0, lease=LEASE, limit=3)
    assert [m.id for m in second] == ids[3:] and nothing == []
    with db.transaction() as s:  # after the lease: claimed again, the attempt counted again
        again = store_outbox.claim_due(s, now=T0 + LEASE, lease=LEASE, limit=10)
    assert sorted(m.id for m in again) == ids
    assert {m.attempt for m in again} == {2}
    assert {r.attempts for r in _rows(db).values()} == {2}


def test_a_claimed_mail_carries_the_row(db: Database) -> None:
    ticket = make_ticket(db)
    [row_id] = _enqueue(
        db, 1, ticket_id=ticket.id, cc=("bob@customer.example",), bcc=("audit@desk.example",)
    )
    with db.transaction() as s:
        [mail] = store_outbox.claim_due(s, now=T0, lease=LEASE, limit=10)
    row = _rows(db)[row_id]
    assert (mail.id, mail.kind, mail.ticket_id, mail.recipient) == (
        row_id,
        "staff_reply",
        ticket.id,
        "alice@customer.example",
    )
    assert (mail.cc, mail.bcc) == (("bob@customer.example",), ("audit@desk.example",))
    assert mail.context == CONTEXTS["staff_reply"] and mail.message_id == row.message_id
    assert (mail.automatic, mail.attempt) == (False, 1)


def test_settle_records_every_row_once_and_tells_lost_claims_apart(db: Database) -> None:
    """A lost claim's late outcome is not recorded, except "sent": the relay has that mail,
    whatever became of the row since (the other worker's outcome for it is then the lost one)."""
    ids = _enqueue(db, 5)
    with db.transaction() as s:
        claimed = {m.id: m for m in store_outbox.claim_due(s, now=T0, lease=LEASE, limit=10)}
    with db.transaction() as s:  # the first row's lease expired: another worker took it
        [taken] = store_outbox.claim_due(s, now=T0 + LEASE, lease=LEASE, limit=1)
    assert taken.id == ids[0]
    later = T0 + timedelta(minutes=1)
    settlements = [
        Settlement(ids[0], 1, store_outbox.sent_values(later)),  # claim lost (attempt 2), sent
        Settlement(ids[1], 1, store_outbox.sent_values(later)),
        Settlement(ids[2], 1, store_outbox.retry_values(later, "451 busy")),
        Settlement(ids[3], 1, store_outbox.sent_values(later)),
        Settlement(ids[4], 1, store_outbox.dead_values("550 no such user")),
    ]
    assert set(claimed) == set(ids)
    with db.transaction() as s:
        done = store_outbox.settle(s, settlements)
    assert done == set(ids)
    rows = _rows(db)
    assert (rows[ids[0]].status, rows[ids[0]].attempts) == ("sent", 2)  # though claimed again
    assert [rows[i].status for i in ids[1:]] == ["sent", "pending", "sent", "dead"]
    with db.transaction() as s:  # the other worker's claim of it is the lost one now
        retry = store_outbox.retry_values(later, "451 busy")
        assert store_outbox.settle(s, [Settlement(ids[0], 2, retry)]) == set()
        assert (
            store_outbox.settle(s, [Settlement(ids[0], 2, store_outbox.sent_values(later))])
            == set()
        )
        lost_claim_of_a_retried_row = Settlement(ids[2], 0, store_outbox.dead_values("late"))
        assert store_outbox.settle(s, [lost_claim_of_a_retried_row]) == set()
    with db.transaction() as s:
        sent_at = dict(s.execute(select(OutboxRow.id, OutboxRow.sent_at)).all())
    assert _utc(sent_at[ids[1]]) == _utc(sent_at[ids[3]]) == later
    assert (rows[ids[2]].next_attempt_at, rows[ids[2]].last_error) == (later, "451 busy")
    assert rows[ids[4]].last_error == "550 no such user"
    with db.transaction() as s:  # settled rows are no longer the claimed attempt; only the
        # retried one is still pending in it (as `mark_retry` leaves it)
        assert store_outbox.settle(s, settlements) == {ids[2]}


def test_count_sent_counts_only_automatic_mail_sent_to_the_recipient(db: Database) -> None:
    ids = _enqueue(db, 6, kind="comment_notice", automatic=True)
    [manual] = _enqueue(db, 1)
    [other] = _enqueue(db, 1, recipient="bob@customer.example", automatic=True)
    with db.transaction() as s:
        claimed = store_outbox.claim_due(s, now=T0, lease=LEASE, limit=10)
    values = {
        ids[0]: store_outbox.sent_values(T0),
        ids[1]: store_outbox.sent_values(T0 + timedelta(hours=2)),
        ids[2]: store_outbox.skipped_values("rate limited"),
        ids[3]: store_outbox.dead_values("550"),
        ids[4]: store_outbox.retry_values(T0, "451"),
        manual: store_outbox.sent_values(T0),
        other: store_outbox.sent_values(T0),
    }
    settlements = [Settlement(m.id, m.attempt, values[m.id]) for m in claimed if m.id in values]
    with db.transaction() as s:
        store_outbox.settle(s, settlements)
        assert store_outbox.count_sent(s, recipient="Alice@Customer.example", since=T0) == 2
        since = T0 + timedelta(hours=1)
        assert store_outbox.count_sent(s, recipient="alice@customer.example", since=since) == 1
        assert store_outbox.count_sent(s, recipient="bob@customer.example", since=T0) == 1


def test_count_sent_on_sqlite_goes_by_recipient_not_through_every_sent_mail(
    sqlite_db: Database,
) -> None:
    """Sent mail is never deleted: a count that walked every sent row would slow the worker
    down as the table grows."""
    with sqlite_db.transaction() as s:
        compiled = store_outbox._SENT_TO.compile(s.connection())
        params = ["alice@customer.example", "", "sent", T0.isoformat()]
        plan = s.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(params))
        details = " ".join(str(row[-1]) for row in plan)
    assert "ix_outbox_recipient_time" in details, details


def _worker(db: Database, directory: Path, **options: Any) -> OutboxWorker:
    opts = DeliveryOptions(from_address=SUPPORT, secret_key=SECRET, desk_name="Acme", **options)
    return OutboxWorker(db, FileTransport(directory), Renderer(desk_name="Acme"), opts)


def test_a_drain_stops_after_a_short_claim(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _enqueue(sqlite_db, 7)
    claims: list[int] = []
    claim_due = store_outbox.claim_due

    def counted(*args: Any, **kwargs: Any) -> list[store_outbox.ClaimedMail]:
        claimed = claim_due(*args, **kwargs)
        claims.append(len(claimed))
        return claimed

    monkeypatch.setattr(store_outbox, "claim_due", counted)
    report = _worker(sqlite_db, tmp_path, batch_size=3).drain(T0)
    assert report.sent == 7 and claims == [3, 3, 1]
    claims.clear()
    _enqueue(sqlite_db, 3)  # exactly a batch: one more claim finds the queue empty
    assert _worker(sqlite_db, tmp_path, batch_size=3).drain(T0).sent == 3
    assert claims == [3, 0]


def test_the_daily_limit_counts_earlier_mail_once_and_the_batch_on_top(
    sqlite_db: Database, tmp_path: Path
) -> None:
    ticket = make_ticket(sqlite_db)
    context = {**CONTEXTS["comment_notice"], "ticket": {**TICKET, "number": ticket.number}}
    fields: dict[str, Any] = {"kind": "comment_notice", "automatic": True, "context": context}
    _enqueue(sqlite_db, 1, ticket_id=ticket.id, **fields)
    worker = _worker(sqlite_db, tmp_path, per_address_daily_limit=3, batch_size=10)
    assert worker.drain(T0).sent == 1
    ids = _enqueue(sqlite_db, 4, ticket_id=ticket.id, **fields)
    report = worker.drain(T0 + timedelta(minutes=5))
    assert (report.sent, report.skipped) == (2, 2)
    rows = _rows(sqlite_db)
    assert [rows[i].status for i in ids] == ["sent", "sent", "skipped", "skipped"]


def test_the_file_transport_creates_its_folder_again_when_it_is_removed(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    transport = FileTransport(folder)
    mail = OutgoingMail(1, "confirmation", SUPPORT, ("a@x.example",), b"Subject: x\r\n\r\nx\r\n")
    assert transport.send(mail).outcome == "sent"
    shutil.rmtree(folder)
    assert transport.send(dataclasses.replace(mail, row_id=2)).outcome == "sent"
    assert sorted(p.name for p in folder.iterdir()) == ["2.eml"]


def test_each_renderer_keeps_its_own_desk_name_and_templates(tmp_path: Path) -> None:
    (tmp_path / "confirmation.subject.j2").write_text("Override for {{ desk_name }}")
    plain = Renderer(desk_name="First Desk")
    custom = Renderer(desk_name="Second Desk", templates_dir=tmp_path)
    context = CONTEXTS["confirmation"]
    for _ in range(2):  # the second time from the compiled templates
        first, second = (
            plain.render("confirmation", context),
            custom.render("confirmation", context),
        )
        assert "First Desk" in first.text and "Second Desk" not in first.text
        assert "Second Desk" in second.text and "First Desk" not in second.text
        assert first.subject.startswith("[SUP-1042]")
        assert second.subject == "Override for Second Desk"


def test_attribute_lookup_in_templates_reads_as_jinja2_reads_it() -> None:
    source = (
        "{{ d.number }}|{{ d.items is callable }}|{{ d.get('number') }}|{{ n.inner.x }}|"
        "{{ d.missing is undefined }}|{{ s.upper() }}|{{ l.0 }}"
    )
    values = {"d": {"number": "SUP-1", "items": "shadowed"}, "n": {"inner": {"x": 1}}}
    values |= {"s": "abc", "l": ["first"]}
    ours = Renderer(desk_name="x").environment.from_string(source).render(values)
    theirs = (
        jinja2.Environment(autoescape=jinja2.select_autoescape()).from_string(source).render(values)
    )
    assert ours == theirs == "SUP-1|True|SUP-1|1|True|ABC|first"


def test_a_missing_key_still_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "confirmation.subject.j2").write_text("{{ ticket.nope }}")
    with pytest.raises(TemplateProblem, match="nope"):
        Renderer(desk_name="x", templates_dir=tmp_path).render(
            "confirmation", CONTEXTS["confirmation"]
        )


def test_when_reads_every_instant_and_format_right_from_its_cache() -> None:
    assert _when("2024-06-04T14:05:00Z") == "Tue 04 Jun 2024 14:05 UTC"
    assert _when("2024-06-04T14:05:00Z", "%Y-%m-%d") == "2024-06-04"
    assert _when("2024-06-04T14:05:00Z") == "Tue 04 Jun 2024 14:05 UTC"
    assert _when("2024-06-04T16:05:00+02:00") == "Tue 04 Jun 2024 14:05 UTC"
    zone = timezone(timedelta(hours=-3))
    assert _when(datetime(2024, 6, 4, 11, 5, tzinfo=zone)) == "Tue 04 Jun 2024 14:05 UTC"
    assert _when(datetime(2024, 6, 4, 14, 5, tzinfo=UTC)) == "Tue 04 Jun 2024 14:05 UTC"
    assert _when("") == "-" and _when(None) == "-" and _when(7) == "7"


def test_the_sqlite_status_test_changes_no_count(sqlite_db: Database) -> None:
    """The status is NOT NULL, so the coalesce in `count_sent` cannot change a result."""
    with sqlite_db.transaction() as s, pytest.raises(Exception, match="NOT NULL"):
        s.connection().execute(
            text(
                "INSERT INTO outbox (kind, recipient, status, attempts, next_attempt_at, "
                "created_at, automatic, cc, context) VALUES ('x', 'a@b', NULL, 0, :t, :t, 1, "
                "'{}', '{}')"
            ),
            {"t": T0},
        )


def test_file_transport_fsyncs_the_folder_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[tuple[str, list[str]]] = []

    def recording(folder: str) -> None:
        synced.append((folder, sorted(os.listdir(folder))))
        fsync_directory(folder)

    monkeypatch.setattr(transport_module, "fsync_directory", recording)
    mail = OutgoingMail(
        row_id=7,
        kind="confirmation",
        envelope_from="support@desk.example",
        recipients=("carol@acme.example",),
        data=b"Subject: x\r\n\r\nhi\r\n",
    )
    assert FileTransport(tmp_path).send(mail).outcome == "sent"
    assert synced == [(str(tmp_path), ["7.eml"])]  # after the rename, not before
