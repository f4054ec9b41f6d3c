"""The spool keeps raw mail durably, hands each entry to exactly one claimer, and recovers."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.spool import META_FILE, Spool

RAW = b"From: a@example.org\r\nTo: support@example.com\r\nSubject: hi\r\n\r\nbody\r\n"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


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
    assert _mode(entry.path) == 0o700
    for child in entry.path.iterdir():
        assert _mode(child) == 0o600


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
    meta = (again.path / META_FILE).read_text()
    assert "hunter2" not in meta


def test_recover_returns_claimed_entries_and_drops_stale_tmp(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.put(RAW, mail_from="", rcpts=[], source="cli")
    assert spool.claim() is not None  # the claimer "crashes" here
    stale = tmp_path / "tmp" / "half-written"
    stale.mkdir()
    (stale / "message").write_bytes(b"partial")
    restarted = Spool(tmp_path)
    assert restarted.recover(stale_tmp_after=timedelta(0)) == 1
    assert not stale.exists()
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
    real_write = os.write

    def disk_full(fd: int, data: bytes | memoryview) -> int:
        if len(data) == len(RAW):
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", disk_full)
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
    (entry.path / META_FILE).write_text("{not json")
    claimed = spool.claim()
    assert claimed is not None and claimed.source == "unknown" and claimed.rcpts == ()
    assert spool.read(claimed) == RAW


def test_entry_without_message_file_is_dropped(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    entry = spool.put(RAW, mail_from="", rcpts=[], source="cli")
    (entry.path / "message").unlink()
    assert spool.claim() is None
    assert spool.depth() == 0


def test_metadata_is_json_with_utc_time(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    tz = datetime(2024, 5, 1, 14, 0, tzinfo=UTC).astimezone()
    entry = spool.put(RAW, mail_from="a@x", rcpts=["b@y"], source="imap:acct", received_at=tz)
    meta = json.loads((entry.path / META_FILE).read_text())
    assert meta["received_at"] == "2024-05-01T14:00:00+00:00"
    assert meta["source"] == "imap:acct" and meta["attempts"] == 0


def _claim_all(root: str, out: multiprocessing.Queue[list[str]]) -> None:  # pragma: no cover
    spool = Spool(Path(root))
    got = []
    while (entry := spool.claim()) is not None:
        got.append(entry.id)
    out.put(got)


def test_each_entry_is_claimed_by_exactly_one_process(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    ids = {spool.put(RAW, mail_from="", rcpts=[], source="cli").id for _ in range(200)}
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue[list[str]] = ctx.Queue()
    workers = [ctx.Process(target=_claim_all, args=(str(tmp_path), out)) for _ in range(4)]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    claimed = [entry_id for result in results for entry_id in result]
    assert len(claimed) == len(set(claimed)) == 200
    assert set(claimed) == ids
