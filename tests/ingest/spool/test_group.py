"""Messages stored together share one group file: each is still claimed, read, done, released
and recovered as a message of its own, and none is lost or handed out twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.model import IngestResult, Outcome, RawMessage
from ingest.spool.group import GROUP_HEADER_PREFIX
from ingest.spool.queue import PutRequest, Spool, SpoolEntry
from ingest.worker import SpoolWorker, WorkerSettings

RAW = b"From: a@example.org\r\nTo: support@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _requests(count: int, tag: bytes = b"") -> list[PutRequest]:
    return [
        PutRequest(
            RAW + tag + str(n).encode(), f"s{n}@example.org", ("support@x.example",), "smtp", AT
        )
        for n in range(count)
    ]


def _claim_all(spool: Spool) -> list[SpoolEntry]:
    claimed = []
    while (entry := spool.claim()) is not None:
        claimed.append(entry)
    return claimed


def test_a_group_is_one_file_whose_messages_are_claimed_one_by_one(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    put = [entry for entry in spool.put_many(_requests(3)) if isinstance(entry, SpoolEntry)]
    (group_file,) = spool.new_dir.iterdir()
    assert [entry.id for entry in put] == [f"{group_file.name}.{n}" for n in range(3)]
    assert group_file.name.endswith("+3")
    assert group_file.read_bytes().startswith(GROUP_HEADER_PREFIX)
    assert spool.waiting() == 3 and spool.depth() == 3

    first = spool.claim()
    assert first is not None and spool.holding() == 2
    rest = _claim_all(spool)
    claimed = [first, *rest]
    assert [spool.read(e) for e in claimed] == [RAW + str(n).encode() for n in range(3)]
    assert [e.mail_from for e in claimed] == ["s0@example.org", "s1@example.org", "s2@example.org"]
    assert all(e.received_at == AT and e.attempts == 0 for e in claimed)
    assert [e.id for e in claimed] == [e.id for e in put]
    assert spool.holding() == 0 and spool.claimed() == 3 and spool.waiting() == 0


def test_the_group_file_goes_with_its_last_message(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.put_many(_requests(3))
    claimed = _claim_all(spool)
    spool.done_many(claimed[:2])
    assert len(list(spool.cur_dir.iterdir())) == 1  # one message still undecided
    assert spool.read(claimed[2]) == RAW + b"2"
    spool.done(claimed[2])
    assert list(spool.cur_dir.iterdir()) == [] and spool.depth() == 0
    assert all(f.stat().st_size == 0 for f in spool.free.folder.iterdir())


def test_a_released_message_of_a_group_becomes_an_entry_of_its_own(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.put_many(_requests(3))
    claimed = _claim_all(spool)
    assert spool.release(claimed[1], TimeoutError("quoted mail text")) == 1
    spool.done_many([claimed[0], claimed[2]])
    assert list(spool.cur_dir.iterdir()) == []
    (single,) = spool.new_dir.iterdir()
    assert single.name == f"{claimed[1].id},1,TimeoutError"
    again = spool.claim()
    assert again is not None and again.part is None
    assert (again.id, again.attempts, again.last_error) == (claimed[1].id, 1, "TimeoutError")
    assert (again.mail_from, again.rcpts, again.received_at) == (
        "s1@example.org",
        ("support@x.example",),
        AT,
    )
    assert spool.read(again) == RAW + b"1"


def test_an_interrupted_group_is_split_before_it_is_tried_again(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.put_many(_requests(4))
    assert spool.claim() is not None  # the worker dies here, holding the group

    restarted = Spool(tmp_path)
    assert restarted.recover() == 1
    assert restarted.waiting() == 4
    claimed = _claim_all(restarted)
    assert [restarted.read(e) for e in claimed] == [RAW + str(n).encode() for n in range(4)]
    assert all(e.part is None and e.attempts == 1 for e in claimed)  # each on its own now
    assert all(e.last_error == "Interrupted" for e in claimed)
    assert len(list(restarted.cur_dir.iterdir())) == 4  # the group file itself is gone
    restarted.done_many(claimed)
    assert restarted.depth() == 0


def test_a_damaged_group_header_still_keeps_every_byte(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.put_many(_requests(2))
    (group_file,) = spool.new_dir.iterdir()
    header, _, body = group_file.read_bytes().partition(b"\n")
    group_file.write_bytes(header.replace(b'"size": ', b'"size": 1') + b"\n" + body)
    entry = spool.claim()
    assert entry is not None and spool.holding() == 0
    assert spool.read(entry) == body  # quarantined or ticketed, never silently dropped


def test_done_of_a_group_message_not_claimed_here_is_refused(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    put = spool.put_many(_requests(2))
    assert isinstance(put[0], SpoolEntry)
    with pytest.raises(ValueError, match="not a message of a group claimed here"):
        spool.done(put[0])
    assert spool.waiting() == 2


def test_the_envelope_header_holds_each_message_size(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.put_many(_requests(2, tag=b"longer"))
    (group_file,) = spool.new_dir.iterdir()
    header = group_file.read_bytes().partition(b"\n")[0]
    entries = json.loads(header[len(GROUP_HEADER_PREFIX) :])["entries"]
    assert [e["size"] for e in entries] == [len(RAW) + 7, len(RAW) + 7]
    assert [e["mail_from"] for e in entries] == ["s0@example.org", "s1@example.org"]


def test_a_worker_batch_takes_whole_groups(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.put_many(_requests(5))
    spool.put(RAW, mail_from="", rcpts=[], source="cli")
    batches: list[int] = []

    def decide(raws: list[RawMessage], analyses: list[object]) -> list[IngestResult]:
        batches.append(len(raws))
        return [IngestResult(Outcome.IGNORED, None, None, "") for _ in raws]

    worker = SpoolWorker(
        spool,
        lambda raw: IngestResult(Outcome.IGNORED, None, None, ""),
        lambda raw, reason, attempts: None,
        settings=WorkerSettings(batch_size=3),
        process_batch=decide,  # type: ignore[arg-type]
    )
    assert worker.drain() == 6
    assert batches == [5]  # the group whole, past the batch size; then the single alone
    assert spool.depth() == 0 and spool.holding() == 0
