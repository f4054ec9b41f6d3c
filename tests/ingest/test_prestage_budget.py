"""The processing budget (issue 20): a message whose analysis takes longer than the budget
is quarantined with the reason, its analysing process is replaced, and the messages behind it
are decided; nothing is analysed in the main process, where the budget could not stop it."""

from __future__ import annotations

from pathlib import Path

from ingest import prestage as prestage_module
from ingest.analyse import AnalysisOptions
from ingest.model import Outcome, RawMessage
from ingest.prestage import PreStage, analysis_failed, over_budget
from ingest.worker import SpoolWorker, WorkerSettings
from tests.helpers import mail, make_app
from tests.ingest.slow_analyser import FAIL_MARK, SLOW_MARK, fail_on_mark, slow_on_mark

OPTIONS = AnalysisOptions(
    frozenset({"support@desk.example"}), None, frozenset(), 1 << 20, 1 << 22, "test-key"
)
BUDGET = 1.0


def _raw(subject: str, slow: bool = False) -> RawMessage:
    data = mail(subject=subject, message_id=f"<{subject}@acme.example>")
    if slow:
        data = SLOW_MARK + b"\r\n" + data
    return RawMessage(data, ("support@desk.example",), source="cli")


def test_a_message_over_the_budget_comes_back_with_the_reason() -> None:
    raws = [_raw("one"), _raw("slow", slow=True), _raw("three"), _raw("four")]
    later = [_raw("five"), _raw("six")]
    with PreStage(OPTIONS, workers=1, budget=BUDGET, analyser=slow_on_mark) as stage:
        work = stage.submit(raws)
        ahead = stage.submit(later)  # a batch in flight when the pool is replaced
        analyses = stage.collect(work)
        after = stage.collect(ahead)
    assert [a.parsed.subject if a and a.parsed else None for a in analyses] == [
        "one",
        None,
        "three",
        "four",
    ]
    slow = analyses[1]
    assert slow is not None and slow.problem == "processing took longer than 1 s"
    assert slow.problem == over_budget(BUDGET)
    assert [a.parsed.subject for a in after if a and a.parsed] == ["five", "six"]


def test_a_message_whose_analysis_raises_comes_back_with_the_reason() -> None:
    """Never analysed again in the main process (where no budget holds it): quarantined."""
    bad = _raw("bad")
    bad = RawMessage(FAIL_MARK + b"\r\n" + bad.data, bad.rcpts, source="cli")
    with PreStage(OPTIONS, workers=1, budget=30, analyser=fail_on_mark) as stage:
        analyses = stage.collect(stage.submit([_raw("one"), bad, _raw("three")]))
    assert [a.parsed.subject if a and a.parsed else None for a in analyses] == [
        "one",
        None,
        "three",
    ]
    failed = analyses[1]
    assert failed is not None and failed.problem == "analysis failed: ValueError"
    assert failed.problem == analysis_failed(ValueError())


def test_every_chunk_is_analysed_in_the_pool() -> None:
    raws = [_raw(f"m{i}") for i in range(25)]
    with PreStage(OPTIONS, workers=2, budget=30, analyser=slow_on_mark) as stage:
        analyses = stage.collect(stage.submit(raws))
    assert [a.parsed.subject for a in analyses if a and a.parsed] == [f"m{i}" for i in range(25)]


def test_the_spool_worker_quarantines_the_slow_mail_and_decides_the_rest(
    tmp_path: Path, sqlite_url: str
) -> None:
    app = make_app(tmp_path, sqlite_url)
    try:
        for raw in [_raw("first"), _raw("slow", slow=True), _raw("third"), _raw("fourth")]:
            app.spool.put(
                raw.data, mail_from="carol@acme.example", rcpts=list(raw.rcpts), source="smtp"
            )
        outcomes: list[tuple[Outcome, str]] = []
        with PreStage(
            AnalysisOptions.of(app.pipeline.options), 1, budget=BUDGET, analyser=slow_on_mark
        ) as stage:
            worker = SpoolWorker(
                app.spool,
                app.intake.ingest,
                app.intake.quarantine_raw,
                settings=WorkerSettings(batch_size=2),
                on_result=lambda result, _entry: outcomes.append((result.outcome, result.reason)),
                process_batch=app.intake.ingest_batch,
                prestage=stage,
            )
            assert worker.drain() == 4
        assert [o for o, _ in outcomes].count(Outcome.CREATED) == 3
        assert (Outcome.QUARANTINED, "processing took longer than 1 s") in outcomes
        assert app.spool.depth() == 0
    finally:
        app.close()


def test_the_budget_is_a_module_default_of_30_seconds() -> None:
    assert prestage_module.DEFAULT_BUDGET == 30.0
