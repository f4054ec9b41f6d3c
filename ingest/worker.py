"""Drains the spool into the pipeline: retries, backs off, quarantines; never dies on one message.

A message's spool entry is removed only after its transaction committed. While the database
is unreachable the worker backs off and keeps entries in the spool (the listeners keep
accepting meanwhile). A message whose processing keeps failing goes to quarantine after
`max_attempts`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ingest.analyse import Analysis
from ingest.model import IngestResult, RawMessage
from ingest.prestage import PreStage, Work
from ingest.spool.queue import Spool, SpoolEntry
from store.errors import StoreUnavailable

log = logging.getLogger(__name__)
FREE_FILES_A_STEP = 64  # empty spool files made per idle step (ingest.spool.free)
BatchProcess = Callable[[list[RawMessage], list[Analysis | None]], list[IngestResult]]


class StopSignal(Protocol):
    """A threading.Event, or a multiprocessing one when the worker runs in its own process."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    batch_size: int = 50  # messages decided in one transaction when several are waiting


class SpoolWorker:
    """Takes spool entries and hands them to `process` (or, several at once, `process_batch`)."""

    def __init__(
        self,
        spool: Spool,
        process: Callable[[RawMessage], IngestResult],
        quarantine: Callable[[RawMessage, str, int], object],
        *,
        settings: WorkerSettings | None = None,
        on_result: Callable[[IngestResult, SpoolEntry], None] | None = None,
        process_batch: BatchProcess | None = None,
        prestage: PreStage | None = None,
        after_step: Callable[[], None] | None = None,
    ) -> None:
        self.spool = spool
        self.process = process
        self.process_batch = process_batch
        self.prestage = prestage
        # Entries claimed and being analysed by the pre-stage while the batch before is decided.
        self._ahead: tuple[list[SpoolEntry], list[RawMessage], Work] | None = None
        self.quarantine = quarantine
        self.settings = settings or WorkerSettings()
        self.on_result = on_result
        self.after_step = after_step  # e.g. send the step's `on_result` reports at once
        self.wakeup = threading.Event()
        self.database_down = False
        self.processed = 0

    def _raw(self, entry: SpoolEntry) -> RawMessage:
        return RawMessage(
            data=self.spool.read(entry),
            rcpts=entry.rcpts,
            mail_from=entry.mail_from,
            source=entry.source,
            received_at=entry.received_at,
        )

    def step(self) -> bool | None:
        """Process waiting entries. True: done; False: nothing waiting; None: database down."""
        if self.prestage is not None and self.process_batch is not None:
            return self._step_ahead()
        entry = self.spool.claim()
        if entry is None:
            return False
        if self.process_batch is not None and self.settings.batch_size > 1:
            batch = self._claim_more([entry])
            if len(batch) > 1:
                return self._step_batch(batch, [self._raw(e) for e in batch], [])
        return self._step_one(entry)

    def _claim_more(self, batch: list[SpoolEntry]) -> list[SpoolEntry]:
        """Claim up to ``batch_size`` entries, and past it the rest of a group file begun
        (a batch takes whole groups, so the spool holds nothing back between batches)."""
        while len(batch) < self.settings.batch_size or self.spool.holding():
            more = self.spool.claim()
            if more is None:
                break
            batch.append(more)
        return batch

    def _analysing(self) -> tuple[list[SpoolEntry], list[RawMessage], Work] | None:
        """Claim a batch and start its analysis in the pre-stage; None when nothing waits."""
        assert self.prestage is not None
        batch = self._claim_more([])
        if not batch:
            return None
        raws = [self._raw(entry) for entry in batch]
        return batch, raws, self.prestage.submit(raws)

    def _step_ahead(self) -> bool | None:
        """Decide one batch while the pre-stage analyses the next one."""
        assert self.prestage is not None
        current, self._ahead = self._ahead or self._analysing(), None
        if current is None:
            return False
        batch, raws, work = current
        self._ahead = self._analysing()
        try:
            analyses = self.prestage.collect(work)
        except Exception as exc:  # a broken pool: analyse in this process instead
            log.warning("pre-stage failed (%s); analysing here", type(exc).__name__)
            analyses = []
        outcome = self._step_batch(batch, raws, analyses)
        if outcome is None:
            self.release_ahead(StoreUnavailable("database unavailable"))
        return outcome

    def release_ahead(self, error: BaseException) -> None:
        """Give back the entries claimed for the next batch (the database is down)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            for _, future in ahead[2]:
                future.cancel()
            for entry in ahead[0]:
                self.spool.release(entry, error)

    def _step_batch(
        self, batch: list[SpoolEntry], raws: list[RawMessage], analyses: list[Analysis | None]
    ) -> bool | None:
        """Several entries in one transaction; a batch-level fault falls back to one by one."""
        assert self.process_batch is not None
        try:
            results = self.process_batch(raws, analyses)
        except StoreUnavailable as exc:
            for entry in batch:
                self.spool.release(entry, exc)
            self._database_down()
            return None
        except Exception as exc:  # decide them one at a time, each with its own retries
            log.warning("batch failed (%s); processing its messages one by one", type(exc).__name__)
            for entry in batch:
                if self._step_one(entry) is None:
                    return None
            return True
        self._database_up()
        self.spool.done_many(batch)
        for entry, result in zip(batch, results, strict=True):
            self._report(entry, result)
        return True

    def _database_down(self) -> None:
        if not self.database_down:
            log.warning("database unavailable; messages stay in the spool until it is back")
        self.database_down = True

    def _database_up(self) -> None:
        if self.database_down:
            log.info("database reachable again; draining the spool")
        self.database_down = False

    def _done(self, entry: SpoolEntry, result: IngestResult) -> None:
        self.spool.done(entry)
        self._report(entry, result)

    def _report(self, entry: SpoolEntry, result: IngestResult) -> None:
        self.processed += 1
        if self.on_result is not None:
            self.on_result(result, entry)

    def _step_one(self, entry: SpoolEntry) -> bool | None:
        raw = self._raw(entry)
        try:
            result = self.process(raw)
        except StoreUnavailable as exc:
            self.spool.release(entry, exc)
            self._database_down()
            return None
        except Exception as exc:  # a bug on one message must not stop the others
            attempts = entry.attempts + 1
            log.exception("processing failed (%s), attempt %d", type(exc).__name__, attempts)
            if attempts >= self.settings.max_attempts:
                reason = f"processing failed {attempts} times: {type(exc).__name__}"
                self.quarantine(raw, reason, attempts)
                self.spool.done(entry)
            else:
                self.spool.release(entry, exc)
            return True
        self._database_up()
        self._done(entry, result)
        return True

    def drain(self, limit: int = 1_000_000) -> int:
        """Process until the spool is empty (or the database is down); returns how many."""
        before = self.processed
        while self.processed - before < limit:
            if not self.step():
                break
        return self.processed - before

    def run(self, stop: StopSignal) -> None:
        """The daemon loop: drain, then sleep until woken; back off while the database is down."""
        delay = self.settings.backoff_initial
        while not stop.is_set():
            outcome = self.step()
            if self.after_step is not None:
                self.after_step()
            if outcome is None:
                stop.wait(delay)
                delay = min(delay * 2, self.settings.backoff_max)
                continue
            delay = self.settings.backoff_initial
            if outcome is False:
                if self._stock_free_files():
                    continue  # look for mail again before making more
                self.wakeup.wait(1.0)
                self.wakeup.clear()
        self.finish_ahead()

    def _stock_free_files(self) -> int:
        """While idle: create a few of the empty files the listeners write into."""
        try:
            return self.spool.free.stock(at_most=FREE_FILES_A_STEP)
        except OSError as exc:  # e.g. a full disk: the listeners create files as they need
            log.debug("spool: could not stock free files (%s)", type(exc).__name__)
            return 0

    def finish_ahead(self) -> None:
        """Decide the batch the pre-stage is analysing, if any (when stopping)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and self.prestage is not None:
            batch, raws, work = ahead
            try:
                analyses = self.prestage.collect(work)
            except Exception:  # analysed here instead
                analyses = []
            if self._step_batch(batch, raws, analyses) is None:
                log.warning(
                    "database unavailable at stop; %d message(s) stay in the spool", len(batch)
                )
            if self.after_step is not None:
                self.after_step()
