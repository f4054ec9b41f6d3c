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

from ingest.model import IngestResult, RawMessage
from ingest.spool import Spool, SpoolEntry
from store.errors import StoreUnavailable

log = logging.getLogger("postdesk.worker")


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 30.0


class SpoolWorker:
    """Takes spool entries one at a time and hands them to `process`."""

    def __init__(
        self,
        spool: Spool,
        process: Callable[[RawMessage], IngestResult],
        quarantine: Callable[[RawMessage, str, int], object],
        settings: WorkerSettings | None = None,
        on_result: Callable[[IngestResult, SpoolEntry], None] | None = None,
    ) -> None:
        self.spool = spool
        self.process = process
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
        """Process one entry. True: done; False: nothing waiting; None: database unavailable."""
        entry = self.spool.claim()
        if entry is None:
            return False
        raw = self._raw(entry)
        try:
            result = self.process(raw)
        except StoreUnavailable as exc:
            self.spool.release(entry, exc)
            if not self.database_down:
                log.warning("database unavailable; messages stay in the spool until it is back")
            self.database_down = True
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
        if self.database_down:
            log.info("database reachable again; draining the spool")
        self.database_down = False
        self.spool.done(entry)
        self.processed += 1
        if self.on_result is not None:
            self.on_result(result, entry)
        return True

    def drain(self, limit: int = 1_000_000) -> int:
        """Process until the spool is empty (or the database is down); returns how many."""
        done = 0
        while done < limit:
            outcome = self.step()
            if not outcome:
                break
            done += 1
        return done

    def run(self, stop: threading.Event) -> None:
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
