"""Drains the spool into the pipeline: retries, backs off, quarantines; never dies on one message.

A message's spool entry is removed only after its transaction committed. While the database
is unreachable the worker backs off and keeps entries in the spool (the listeners keep
accepting meanwhile). A message whose processing keeps failing goes to quarantine after
`max_attempts`.

Faults that are not the mail's never count as its attempts: a database outage gives the
entries back to the spool as they were, and a storage fault (disk full, read-only, I/O error:
`store.errors.is_storage_fault`) while reading, recording, quarantining or giving back keeps
the claimed entries in this worker, which tries them again first, with backoff, until the
storage is back. It writes nothing to the spool meanwhile, so a full disk cannot strand them.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from ingest.analyse import Analysis
from ingest.model import IngestResult, RawMessage
from ingest.prestage import PreStage, Work
from ingest.spool.queue import Spool, SpoolEntry
from store.errors import StoreUnavailable, is_storage_fault

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
        self.storage_down = False
        # Claimed entries kept here after a storage fault (or when giving one back failed):
        # tried again before anything new is claimed.
        self._retry: deque[SpoolEntry] = deque()
        self.processed = 0

    def _raw(self, entry: SpoolEntry) -> RawMessage:
        return RawMessage(
            data=self.spool.read(entry),
            rcpts=entry.rcpts,
            mail_from=entry.mail_from,
            source=entry.source,
            received_at=entry.received_at,
        )

    def _claim(self) -> SpoolEntry | None:
        """The next entry: one kept back after a fault first, else the spool's oldest."""
        if self._retry:
            return self._retry.popleft()
        return self.spool.claim()

    def _raws(self, batch: list[SpoolEntry]) -> list[RawMessage] | None:
        """The batch's messages; None (the batch kept for later) when the disk fails."""
        try:
            return [self._raw(entry) for entry in batch]
        except OSError as exc:
            if not is_storage_fault(exc):
                raise
            self._storage_fault(batch, exc)
            return None

    def step(self) -> bool | None:
        """Process waiting entries. True: done; False: nothing waiting; None: the database
        or the storage is down (back off)."""
        if self.prestage is not None and self.process_batch is not None:
            return self._step_ahead()
        entry = self._claim()
        if entry is None:
            return False
        if self.process_batch is not None and self.settings.batch_size > 1:
            batch = self._claim_more([entry])
            if len(batch) > 1:
                raws = self._raws(batch)
                return None if raws is None else self._step_batch(batch, raws, [])
        return self._step_one(entry)

    def _claim_more(self, batch: list[SpoolEntry]) -> list[SpoolEntry]:
        """Claim up to ``batch_size`` entries, and past it the rest of a group file begun
        (a batch takes whole groups, so the spool holds nothing back between batches)."""
        while len(batch) < self.settings.batch_size or self.spool.holding():
            more = self._claim()
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
        raws = self._raws(batch)
        if raws is None:
            return None
        return batch, raws, self.prestage.submit(raws)

    def _step_ahead(self) -> bool | None:
        """Decide one batch while the pre-stage analyses the next one."""
        assert self.prestage is not None
        current, self._ahead = self._ahead or self._analysing(), None
        if current is None:
            return None if self._retry else False  # kept back: the disk failed reading them
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
        """Give back the entries claimed for the next batch (the database or the disk is
        down); after a storage fault they are kept here, behind the batch that met it."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            for _, future in ahead[2]:
                future.cancel()
            if self.storage_down:
                self._retry.extend(ahead[0])
            else:
                self._give_back(ahead[0], error)

    def _give_back(self, entries: Sequence[SpoolEntry], error: BaseException) -> None:
        """Return entries to the spool without counting an attempt (the fault is not theirs);
        one that cannot be given back (the disk) is kept here instead."""
        for entry in entries:
            try:
                self.spool.release(entry, error, count=False)
            except OSError as exc:
                log.warning("spool: could not give an entry back (%s); kept", type(exc).__name__)
                self._retry.append(entry)

    def _storage_fault(self, entries: Sequence[SpoolEntry], exc: BaseException) -> None:
        """Keep `entries` claimed here, to try again first once the storage is back."""
        self._retry.extend(entries)
        if not self.storage_down:
            log.warning(
                "storage fault (%s); %d message(s) kept in the spool, retried with backoff",
                _fault_name(exc),
                len(self._retry),
            )
        self.storage_down = True

    def _step_batch(
        self, batch: list[SpoolEntry], raws: list[RawMessage], analyses: list[Analysis | None]
    ) -> bool | None:
        """Several entries in one transaction; a batch-level fault falls back to one by one."""
        assert self.process_batch is not None
        try:
            results = self.process_batch(raws, analyses)
        except StoreUnavailable as exc:
            self._give_back(batch, exc)
            self._database_down()
            return None
        except Exception as exc:  # decide them one at a time, each with its own retries
            if is_storage_fault(exc):
                self._storage_fault(batch, exc)
                return None
            log.warning("batch failed (%s); processing its messages one by one", type(exc).__name__)
            prepared = [*analyses[: len(batch)], *[None] * (len(batch) - len(analyses))]
            for index, (entry, analysis) in enumerate(zip(batch, prepared, strict=True)):
                if self._step_one(entry, analysis) is None:
                    self._retry.extend(batch[index + 1 :])  # claimed: tried first next time
                    return None
            return True
        self._all_up()
        self._remove(batch)
        for entry, result in zip(batch, results, strict=True):
            self._report(entry, result)
        return True

    def _database_down(self) -> None:
        if not self.database_down:
            log.warning("database unavailable; messages stay in the spool until it is back")
        self.database_down = True

    def _all_up(self) -> None:
        if self.database_down:
            log.info("database reachable again; draining the spool")
        if self.storage_down:
            log.info("storage writable again; draining the spool")
        self.database_down = self.storage_down = False

    def _remove(self, entries: Sequence[SpoolEntry]) -> None:
        """Delete decided entries; a disk that fails here leaves them to be seen again at
        the next start, as duplicates (their decisions are committed)."""
        try:
            self.spool.done_many(entries)
        except OSError as exc:
            log.error("spool: could not remove %d decided entries (%s)", len(entries), exc.errno)

    def _done(self, entry: SpoolEntry, result: IngestResult) -> None:
        self._remove((entry,))
        self._report(entry, result)

    def _report(self, entry: SpoolEntry, result: IngestResult) -> None:
        self.processed += 1
        if self.on_result is not None:
            self.on_result(result, entry)

    def _step_one(self, entry: SpoolEntry, analysis: Analysis | None = None) -> bool | None:
        """One entry in its own transaction; with the pre-stage's `analysis` when there is
        one (never analysed again here, where no processing budget holds it)."""
        raws = self._raws([entry])
        if raws is None:
            return None
        raw = raws[0]
        try:
            if analysis is not None and self.process_batch is not None:
                result = self.process_batch([raw], [analysis])[0]
            else:
                result = self.process(raw)
        except StoreUnavailable as exc:
            self._give_back((entry,), exc)
            self._database_down()
            return None
        except Exception as exc:  # a bug on one message must not stop the others
            if is_storage_fault(exc):
                self._storage_fault((entry,), exc)
                return None
            return self._failed(entry, raw, exc)
        self._all_up()
        self._done(entry, result)
        return True

    def _failed(self, entry: SpoolEntry, raw: RawMessage, exc: Exception) -> bool | None:
        """The mail's own failure: count the attempt; quarantine it after the last one."""
        attempts = entry.attempts + 1
        log.exception("processing failed (%s), attempt %d", type(exc).__name__, attempts)
        try:
            if attempts >= self.settings.max_attempts:
                reason = f"processing failed {attempts} times: {type(exc).__name__}"
                self.quarantine(raw, reason, attempts)
                self._remove((entry,))
            else:
                self.spool.release(entry, exc)
        except OSError as fault:
            if not is_storage_fault(fault):
                raise
            # The attempt is counted here; the entry waits in this worker for the disk.
            counted = replace(entry, attempts=attempts, last_error=type(exc).__name__)
            self._storage_fault((counted,), fault)
            return None
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
        self.give_back_kept()

    def give_back_kept(self) -> None:
        """At stop: return the entries kept after a fault to the spool (those that cannot be
        given back wait in ``cur`` for the next start's recovery)."""
        kept, self._retry = list(self._retry), deque()
        self._give_back(kept, StoreUnavailable("stopped"))
        if self._retry:
            log.warning(
                "spool: %d message(s) wait for recovery at the next start", len(self._retry)
            )

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


def _fault_name(exc: BaseException) -> str:
    """The errno name of a storage fault (ENOSPC, ...), else its class name; never its text."""
    cause = exc if isinstance(exc, OSError) else exc.__cause__
    code = getattr(cause, "errno", None)
    return (
        errno.errorcode.get(code, type(exc).__name__)
        if isinstance(code, int)
        else type(exc).__name__
    )
