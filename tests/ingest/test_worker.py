"""The spool worker: batches, database outages, poison messages; entries go only after success."""

from __future__ import annotations

import threading
from pathlib import Path

from ingest.analyse import Analysis, AnalysisOptions
from ingest.model import IngestResult, Outcome, RawMessage
from ingest.prestage import PreStage
from ingest.spool.queue import Spool
from ingest.worker import BatchProcess, SpoolWorker, WorkerSettings
from store.errors import StoreUnavailable


def _ok(raw: RawMessage) -> IngestResult:
    return IngestResult(Outcome.CREATED, "SUP-1", None, "created")


def _spool(tmp_path: Path, count: int) -> Spool:
    spool = Spool(tmp_path / "spool")
    for i in range(count):
        spool.put(
            f"Subject: {i}\r\n\r\nbody\r\n".encode(),
            mail_from="a@b.example",
            rcpts=["support@desk.example"],
            source="smtp",
        )
    return spool


def test_batches_are_processed_and_removed_after_success(tmp_path: Path) -> None:
    spool = _spool(tmp_path, 7)
    batches: list[int] = []

    def batch(raws: list[RawMessage], _analyses: list[Analysis | None]) -> list[IngestResult]:
        batches.append(len(raws))
        assert all(r.rcpts == ("support@desk.example",) and r.source == "smtp" for r in raws)
        return [_ok(r) for r in raws]

    seen: list[str] = []
    worker = SpoolWorker(
        spool,
        _ok,
        lambda *a: None,
        settings=WorkerSettings(batch_size=3),
        process_batch=batch,
        on_result=lambda r, e: seen.append(e.id),
    )
    assert worker.drain() == 7
    assert batches == [3, 3]  # the seventh, alone, goes through `process`
    assert len(seen) == 7 and spool.depth() == 0


def test_database_outage_keeps_every_entry(tmp_path: Path) -> None:
    spool = _spool(tmp_path, 4)

    def down(raws: list[RawMessage], _analyses: list[Analysis | None]) -> list[IngestResult]:
        raise StoreUnavailable("database unavailable")

    worker = SpoolWorker(spool, _ok, lambda *a: None, process_batch=down)
    assert worker.step() is None
    assert worker.database_down
    assert spool.depth() == 4 and spool.waiting() == 4
    worker.process_batch = lambda raws, _analyses: [_ok(r) for r in raws]
    assert worker.drain() == 4
    assert not worker.database_down and spool.depth() == 0


def test_poison_message_is_quarantined_after_max_attempts(tmp_path: Path) -> None:
    spool = _spool(tmp_path, 1)
    quarantined: list[tuple[bytes, str, int]] = []

    def boom(raw: RawMessage) -> IngestResult:
        raise RuntimeError("bug")

    worker = SpoolWorker(
        spool,
        boom,
        lambda raw, reason, n: quarantined.append((raw.data, reason, n)),
        settings=WorkerSettings(max_attempts=3),
    )
    for _ in range(3):
        assert worker.step() is True
    assert spool.depth() == 0
    assert [(reason, n) for _, reason, n in quarantined] == [
        ("processing failed 3 times: RuntimeError", 3)
    ]


def test_batch_fault_falls_back_to_one_by_one(tmp_path: Path) -> None:
    spool = _spool(tmp_path, 3)

    def broken_batch(
        raws: list[RawMessage], _analyses: list[Analysis | None]
    ) -> list[IngestResult]:
        raise ValueError("batch bug")

    singles: list[bytes] = []

    def single(raw: RawMessage) -> IngestResult:
        singles.append(raw.data)
        return _ok(raw)

    worker = SpoolWorker(spool, single, lambda *a: None, process_batch=broken_batch)
    assert worker.drain() == 3
    assert len(singles) == 3 and spool.depth() == 0


