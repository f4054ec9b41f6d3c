"""`Intake.ingest` analyses a message (parse, classify, redact) before it opens its write
transaction: a slow or failing analysis never holds the database's write lock."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import ingest.intake
import ingest.pipeline
from ingest.analyse import Analysis, AnalysisOptions, analyse
from ingest.model import Outcome, RawMessage
from tests.helpers import mail
from tests.ingest.desk import Desk


@pytest.fixture
def desk(tmp_path: Path, sqlite_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, sqlite_url)
    yield d
    d.close()


class ConcurrentWriter:
    """Stands in for `analyse_within`: while "analysing", another connection writes to the file
    without waiting (timeout 0), which fails at once if the intake holds the write lock."""

    def __init__(self, path: str, *, fail: bool = False) -> None:
        self.path = path
        self.fail = fail
        self.writes = 0

    def __call__(
        self, raw: RawMessage, options: AnalysisOptions, budget: float | None = None
    ) -> Analysis:
        other = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the intake holds it
            other.execute("ROLLBACK")
            self.writes += 1
        finally:
            other.close()
        if self.fail:
            raise RuntimeError("a bug in the analysis")
        return analyse(raw, options)


def _no_analysis_in_the_transaction(raw: RawMessage, options: AnalysisOptions) -> Analysis:
    raise AssertionError("the pipeline analysed inside the write transaction")


@pytest.mark.parametrize(
    ("data", "fail", "outcome"),
    [
        (mail(), False, Outcome.CREATED),
        (b"\x00\x01 not a mail", False, Outcome.QUARANTINED),  # unparseable
        (mail(), True, Outcome.QUARANTINED),  # the analysis itself fails
    ],
)
def test_the_analysis_runs_before_the_write_transaction(
    desk: Desk,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    data: bytes,
    fail: bool,
    outcome: Outcome,
) -> None:
    writer = ConcurrentWriter(sqlite_url.removeprefix("sqlite:///"), fail=fail)
    monkeypatch.setattr(ingest.intake, "analyse_within", writer)
    monkeypatch.setattr(ingest.pipeline, "analyse", _no_analysis_in_the_transaction)
    result = desk.ingest(data)
    assert writer.writes == 1
    assert result.outcome is outcome, result.reason


def test_a_dry_run_also_analyses_outside_the_transaction(
    desk: Desk, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = ConcurrentWriter(sqlite_url.removeprefix("sqlite:///"))
    monkeypatch.setattr(ingest.intake, "analyse_within", writer)
    monkeypatch.setattr(ingest.pipeline, "analyse", _no_analysis_in_the_transaction)
    assert desk.ingest(mail(), dry_run=True).outcome is Outcome.CREATED
    assert writer.writes == 1
    assert desk.outbox() == []  # nothing recorded
