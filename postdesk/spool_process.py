"""The spool worker in a process of its own, so that deciding mail never slows accepting it.

`serve` accepts mail (SMTP, IMAP) in its main process and writes it to the spool; this child
process claims spool entries and runs the pipeline. The two share nothing but the spool
folder (claims are renames, safe across processes) and the database. The child reports each
decision back for /metrics, and each commit so that the outbox worker wakes at once. It dies
with its parent (Linux: PR_SET_PDEATHSIG) and is started again if it ever stops by itself.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import queue
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

from ingest.model import IngestResult, Outcome
from ingest.spool import SpoolEntry
from ingest.worker import SpoolWorker, WorkerSettings
from postdesk.app import App
from postdesk.logs import configure_logging
from postdesk.settings import Settings

log = logging.getLogger("postdesk.spool")
PR_SET_PDEATHSIG = 1
RESTART_DELAY_SECONDS = 2.0


def _die_with_parent() -> None:
    """Ask the kernel to kill this process when the parent dies (a SIGKILLed serve)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            log.warning("spool worker: cannot tie its life to the parent's")


def _child_main(settings: Settings, wake: ProcessEvent, stop: ProcessEvent, reports: Any) -> None:
    """Entry point of the child: drain the spool until `stop`."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    configure_logging(settings.logging)
    app = App.build(settings)
    app.after_commit = lambda: reports.put(("committed",))

    def report(result: IngestResult, entry: SpoolEntry) -> None:
        latency = (datetime.now(UTC) - entry.received_at).total_seconds()
        reports.put(("result", result.outcome.value, dict(result.redactions), latency))

    worker = SpoolWorker(
        app.spool,
        app.ingest,
        app.quarantine_raw,
        settings=WorkerSettings(max_attempts=settings.ingest.max_attempts),
        on_result=report,
        process_batch=app.ingest_batch,
    )

    def bridge() -> None:  # the parent's wake-up event -> the worker's own
        while not stop.is_set():
            if wake.wait(1.0):
                wake.clear()
                worker.wakeup.set()
        worker.wakeup.set()

    threading.Thread(target=bridge, name="spool-wake", daemon=True).start()
    try:
        worker.run(stop)
    finally:
        app.close()


class SpoolProcess:
    """Starts, watches and stops the spool worker process."""

    def __init__(
        self,
        settings: Settings,
        on_result: Callable[[IngestResult, float], None],
        on_committed: Callable[[], None],
    ) -> None:
        self._context = multiprocessing.get_context("spawn")
        self.settings = settings
        self.on_result = on_result
        self.on_committed = on_committed
        self.wake = self._context.Event()
        self.stop_event = self._context.Event()
        self.reports: Any = self._context.Queue()
        self.process: Any = None
        self._stopping = threading.Event()
        self._reader = threading.Thread(target=self._read, name="spool-reports", daemon=True)

    def _spawn(self) -> None:
        self.process = self._context.Process(
            target=_child_main,
            args=(self.settings, self.wake, self.stop_event, self.reports),
            name="postdesk-spool-worker",
            daemon=True,
        )
        self.process.start()
        log.info("spool worker process %s started", self.process.pid)

    def start(self) -> None:
        self._spawn()
        self._reader.start()

    def wakeup(self) -> None:
        """Tell the worker that new mail is in the spool."""
        self.wake.set()

    def _read(self) -> None:
        """Turn the child's reports into metrics and outbox wake-ups; restart it if it died."""
        while not self._stopping.is_set():
            try:
                item = self.reports.get(timeout=0.5)
            except queue.Empty:
                if not self.process.is_alive() and not self._stopping.is_set():
                    log.error(
                        "spool worker process exited (%s); starting it again", self.process.exitcode
                    )
                    self._stopping.wait(RESTART_DELAY_SECONDS)
                    if not self._stopping.is_set():
                        self._spawn()
                continue
            if item[0] == "committed":
                self.on_committed()
            else:
                _, outcome, redactions, latency = item
                self.on_result(IngestResult(Outcome(outcome), None, None, "", redactions), latency)

    def shutdown(self, timeout: float) -> None:
        """Let the worker finish its current batch, then stop it."""
        self._stopping.set()  # first: a stopping worker must not be started again
        self.stop_event.set()
        self.wake.set()
        self.process.join(timeout)
        if self.process.is_alive():
            log.warning("spool worker did not stop in %.0f s; terminating it", timeout)
            self.process.terminate()
            self.process.join(5)
        self._reader.join(2)