def test_batch_fallback_keeps_the_pre_stage_analyses(tmp_path: Path) -> None:
    """One by one after a batch fault, each message is decided with the analysis the
    pre-stage made (in its budgeted pool), never analysed again in this process."""
    spool = _spool(tmp_path, 3)
    made = [Analysis(None, f"analysed {n}", None, None) for n in range(3)]
    decided: list[tuple[int, Analysis | None]] = []

    def batch(raws: list[RawMessage], analyses: list[Analysis | None]) -> list[IngestResult]:
        if len(raws) > 1:
            raise ValueError("batch bug")
        decided.append((len(raws), analyses[0]))
        return [_ok(raws[0])]

    def single(raw: RawMessage) -> IngestResult:
        raise AssertionError("analysed again in the main process")

    worker = SpoolWorker(spool, single, lambda *a: None, process_batch=batch)
    batch_entries = worker._claim_more([])
    raws = worker._raws(batch_entries)
    assert raws is not None and len(raws) == 3
    assert worker._step_batch(batch_entries, raws, list(made)) is True
    assert decided == [(1, made[0]), (1, made[1]), (1, made[2])]
    assert spool.depth() == 0


OPTIONS = AnalysisOptions(
    frozenset({"support@desk.example"}), None, frozenset(), 1 << 20, 1 << 22, "test-key"
)


def _ahead_worker(spool: Spool, process_batch: BatchProcess, prestage: PreStage) -> SpoolWorker:
    """A worker deciding batches of three, the next one analysed by `prestage` meanwhile."""
    return SpoolWorker(
        spool,
        _ok,
        lambda *a: None,
        settings=WorkerSettings(batch_size=3),
        process_batch=process_batch,
        prestage=prestage,
    )


def test_prestage_analyses_the_next_batch_while_one_is_decided(tmp_path: Path) -> None:
    spool = _spool(tmp_path, 7)
    decided: list[list[str]] = []

    def batch(raws: list[RawMessage], analyses: list[Analysis | None]) -> list[IngestResult]:
        assert len(analyses) == len(raws)
        decided.append([a.parsed.subject for a in analyses if a is not None and a.parsed])
        # the next batch was claimed (and handed to the pre-stage) before this one is decided
        assert spool.waiting() == max(0, 7 - 3 * (len(decided) + 1))
        return [_ok(r) for r in raws]

    with PreStage(OPTIONS, workers=1) as prestage:
        worker = _ahead_worker(spool, batch, prestage)
        assert worker.drain() == 7
    assert [len(d) for d in decided] == [3, 3, 1]
    assert [s for d in decided for s in d] == [str(i) for i in range(7)], "in spool order"
    assert spool.depth() == 0


def test_prestage_outage_gives_back_the_batch_ahead_too(tmp_path: Path) -> None:
    spool = _spool(tmp_path, 5)

    def down(raws: list[RawMessage], _analyses: list[Analysis | None]) -> list[IngestResult]:
        raise StoreUnavailable("database unavailable")

    with PreStage(OPTIONS, workers=1) as prestage:
        worker = _ahead_worker(spool, down, prestage)
        assert worker.step() is None
        assert spool.depth() == 5 and spool.waiting() == 5, "nothing stays claimed"
        worker.process_batch = lambda raws, _analyses: [_ok(r) for r in raws]
        assert worker.drain() == 5
    assert spool.depth() == 0


def test_run_hands_each_steps_results_over_together(tmp_path: Path) -> None:
    spool = _spool(tmp_path, 7)
    stop = threading.Event()
    pending: list[str] = []
    handed_over: list[list[str]] = []

    def after_step() -> None:
        if pending:
            handed_over.append(list(pending))
            pending.clear()
        if sum(map(len, handed_over)) == 7:
            stop.set()

    worker = SpoolWorker(
        spool,
        _ok,
        lambda *a: None,
        settings=WorkerSettings(batch_size=3),
        process_batch=lambda raws, _a: [_ok(r) for r in raws],
        on_result=lambda r, e: pending.append(e.id),
        after_step=after_step,
    )
    runner = threading.Thread(target=worker.run, args=(stop,))
    runner.start()
    runner.join(timeout=30)
    assert not runner.is_alive()
    assert [len(step) for step in handed_over] == [3, 3, 1]
