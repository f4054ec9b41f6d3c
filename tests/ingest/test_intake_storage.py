"""Intake on a full disk (ENOSPC injected): a storage fault rolls the transaction back and is
raised as `StorageFault`, never blamed on the mail (no quarantine, no ticket); once space is
back the same mail is recorded once, and held mail is kept in the quarantine once."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.model import Outcome, RawMessage
from store.errors import StorageFault
from tests.faults import FullDisk
from tests.helpers import mail
from tests.ingest.desk import Desk

LOG = b"2026-11-23 09:00:01 export failed: timeout\n" * 200


def _raw(desk: Desk, subject: str = "Export broken") -> RawMessage:
    data = mail(date=desk.clock.now, subject=subject, attachments=[("app.log", "text/plain", LOG)])
    return RawMessage(
        data=data,
        rcpts=(),
        mail_from="carol@acme.example",
        source="smtp",
        received_at=desk.clock.now,
    )


def _tickets(desk: Desk) -> int:
    from store.tickets import list_tickets

    with desk.app.db.transaction() as session:
        return len(list_tickets(session))


def test_attachment_write_on_a_full_disk_is_a_storage_fault(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = Desk(tmp_path, sqlite_url)
    disk = FullDisk.install(monkeypatch)
    raw = _raw(desk)
    with pytest.raises(StorageFault):
        desk.app.intake.ingest(raw)
    with pytest.raises(StorageFault):
        desk.app.intake.ingest_batch([raw, _raw(desk, subject="second")])
    assert disk.writes_refused >= 2
    assert _tickets(desk) == 0 and desk.app.quarantine.count() == 0
    disk.full = False
    result = desk.app.intake.ingest(raw)
    assert result.outcome is Outcome.CREATED
    assert desk.app.intake.ingest(raw).outcome is Outcome.DUPLICATE
    assert _tickets(desk) == 1 and desk.app.quarantine.count() == 0
    desk.close()


def test_held_mail_whose_quarantine_write_fails_is_not_recorded(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = Desk(tmp_path, sqlite_url, desk={"unknown_senders": "hold"})
    disk = FullDisk.install(monkeypatch)
    raw = RawMessage(
        data=mail(sender="stranger@nowhere.example", date=desk.clock.now),
        rcpts=(),
        mail_from="stranger@nowhere.example",
        source="smtp",
        received_at=desk.clock.now,
    )
    with pytest.raises(StorageFault):
        desk.app.intake.ingest(raw)
    with pytest.raises(StorageFault):
        desk.app.intake.ingest_batch([raw])
    disk.full = False
    # Not recorded as held before: so it is held now (not a duplicate), and kept once.
    assert desk.app.intake.ingest(raw).outcome is Outcome.HELD
    assert desk.app.quarantine.count() == 1
    desk.close()


def test_mail_that_breaks_processing_on_a_full_disk_is_kept_for_later(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = Desk(tmp_path, sqlite_url)
    disk = FullDisk.install(monkeypatch)

    def broken(*args: object, **kwargs: object) -> object:
        raise ValueError("a bug met by this mail")

    monkeypatch.setattr(desk.app.intake.pipeline, "process", broken)
    raw = _raw(desk)
    with pytest.raises(StorageFault):  # its quarantine cannot be written: retried later
        desk.app.intake.ingest(raw)
    disk.full = False
    assert desk.app.intake.ingest(raw).outcome is Outcome.QUARANTINED
    assert desk.app.quarantine.count() == 1
    desk.close()
