"""Workers in processes of their own, so that deciding and sending mail never slow accepting it.

`serve` accepts mail (SMTP, IMAP) in its main process and writes it to the spool. Two child
processes do the heavy work: the spool worker (claims spool entries, runs the pipeline) and
the outbox worker (renders and sends mail). They share nothing with the parent but the spool
folder (claims are renames, safe across processes) and the database. Each child reports back
over a queue (decisions and deliveries for /metrics, commits so the outbox wakes at once),
dies with its parent (Linux: PR_SET_PDEATHSIG) and is started again if it stops by itself;
a spool worker started again first returns what its predecessor had claimed to the queue.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

from ingest.analyse import AnalysisOptions
from ingest.model import IngestResult
from ingest.prestage import PreStage, die_with_parent
from ingest.spool.queue import SpoolEntry
from ingest.worker import SpoolWorker, WorkerSettings
from postdesk.app import App
from postdesk.config.settings import Settings
from postdesk.serve.logs import configure_logging
from store.clock import utcnow

log = logging.getLogger(__name__)
RESTART_DELAY_SECONDS = 2.0
# Both workers (and the spool worker's analysing process, which inherits it) yield the CPU to
# the listeners: on Linux they run at SCHED_IDLE, on the CPU time that the listeners and every
# other normal process leave, and a listener woken by its client's data takes the CPU from
# them at once. Mail waiting in the spool is safe and a notice may wait a few seconds under a
# burst; an SMTP client should not. The listeners use one core at most, so on a machine of
# two or more the workers keep the rest (bench/smtp.py measures the burst: docs/performance.md).
# Elsewhere: the lowest niceness.
WORKER_POLICY = getattr(os, "SCHED_IDLE", None)
WORKER_NICENESS = 19
PRESTAGE_WORKERS = 1  # the spool worker's analysing process (the listeners need a core too)
Report = tuple[Any, ...]
ChildMain = Callable[[Settings, int, Connection, ProcessEvent, Any], None]


def child_setup(
    settings: Settings, parent: int, after_commit: Callable[[], None] | None = None
) -> App:
    """Die with the parent, leave Ctrl-C to the parent, log like the parent, build the app."""
    die_with_parent()
    if os.getppid() != parent:
        os._exit(0)  # the parent died while this process was starting: nothing to serve
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(settings.logging)
    return App.build(settings, after_commit=after_commit)


def yield_cpu() -> None:
    """Run this process (and what it starts) on the CPU the listeners leave (WORKER_POLICY)."""
    if WORKER_POLICY is not None:
        os.sched_setscheduler(0, WORKER_POLICY, os.sched_param(0))
    else:  # pragma: no cover - not Linux
        os.nice(WORKER_NICENESS)


def bridge(wake: Connection, stop: ProcessEvent, target: Callable[[], None]) -> None:
    """Forward the parent's wake-ups (bytes on the pipe) to the worker's own event, until
    `stop`."""

    def forward() -> None:
        while not stop.is_set():
            if wake.poll(1.0):
                try:
                    os.read(wake.fileno(), 65536)  # every wake-up sent so far: one is enough
                except BlockingIOError:
                    continue
                target()
        target()

    os.set_blocking(wake.fileno(), False)
    threading.Thread(target=forward, name="wake-bridge", daemon=True).start()


def spool_worker_main(
    settings: Settings, parent: int, wake: Connection, stop: ProcessEvent, reports: Any
) -> None:
    """The spool worker child: drain the spool into the pipeline until `stop`."""
    app = child_setup(settings, parent, after_commit=lambda: reports.put(("committed",)))
    # Started again after the previous one died: what it had claimed waits in `cur` (serve
    # recovered the spool before the first start, so there is nothing there then).
    app.spool.return_claimed()
    yield_cpu()  # before the analysing process starts: it inherits it

    results: list[tuple[str, dict[str, int], float, str]] = []

    def report(result: IngestResult, entry: SpoolEntry) -> None:
        latency = (utcnow() - entry.received_at).total_seconds()
        results.append((result.outcome.value, dict(result.redactions), latency, entry.source))

    def send_results() -> None:
        """One report for all the decisions of a step (not one queue message each)."""
        if results:
            reports.put(("results", tuple(results)))
            results.clear()

    # Parsing and redaction of the next batch run in another process meanwhile. That process
    # is this one's child: allowed although this one is a daemon of serve's, as it dies with
    # this one (PR_SET_PDEATHSIG via its forkserver) and is shut down below.
    multiprocessing.current_process().daemon = False
    prestage = PreStage(
        AnalysisOptions.of(app.pipeline.options),
        PRESTAGE_WORKERS,
        budget=settings.ingest.max_processing_seconds,
    )
    worker = SpoolWorker(
        app.spool,
        app.intake.ingest,
        app.intake.quarantine_raw,
        settings=WorkerSettings(max_attempts=settings.ingest.max_attempts),
        on_result=report,
        process_batch=app.intake.ingest_batch,
        prestage=prestage,
        after_step=send_results,
    )
    bridge(wake, stop, worker.wakeup.set)
    try:
        worker.run(stop)
    finally:
        prestage.close()
        app.close()


class WorkerProcess:
    """Starts, watches and stops one worker child; hands its reports to `on_report`."""

    def __init__(
        self, name: str, main: ChildMain, settings: Settings, on_report: Callable[[Report], None]
    ) -> None:
        self._context = multiprocessing.get_context("spawn")
        self.name = name
        self.main = main
        self.settings = settings
        self.on_report = on_report
        # Wake-ups are bytes on a pipe: writing one never blocks (a full pipe already holds
        # one), whatever the child is doing, so any thread, the event loop included, may wake.
        self.wake, self._wake_writer = self._context.Pipe(duplex=False)
        os.set_blocking(self._wake_writer.fileno(), False)
        self.stop_event = self._context.Event()
        self.reports: Any = self._context.Queue()
        self.process: Any = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # one of: starting again after a death, a restart
        self._reader = threading.Thread(target=self._read, name=f"{name}-reports", daemon=True)

    def _spawn(self) -> None:
        self.process = self._context.Process(
            target=self.main,
            args=(self.settings, os.getpid(), self.wake, self.stop_event, self.reports),
            name=f"postdesk-{self.name}",
            daemon=True,
        )
        self.process.start()
        log.info("%s process %s started", self.name, self.process.pid)

    def start(self) -> None:
        self._spawn()
        self._reader.start()

    def wakeup(self) -> None:
        """Tell the worker there is new work (mail in the spool, rows in the outbox); never
        blocks."""
        with contextlib.suppress(BlockingIOError):  # full: wake-ups the worker has not read
            os.write(self._wake_writer.fileno(), b"\0")

    def _read(self) -> None:
        """Pass reports on; start the child again if it died on its own."""
        while not self._stopping.is_set():
            try:
                item = self.reports.get(timeout=0.5)
            except queue.Empty:
                with self._lock:
                    died = not self.process.is_alive() and not self._stopping.is_set()
                    exitcode = self.process.exitcode
                if died:
                    log.error("%s process exited (%s); starting it again", self.name, exitcode)
                    self._stopping.wait(RESTART_DELAY_SECONDS)
                    with self._lock:
                        if not self._stopping.is_set() and not self.process.is_alive():
                            self._spawn()
                continue
            self.on_report(item)

    def restart(self, settings: Settings, timeout: float) -> None:
        """Let the worker finish what it is doing, then start a new one on `settings` (a
        reload: the new one reads the directory and templates afresh, and reopens the log).
        Work that arrives meanwhile waits in the spool or the outbox."""
        with self._lock:
            if self._stopping.is_set():
                return
            self.settings = settings
            self._stop_child(timeout)
            self.stop_event = self._context.Event()
            self._spawn()

    def _stop_child(self, timeout: float) -> None:
        self.stop_event.set()
        self.wakeup()
        self.process.join(timeout)
        if self.process.is_alive():
            log.warning("%s did not stop in %.0f s; terminating it", self.name, timeout)
            self.process.terminate()
            self.process.join(5)

    def shutdown(self, timeout: float) -> None:
        """Let the worker finish what it is doing, then stop it."""
        self._stopping.set()  # first: a stopping worker must not be started again
        with self._lock:
            self._stop_child(timeout)
        self._reader.join(2)
