"""A decided entry's file is emptied and written again by a later put: no raw mail survives
its entry, the pool stays bounded, and a crash mid-way leaves nothing readable."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from ingest.model import IngestResult, Outcome
from ingest.spool.free import FreeFiles
from ingest.spool.queue import Spool
from ingest.worker import SpoolWorker

RAW = b"From: a@example.org\r\nTo: support@example.com\r\nSubject: secret hunter2\r\n\r\nbody\r\n"


def _every_byte(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_a_done_entry_is_emptied_and_its_file_written_again_by_the_next_put(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path)
    first = spool.put(RAW, mail_from="", rcpts=[], source="cli")
    inode = first.path.stat().st_ino
    claimed = spool.claim()
    assert claimed is not None
    spool.done(claimed)
    (freed,) = spool.free.folder.iterdir()
    assert freed.stat().st_size == 0 and freed.stat().st_ino == inode
    assert b"hunter2" not in _every_byte(tmp_path)

    second = spool.put(b"Subject: other\r\n\r\nnew\r\n", mail_from="", rcpts=[], source="cli")
    assert second.path.stat().st_ino == inode  # no new file
    assert list(spool.free.folder.iterdir()) == []
    assert spool.read(second) == b"Subject: other\r\n\r\nnew\r\n"
    assert oct(second.path.stat().st_mode & 0o777) == oct(0o600)


def test_the_pool_keeps_at_most_keep_files_and_deletes_the_rest(tmp_path: Path) -> None:
    spool = Spool(tmp_path, keep_free=2)
    for n in range(3):
        spool.put(RAW + bytes([48 + n]), mail_from="", rcpts=[], source="cli")
    claimed = [spool.claim() for _ in range(3)]
    spool.done_many([entry for entry in claimed if entry is not None])
    assert len(list(spool.free.folder.iterdir())) == 2
    assert list(spool.cur_dir.iterdir()) == [] and b"hunter2" not in _every_byte(tmp_path)


def test_keep_zero_deletes_every_done_entry(tmp_path: Path) -> None:
    spool = Spool(tmp_path, keep_free=0)
    spool.put(RAW, mail_from="", rcpts=[], source="cli")
    entry = spool.claim()
    assert entry is not None
    spool.done(entry)
    assert list(spool.free.folder.iterdir()) == [] and list(spool.cur_dir.iterdir()) == []


def test_recover_empties_a_file_a_crash_left_in_the_pool(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    (spool.free.folder / "left").write_bytes(RAW)  # renamed in, not yet truncated
    (spool.free.folder / "empty").write_bytes(b"")
    spool.recover()
    assert b"hunter2" not in _every_byte(tmp_path)
    assert sorted(p.name for p in spool.free.folder.iterdir()) == ["empty", "left"]


def test_a_taken_file_that_still_holds_bytes_is_written_from_scratch(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    (spool.free.folder / "left").write_bytes(RAW * 10)
    entry = spool.put(b"short\r\n", mail_from="", rcpts=[], source="cli")
    assert spool.read(entry) == b"short\r\n"
    assert b"hunter2" not in _every_byte(tmp_path)


def test_concurrent_puts_never_share_a_free_file(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for n in range(4):
        (spool.free.folder / f"f{n}").write_bytes(b"")
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def put(n: int) -> None:
        start.wait(timeout=10)
        try:
            spool.put(RAW + bytes([48 + n]), mail_from="", rcpts=[], source="cli")
        except BaseException as exc:  # the test inspects every outcome
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    found = set()
    while (entry := spool.claim()) is not None:
        found.add(spool.read(entry))
    assert found == {RAW + bytes([48 + n]) for n in range(8)}
    assert list(spool.free.folder.iterdir()) == []


def test_a_negative_pool_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        FreeFiles(tmp_path, keep=-1)


def test_give_renames_before_it_truncates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash between the two steps leaves the bytes in the private pool (scrubbed at start),
    never under the entry's old name where a recovery would run the message again."""
    pool = FreeFiles(tmp_path / "free")
    pool.folder.mkdir()
    entry = tmp_path / "entry"
    entry.write_bytes(RAW)

    def crash(path: str | os.PathLike[str], length: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "truncate", crash)
    with pytest.raises(KeyboardInterrupt):
        pool.give([entry])
    assert not entry.exists() and (pool.folder / "entry").read_bytes() == RAW
    monkeypatch.undo()
    assert pool.scrub() == 1 and (pool.folder / "entry").read_bytes() == b""


def test_stock_fills_the_pool_up_to_keep_a_step_at_a_time(tmp_path: Path) -> None:
    pool = FreeFiles(tmp_path, keep=5)
    assert pool.stock(at_most=3) == 3 and pool.stock(at_most=3) == 2 and pool.stock(at_most=3) == 0
    assert len(list(tmp_path.iterdir())) == 5
    assert all(
        p.stat().st_size == 0 and p.stat().st_mode & 0o777 == 0o600 for p in tmp_path.iterdir()
    )


def test_the_idle_worker_stocks_the_pool_and_puts_then_create_no_file(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", keep_free=100)  # two of the worker's idle steps
    worker = SpoolWorker(
        spool,
        lambda raw: IngestResult(Outcome.IGNORED, None, None, ""),
        lambda raw, reason, attempts: None,
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(list(spool.free.folder.iterdir())) < 100 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        worker.wakeup.set()
        thread.join(timeout=30)
    stocked = {p.stat().st_ino for p in spool.free.folder.iterdir()}
    assert len(stocked) == 100
    entry = spool.put(RAW, mail_from="", rcpts=[], source="cli")
    assert entry.path.stat().st_ino in stocked


def test_stock_creates_beside_the_pool_and_recover_takes_in_what_a_crash_left(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path, keep_free=3)
    assert spool.free.stock(at_most=64) == 3
    assert list(spool.free.staging.iterdir()) == [] and spool.free.staging != spool.free.folder
    assert oct(spool.free.staging.stat().st_mode & 0o777) == oct(0o700)
    (spool.free.staging / "left").write_bytes(b"")  # created, not yet renamed: a crash
    spool.recover()
    assert list(spool.free.staging.iterdir()) == []
    assert len(list(spool.free.folder.iterdir())) == 4
