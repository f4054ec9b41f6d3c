"""The spool keeps raw mail durably, hands each entry to exactly one claimer, and recovers."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.spool import queue as spool_module
from ingest.spool.queue import (
    ENTRY_HEADER_PREFIX,
    MESSAGE_FILE,
    META_FILE,
    PutRequest,
    Spool,
    SpoolEntry,
)
from tests.faults import break_spool_directory_fsync

RAW = b"From: a@example.org\r\nTo: support@example.com\r\nSubject: hi\r\n\r\nbody\r\n"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _previous_layout_entry(folder: Path, entry_id: str, *, attempts: int) -> Path:
    """An entry as the previous spool layout wrote it: a directory, message + meta.json."""
    entry = folder / entry_id
    entry.mkdir(mode=0o700)
    (entry / MESSAGE_FILE).write_bytes(RAW)
    meta = {
        "mail_from": "old@example.org",
        "rcpts": ["support@example.com"],
        "source": "smtp",
        "received_at": "2024-05-01T12:00:00+00:00",
        "attempts": attempts,
        "last_error": "StoreUnavailable" if attempts else None,
    }
    (entry / META_FILE).write_text(json.dumps(meta))
    return entry


def _put_concurrently(spool: Spool, count: int) -> list[str | BaseException]:
    """``count`` puts from as many threads at once: each entry id, or the error it raised."""
    results: list[str | BaseException] = []
    start = threading.Barrier(count)

    def put(n: int) -> None:
        start.wait(timeout=10)
        try:
            results.append(spool.put(RAW + bytes([n]), mail_from="", rcpts=[], source="cli").id)
        except BaseException as exc:  # the test inspects every outcome
            results.append(exc)

    threads = [threading.Thread(target=put, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_put_claim_read_done_round_trip(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    at = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    put = spool.put(
        RAW, mail_from="a@example.org", rcpts=["support@example.com"], source="smtp", received_at=at
    )
    assert spool.depth() == 1 and spool.waiting() == 1
    claimed = spool.claim()
    assert claimed is not None
    assert claimed.id == put.id
    assert (claimed.mail_from, claimed.rcpts, claimed.source) == (
        "a@example.org",
        ("support@example.com",),
        "smtp",
    )
    assert claimed.received_at == at and claimed.attempts == 0
    assert spool.read(claimed) == RAW
    assert spool.claimed() == 1 and spool.claim() is None
    spool.done(claimed)
    assert spool.depth() == 0
    assert not any(any((tmp_path / "spool" / sub).iterdir()) for sub in ("tmp", "new", "cur"))


def test_modes_are_private(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        spool = Spool(tmp_path / "spool")
        entry = spool.put(RAW, mail_from="", rcpts=[], source="cli")
    finally:
        os.umask(old_umask)
    for directory in ("", "tmp", "new", "cur"):
        assert _mode(tmp_path / "spool" / directory) == 0o700
    assert entry.path.is_file() and _mode(entry.path) == 0o600


def test_existing_root_is_tightened(tmp_path: Path) -> None:
    root = tmp_path / "spool"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    Spool(root)
    assert _mode(root) == 0o700


def test_claims_oldest_first(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    ids = [spool.put(RAW + bytes([i]), mail_from="", rcpts=[], source="cli").id for i in range(5)]
    claimed = []
    while (entry := spool.claim()) is not None:
        claimed.append(entry.id)
    assert claimed == ids


def test_release_counts_attempts_and_records_only_the_error_class(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.put(RAW, mail_from="", rcpts=[], source="cli")
    for expected in (1, 2, 3):
        entry = spool.claim()
        assert entry is not None
        assert spool.release(entry, ValueError("password hunter2 in the mail")) == expected
    again = spool.claim()
    assert again is not None and again.attempts == 3 and again.last_error == "ValueError"
    assert again.path.name == f"{again.id},3,ValueError"
    assert b"hunter2" not in again.path.read_bytes()
    assert spool.read(again) == RAW  # the message itself was never rewritten


def test_recover_returns_claimed_entries_and_drops_stale_tmp(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.put(RAW, mail_from="", rcpts=[], source="cli")
    assert spool.claim() is not None  # the claimer "crashes" here
    stale = tmp_path / "tmp" / "half-written"
    stale.write_bytes(b"partial")
    stale_previous_layout = tmp_path / "tmp" / "half-written-directory"
    stale_previous_layout.mkdir()
    (stale_previous_layout / "message").write_bytes(b"partial")
    restarted = Spool(tmp_path)
    assert restarted.recover(stale_tmp_after=timedelta(0)) == 1
    assert not stale.exists() and not stale_previous_layout.exists()
    entry = restarted.claim()
    assert entry is not None and entry.attempts == 1 and entry.last_error == "Interrupted"
    assert restarted.read(entry) == RAW


def test_recover_keeps_fresh_tmp(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    fresh = tmp_path / "tmp" / "being-written"
    fresh.mkdir()
    assert spool.recover() == 0
    assert fresh.exists()


def test_failed_put_with_full_disk_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path)
    real_write = os.writev

    def disk_full(fd: int, buffers: Sequence[bytes | memoryview]) -> int:
        if any(len(buffer) == len(RAW) for buffer in buffers):
            raise OSError(28, "No space left on device")
        return real_write(fd, buffers)

    monkeypatch.setattr(os, "writev", disk_full)
    with pytest.raises(OSError, match="No space"):
        spool.put(RAW, mail_from="", rcpts=[], source="cli")
    monkeypatch.undo()
    assert spool.depth() == 0
    assert list((tmp_path / "tmp").iterdir()) == []


def test_wakeup_hook_runs_after_put_and_its_failure_is_harmless(tmp_path: Path) -> None:
    woken = threading.Event()
    Spool(tmp_path / "a", on_put=woken.set).put(RAW, mail_from="", rcpts=[], source="cli")
    assert woken.is_set()

    def broken() -> None:
        raise RuntimeError("worker gone")

    spool = Spool(tmp_path / "b", on_put=broken)
    spool.put(RAW, mail_from="", rcpts=[], source="cli")
    assert spool.depth() == 1


def test_naive_received_at_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone"):
        Spool(tmp_path).put(
            RAW, mail_from="", rcpts=[], source="cli", received_at=datetime(2024, 1, 1)
        )


def test_damaged_metadata_still_yields_the_message(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    entry = spool.put(RAW, mail_from="x@example.org", rcpts=["s@example.com"], source="smtp")
    entry.path.write_bytes(ENTRY_HEADER_PREFIX + b"{not json\n" + RAW)
    claimed = spool.claim()
    assert claimed is not None and claimed.source == "unknown" and claimed.rcpts == ()
    assert spool.read(claimed) == RAW


def test_previous_layout_entry_without_message_file_is_dropped(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    entry = _previous_layout_entry(tmp_path / "new", "00000000000000000001.1.aa", attempts=0)
    (entry / MESSAGE_FILE).unlink()
    assert spool.claim() is None
    assert spool.depth() == 0


def test_entry_is_one_file_json_header_then_the_raw_bytes(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    tz = datetime(2024, 5, 1, 14, 0, tzinfo=UTC).astimezone()
    entry = spool.put(RAW, mail_from="a@x", rcpts=["b@y"], source="imap:acct", received_at=tz)
    assert entry.path == tmp_path / "new" / entry.id and entry.attempts == 0
    header, raw = entry.path.read_bytes().split(b"\n", 1)
    assert header.startswith(ENTRY_HEADER_PREFIX) and raw == RAW
    meta = json.loads(header[len(ENTRY_HEADER_PREFIX) :])
    assert meta == {
        "mail_from": "a@x",
        "rcpts": ["b@y"],
        "source": "imap:acct",
        "received_at": "2024-05-01T14:00:00+00:00",
    }
    assert list((tmp_path / "tmp").iterdir()) == []


def test_previous_layout_entries_are_claimed_released_and_done(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    _previous_layout_entry(tmp_path / "new", "00000000000000000001.1.aa", attempts=2)
    entry = spool.claim()
    assert entry is not None and entry.id == "00000000000000000001.1.aa"
    assert (entry.mail_from, entry.rcpts, entry.source) == (
        "old@example.org",
        ("support@example.com",),
        "smtp",
    )
    assert entry.received_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert (entry.attempts, entry.last_error) == (2, "StoreUnavailable")
    assert spool.read(entry) == RAW
    assert spool.release(entry, ValueError("boom")) == 3
    again = spool.claim()
    assert again is not None and again.id == entry.id
    assert (again.attempts, again.last_error) == (3, "ValueError")
    assert spool.read(again) == RAW
    spool.done(again)
    assert spool.depth() == 0


def test_previous_layout_damaged_metadata_still_yields_the_message(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    entry = _previous_layout_entry(tmp_path / "new", "00000000000000000001.1.aa", attempts=1)
    meta = json.loads((entry / META_FILE).read_text())
    (entry / META_FILE).write_text(json.dumps({**meta, "attempts": "many"}))
    claimed = spool.claim()
    assert claimed is not None and claimed.source == "unknown" and claimed.attempts == 0
    assert spool.read(claimed) == RAW


def test_previous_layout_claimed_entry_is_recovered(tmp_path: Path) -> None:
    Spool(tmp_path)
    _previous_layout_entry(tmp_path / "cur", "00000000000000000001.1.aa", attempts=1)
    spool = Spool(tmp_path)  # restarted after an upgrade
    assert spool.recover() == 1
    entry = spool.claim()
    assert entry is not None and (entry.attempts, entry.last_error) == (2, "Interrupted")
    assert spool.read(entry) == RAW


def test_both_layouts_are_claimed_oldest_first(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    _previous_layout_entry(tmp_path / "new", "00000000000000000001.1.aa", attempts=0)
    newer = spool.put(RAW, mail_from="", rcpts=[], source="cli")
    claimed = [spool.claim(), spool.claim()]
    assert [entry.id for entry in claimed if entry is not None] == [
        "00000000000000000001.1.aa",
        newer.id,
    ]


def test_concurrent_puts_are_each_made_durable_by_a_later_directory_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path)
    real_fsync = spool_module.fsync_directory
    covered: list[set[str]] = []  # per completed fsync of new/: the names it made durable
    lock = threading.Lock()

    def recording_fsync(path: Path) -> None:
        listed = set(os.listdir(path))  # renamed before this fsync started: covered by it
        real_fsync(path)
        with lock:
            covered.append(listed)

    monkeypatch.setattr(spool_module, "fsync_directory", recording_fsync)
    results = _put_concurrently(spool, 8)
    assert len(results) == 8 and all(isinstance(result, str) for result in results)
    assert set(results) <= set().union(*covered)
    found = {}
    while (entry := spool.claim()) is not None:
        found[entry.id] = spool.read(entry)
    assert sorted(found.values()) == sorted(RAW + bytes([n]) for n in range(8))


def test_failed_directory_fsync_fails_every_put_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path)

    break_spool_directory_fsync(monkeypatch)
    results = _put_concurrently(spool, 8)
    assert len(results) == 8
    assert all(isinstance(result, OSError) and result.errno == 5 for result in results)
    assert list((tmp_path / "new").iterdir()) == [] and list((tmp_path / "tmp").iterdir()) == []
    monkeypatch.undo()
    assert spool.put(RAW, mail_from="", rcpts=[], source="cli").id
    assert spool.waiting() == 1


def test_interrupted_directory_fsync_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path)

    def interrupted(path: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(spool_module, "fsync_directory", interrupted)
    with pytest.raises(KeyboardInterrupt):
        spool.put(RAW, mail_from="", rcpts=[], source="cli")
    assert spool.waiting() == 0 and list((tmp_path / "tmp").iterdir()) == []


def _claim_all(root: str, out: multiprocessing.Queue[list[str]]) -> None:  # pragma: no cover
    spool = Spool(Path(root))
    got = []
    while (entry := spool.claim()) is not None:
        got.append(entry.id)
    out.put(got)


def _claimed_by_processes(root: Path, count: int = 4) -> list[str]:
    """The entry ids that ``count`` processes claimed, all at once, from the spool at ``root``."""
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue[list[str]] = ctx.Queue()
    workers = [ctx.Process(target=_claim_all, args=(str(root), out)) for _ in range(count)]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    return [entry_id for result in results for entry_id in result]


def test_each_entry_is_claimed_by_exactly_one_process(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    ids = {spool.put(RAW, mail_from="", rcpts=[], source="cli").id for _ in range(200)}
    claimed = _claimed_by_processes(tmp_path)
    assert len(claimed) == len(set(claimed)) == 200
    assert set(claimed) == ids


def test_each_message_of_each_group_is_claimed_by_exactly_one_process(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    ids = {
        entry.id
        for n in range(40)
        for entry in spool.put_many(
            [PutRequest(RAW + bytes([65 + n, m]), "", (), "smtp") for m in range(1 + n % 5)]
        )
        if isinstance(entry, SpoolEntry)
    }
    assert len(ids) == sum(1 + n % 5 for n in range(40))
    claimed = _claimed_by_processes(tmp_path)
    assert len(claimed) == len(set(claimed)) and set(claimed) == ids


def test_done_many_removes_a_batch_with_one_fsync_of_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path)
    for n in range(4):
        spool.put(RAW + bytes([n]), mail_from="", rcpts=[], source="cli")
    claimed = [spool.claim() for _ in range(3)]
    synced: list[Path] = []
    monkeypatch.setattr(spool_module, "fsync_directory", synced.append)
    spool.done_many([entry for entry in claimed if entry is not None])
    assert synced == [spool.cur_dir]
    assert spool.claimed() == 0 and spool.waiting() == 1
