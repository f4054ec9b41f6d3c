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

from ingest.model import IngestResult, RawMessage
from ingest.spool import Spool, SpoolEntry
from store.errors import StoreUnavailable

log = logging.getLogger("postdesk.worker")


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
        process_batch: Callable[[list[RawMessage]], list[IngestResult]] | None = None,
    ) -> None:
        self.spool = spool
        self.process = process
        self.process_batch = process_batch
        self.quarantine = quarantine
        self.settings = settings or WorkerSettings()
        self.on_result = on_result
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
        entry = self.spool.claim()
        if entry is None:
            return False
        if self.process_batch is not None and self.settings.batch_size > 1:
            batch = [entry]
            while len(batch) < self.settings.batch_size:
                more = self.spool.claim()
                if more is None:
                    break
                batch.append(more)
            if len(batch) > 1:
                return self._step_batch(batch)
        return self._step_one(entry)

    def _step_batch(self, batch: list[SpoolEntry]) -> bool | None:
        """Several entries in one transaction; a batch-level fault falls back to one by one."""
        assert self.process_batch is not None
        raws = [self._raw(entry) for entry in batch]
        try:
            results = self.process_batch(raws)
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
        for entry, result in zip(batch, results, strict=True):
            self._done(entry, result)
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
            if outcome is None:
                stop.wait(delay)
                delay = min(delay * 2, self.settings.backoff_max)
                continue
            delay = self.settings.backoff_initial
            if outcome is False:
                self.wakeup.wait(1.0)
                self.wakeup.clear()
