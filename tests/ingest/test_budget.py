"""The processing budget of an analysis made in this process (`postdesk ingest`, a small
`import`, a batch the pre-stage did not analyse): a real-time timer stops it, and the mail
comes back as an Analysis whose problem says so (issue 20)."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from pathlib import Path

import pytest

from ingest import budget as budget_module
from ingest.analyse import Analysis, AnalysisOptions, analyse
from ingest.budget import analyse_within, over_budget
from ingest.model import Outcome, RawMessage
from tests.helpers import mail, make_app

OPTIONS = AnalysisOptions(
    frozenset({"support@desk.example"}), None, frozenset(), 1 << 20, 1 << 22, "test-key"
)
RAW = RawMessage(mail(subject="budget"), ("support@desk.example",), source="cli")
# pytest-timeout's default method arms the same timer (SIGALRM), which leaves the budget
# unarmed (as any timer of another's does): these tests use its thread method.
pytestmark = pytest.mark.timeout(300, method="thread")


def _sleepy(raw: RawMessage, options: AnalysisOptions) -> Analysis:
    for _ in range(600):  # Python steps: the timer's signal is seen between them
        time.sleep(0.05)
    return analyse(raw, options)


def _backtracking(raw: RawMessage, options: AnalysisOptions) -> Analysis:
    re.match(r"(a+)+$", "a" * 40 + "b")  # minutes inside the regex engine
    return analyse(raw, options)


def _swallowing(raw: RawMessage, options: AnalysisOptions) -> Analysis:
    with contextlib.suppress(Exception):  # an analysis' own fallback must not swallow it
        time.sleep(30)
    return analyse(raw, options)


@pytest.mark.parametrize("analyser", [_sleepy, _backtracking, _swallowing])
def test_an_analysis_over_the_budget_comes_back_with_the_reason(analyser: object) -> None:
    started = time.monotonic()
    found = analyse_within(RAW, OPTIONS, 0.3, analyser)  # type: ignore[arg-type]
    assert time.monotonic() - started < 10
    assert found.parsed is None and found.content is None
    assert found.problem == over_budget(0.3) == "processing took longer than 0.3 s"


def test_within_the_budget_the_analysis_is_unchanged_and_the_timer_is_off() -> None:
    found = analyse_within(RAW, OPTIONS, 5.0)
    assert found.parsed is not None and found.parsed.subject == "budget"
    assert budget_module.can_time()  # the timer was disarmed


def test_outside_the_main_thread_the_analysis_runs_unbounded() -> None:
    found: list[Analysis] = []

    def run() -> None:
        found.append(analyse_within(RAW, OPTIONS, 0.01))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert found and found[0].parsed is not None


def test_intake_quarantines_a_mail_over_its_budget(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path, sqlite_url)
    assert app.intake.budget == app.settings.ingest.max_processing_seconds == 30.0
    app.intake.budget = 0.3

    def slow(raw: RawMessage, options: AnalysisOptions, budget: float | None) -> Analysis:
        return analyse_within(raw, options, budget, _sleepy)

    monkeypatch.setattr("ingest.intake.analyse_within", slow)
    result = app.intake.ingest(RAW)
    assert result.outcome is Outcome.QUARANTINED
    assert result.reason == "processing took longer than 0.3 s"
    assert [item.reason for item in app.quarantine.list()] == [result.reason]
    batch = app.intake.ingest_batch([RawMessage(mail(subject="two"), RAW.rcpts, source="cli")])
    assert [r.outcome for r in batch] == [Outcome.QUARANTINED]
