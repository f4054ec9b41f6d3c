"""Group commit: messages handed in together share one file and one directory fsync, and
every session gets the outcome of the write its message was in (entry or error)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ingest.spool import queue as spool_module
from ingest.spool.queue import PutRequest, Spool, SpoolEntry
from ingest.spool.writer import SpoolGroupWriter
from tests.faults import break_spool_directory_fsync

RAW = b"From: a@example.org\r\nTo: support@example.com\r\nSubject: hi\r\n\r\nbody\r\n"


def _request(n: int) -> PutRequest:
    return PutRequest(RAW + bytes([65 + n]), "a@example.org", ("support@example.com",), "smtp")


def _waiting_raw(spool: Spool) -> list[bytes]:
    return sorted(spool.read(e) for e in (spool.claim() for _ in range(spool.waiting())) if e)


def test_put_many_stores_every_message_with_one_directory_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wakeups: list[int] = []
    spool = Spool(tmp_path, on_put=lambda: wakeups.append(1))
    synced: list[Path] = []
    real_fsync = spool_module.fsync_directory

    def counting_fsync(path: Path) -> None:
        synced.append(path)
        real_fsync(path)

    monkeypatch.setattr(spool_module, "fsync_directory", counting_fsync)
    outcomes = spool.put_many([_request(n) for n in range(5)])
    assert all(isinstance(o, SpoolEntry) for o in outcomes)
    assert synced == [spool.new_dir] and wakeups == [1]
    assert len(list(spool.new_dir.iterdir())) == 1 and spool.waiting() == 5  # one file
    assert _waiting_raw(spool) == sorted(RAW + bytes([65 + n]) for n in range(5))
    assert list(spool.tmp_dir.iterdir()) == []


def test_put_many_failed_write_fails_every_message_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path)

    def disk_full(path: Path, parts: Sequence[bytes], *, reuse: bool = False) -> None:
        path.write_bytes(b"partial")  # a half-written file must not stay behind
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spool_module, "write_parts_durably", disk_full)
    outcomes = spool.put_many([_request(n) for n in range(3)])
    assert all(isinstance(o, OSError) and o.errno == 28 for o in outcomes)
    monkeypatch.undo()
    assert spool.depth() == 0 and list(spool.tmp_dir.iterdir()) == []
    assert isinstance(spool.put_many([_request(3)])[0], SpoolEntry)


def test_put_many_failed_directory_fsync_takes_back_the_whole_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path)

    break_spool_directory_fsync(monkeypatch)
    outcomes = spool.put_many([_request(n) for n in range(4)])
    assert all(isinstance(o, OSError) and o.errno == 5 for o in outcomes)
    assert spool.depth() == 0 and list(spool.tmp_dir.iterdir()) == []


class _RecordingSpool(Spool):
    """A real spool whose first write waits for `release`, recording each group's size."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.groups: list[int] = []
        self.go = threading.Event()
        self.started = threading.Event()

    def put_many(self, requests: Sequence[PutRequest]) -> list[SpoolEntry | OSError]:
        self.groups.append(len(requests))
        self.started.set()
        assert self.go.wait(10), "test never released the first write"
        return super().put_many(requests)


def test_messages_arriving_while_the_writer_is_busy_are_written_as_one_group(
    tmp_path: Path,
) -> None:
    spool = _RecordingSpool(tmp_path)

    async def main() -> list[SpoolEntry]:
        with ThreadPoolExecutor(max_workers=1) as pool:
            writer = SpoolGroupWriter(spool, pool, writers=1)
            first = asyncio.ensure_future(
                writer.put(RAW + b"0", mail_from="", rcpts=[], source="smtp")
            )
            await asyncio.to_thread(spool.started.wait, 10)
            rest = [
                asyncio.ensure_future(
                    writer.put(RAW + bytes([49 + n]), mail_from="", rcpts=[], source="smtp")
                )
                for n in range(5)
            ]
            await asyncio.sleep(0)
            spool.go.set()
            return list(await asyncio.gather(first, *rest))

    entries = asyncio.run(main())
    assert spool.groups == [1, 5]  # alone while idle; the five waiting ones together
    assert [spool.read(entry) for entry in entries] == [RAW + bytes([48 + n]) for n in range(6)]


def test_each_session_gets_the_outcome_of_its_own_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = _RecordingSpool(tmp_path)
    spool.go.set()
    real_write = spool_module.write_parts_durably

    def failing_with_message_4(path: Path, parts: Sequence[bytes], *, reuse: bool = False) -> None:
        if RAW + b"4" in parts:
            raise OSError(28, "No space left on device")
        real_write(path, parts, reuse=reuse)

    monkeypatch.setattr(spool_module, "write_parts_durably", failing_with_message_4)

    async def main() -> list[SpoolEntry | BaseException]:
        writer = SpoolGroupWriter(spool, writers=1, max_group=3)
        puts = [
            writer.put(RAW + bytes([48 + n]), mail_from="", rcpts=[], source="smtp")
            for n in range(7)
        ]
        return list(await asyncio.gather(*puts, return_exceptions=True))

    outcomes = asyncio.run(main())
    assert spool.groups == [1, 3, 3]  # the first alone, then the waiting ones three at a time
    assert [isinstance(o, OSError) for o in outcomes] == [n >= 4 for n in range(7)]
    assert spool.waiting() == 4


def test_writer_refuses_nonsense_limits(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SpoolGroupWriter(Spool(tmp_path), writers=0)
