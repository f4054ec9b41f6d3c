"""The spool worker on a failing disk: a storage fault (ENOSPC, injected) never stops it,
never strands an entry and never counts as the mail's attempt; the mail goes once space is
back, without a restart."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ingest.analyse import Analysis
from ingest.model import IngestResult, Outcome, RawMessage
from ingest.spool.queue import PutRequest, Spool
from ingest.worker import SpoolWorker, WorkerSettings
from store.errors import StorageFault, StoreUnavailable
from tests.faults import FullDisk, disk_full


def _ok(raw: RawMessage) -> IngestResult:
    return IngestResult(Outcome.CREATED, "SUP-1", None, "created")


def _spool(tmp_path: Path, count: int, *, grouped: bool = False) -> Spool:
    spool = Spool(tmp_path / "spool")
    requests = [
        PutRequest(
            f"Subject: {i}\r\n\r\nbody\r\n".encode(), "a@b.example", ("s@d.example",), "smtp"
        )
        for i in range(count)
    ]
    if grouped:
        spool.put_many(requests)
    else:
        for request in requests:
            spool.put_many((request,))
    return spool


class Disk:
    """A process whose recording fails with ENOSPC while `full` (as Intake raises it)."""

    def __init__(self) -> None:
        self.full = True
        self.recorded: list[bytes] = []

    def one(self, raw: RawMessage) -> IngestResult:
        if self.full:
            raise StorageFault("cannot write attachment files (ENOSPC); will retry")
        self.recorded.append(raw.data)
        return _ok(raw)

    def batch(self, raws: list[RawMessage], _a: list[Analysis | None]) -> list[IngestResult]:
        if self.full:
            raise disk_full()  # a bare OSError of the storage counts the same
        return [self.one(raw) for raw in raws]


def _attempts(spool: Spool) -> list[int]:
    entries = []
    while (entry := spool.claim()) is not None:
        entries.append(entry)
    for entry in entries:
        spool.release(entry, RuntimeError("look"), count=False)
    return sorted(entry.attempts for entry in entries)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_storage_fault_keeps_the_mail_and_counts_no_attempt(
    tmp_path: Path, batch_size: int
) -> None:
    spool = _spool(tmp_path, 5)
    disk = Disk()
    quarantined: list[str] = []
    worker = SpoolWorker(
        spool,
        disk.one,
        lambda raw, reason, n: quarantined.append(reason),
        settings=WorkerSettings(batch_size=batch_size, max_attempts=2),
        process_batch=disk.batch,
    )
    for _ in range(6):  # more failed steps than max_attempts
        assert worker.step() is None
    assert worker.storage_down and spool.depth() == 5
    disk.full = False
    assert worker.drain() == 5
    assert sorted(disk.recorded) == sorted(
        f"Subject: {i}\r\n\r\nbody\r\n".encode() for i in range(5)
    )
    assert not worker.storage_down and spool.depth() == 0 and quarantined == []


def test_database_outage_counts_no_attempt(tmp_path: Path) -> None:
    spool = _spool(tmp_path, 2)

    def down(raw: RawMessage) -> IngestResult:
        raise StoreUnavailable("database unavailable")

    worker = SpoolWorker(spool, down, lambda *a: None)
    for _ in range(3):
        assert worker.step() is None
    assert _attempts(spool) == [0, 0]


def test_quarantine_write_failing_at_the_last_attempt_keeps_the_mail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = _spool(tmp_path, 1)
    quarantined: list[tuple[str, int]] = []
    full = {"yes": True}

    def quarantine(raw: RawMessage, reason: str, attempts: int) -> None:
        if full["yes"]:
            raise disk_full()
        quarantined.append((reason, attempts))

    def broken(raw: RawMessage) -> IngestResult:
        raise ValueError("the mail's own bug")

    worker = SpoolWorker(spool, broken, quarantine, settings=WorkerSettings(max_attempts=2))
    assert worker.step() is True  # attempt 1: released with the attempt counted
    assert worker.step() is None  # attempt 2: quarantine write fails: kept here
    assert worker.step() is None
    assert spool.depth() == 1 and quarantined == []
    full["yes"] = False
    assert worker.step() is True  # the mail's own failures (each a real run) are counted
    assert quarantined == [("processing failed 4 times: ValueError", 4)]
    assert spool.depth() == 0


def test_a_group_message_that_cannot_be_copied_out_stays_with_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = _spool(tmp_path, 3, grouped=True)
    disk = FullDisk.install(monkeypatch)

    def flaky(raw: RawMessage) -> IngestResult:
        if raw.data.startswith(b"Subject: 1") and disk.full:
            raise ValueError("fails")  # released: a copy-out onto the full disk
        return _ok(raw)

    worker = SpoolWorker(spool, flaky, lambda *a: None)
    assert worker.drain() == 1  # the first; the second cannot be given back
    assert worker.step() is None and worker.storage_down
    assert disk.writes_refused == 2 and spool.depth() == 3  # the group file stays claimed
    disk.full = False
    assert worker.drain() == 2
    assert spool.depth() == 0


def test_run_survives_a_full_disk_and_drains_once_space_returns(tmp_path: Path) -> None:
    spool = _spool(tmp_path, 4)
    disk = Disk()
    stop = threading.Event()
    done: list[str] = []
    steps = {"failed": 0}

    def after_step() -> None:
        if worker.storage_down:
            steps["failed"] += 1
            if steps["failed"] >= 3:
                disk.full = False  # space returns while the worker runs
        if len(done) == 4:
            stop.set()

    worker = SpoolWorker(
        spool,
        disk.one,
        lambda *a: None,
        settings=WorkerSettings(batch_size=2, backoff_initial=0.01, backoff_max=0.02),
        process_batch=disk.batch,
        on_result=lambda r, e: done.append(e.id),
        after_step=after_step,
    )
    runner = threading.Thread(target=worker.run, args=(stop,))
    runner.start()
    runner.join(timeout=20)
    assert not runner.is_alive()
    assert steps["failed"] >= 3 and len(done) == len(set(done)) == 4
    assert len(disk.recorded) == 4 and spool.depth() == 0


def test_kept_entries_go_back_to_the_spool_at_stop(tmp_path: Path) -> None:
    spool = _spool(tmp_path, 3)
    disk = Disk()
    worker = SpoolWorker(spool, disk.one, lambda *a: None, process_batch=disk.batch)
    assert worker.step() is None
    assert spool.claimed() == 3
    worker.give_back_kept()
    assert spool.waiting() == 3 and _attempts(spool) == [0, 0, 0]


def test_a_worker_started_again_returns_what_its_predecessor_claimed(tmp_path: Path) -> None:
    spool = _spool(tmp_path, 3)
    assert spool.claim() is not None and spool.claim() is not None  # then the worker died
    (spool.tmp_dir / "being-written").write_bytes(b"a listener's write in progress")
    again = Spool(tmp_path / "spool")  # what serve's new spool worker process sees
    assert again.return_claimed() == 2
    assert again.claimed() == 0 and again.waiting() == 3
    assert (spool.tmp_dir / "being-written").exists()  # the listeners' files are untouched
    worker = SpoolWorker(again, _ok, lambda *a: None)
    assert worker.drain() == 3
