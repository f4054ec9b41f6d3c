"""Notify inside `serve`: the outbox worker process, the scheduler, the quarantine purge and
the release of held mail whose flood window has passed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

from ingest.errors import QuarantineError
from postdesk.app import App
from postdesk.config.settings import Settings
from postdesk.held import release_due
from postdesk.notify_build import outbox_worker, scheduler
from postdesk.serve.metrics import Metrics
from postdesk.serve.workers import WorkerProcess, bridge, child_setup, yield_cpu
from store.errors import StoreError

__all__ = ["NotifyProcesses", "outbox_worker_main", "start_notify"]

log = logging.getLogger(__name__)
PURGE_INTERVAL_SECONDS = 3600
RELEASE_INTERVAL_SECONDS = 60  # how often held mail whose window passed is looked for
OUTBOX_STOP_SECONDS = 10.0
ThreadStarter = Callable[[str, Callable[[threading.Event], None]], None]


@dataclass(frozen=True, slots=True)
class NotifyProcesses:
    """What `serve` keeps of notify: the outbox worker's wake-up, and what stops it all."""

    wake_outbox: Callable[[], None]
    closers: list[Callable[[], None]]
    # A reload: the outbox worker started again on new settings (templates read afresh).
    restart_outbox: Callable[[Settings], None] = lambda _settings: None


def outbox_worker_main(
    settings: Settings, parent: int, wake: Connection, stop: ProcessEvent, reports: Any
) -> None:
    """The outbox worker child: render and send due mail until `stop`."""
    app = child_setup(settings, parent)
    yield_cpu()  # under a burst, taking mail in goes before sending notices
    worker = outbox_worker(app, on_outcome=lambda outcome: reports.put(("delivery", outcome)))
    bridge(wake, stop, worker.wake)
    try:
        worker.run(stop)  # type: ignore[arg-type]  # a process event has the same two methods
    finally:
        app.close()


def start_notify(
    app: App, metrics: Metrics, stop: threading.Event, start_thread: ThreadStarter
) -> NotifyProcesses:
    """Start the outbox worker process, the scheduler and the quarantine purge.

    Returns what wakes the outbox worker and what stops them all. The outbox worker renders
    and sends in a process of its own, so that composing mail never slows the SMTP listener.
    """
    outbox = WorkerProcess(
        "outbox-worker",
        outbox_worker_main,
        app.settings,
        lambda report: metrics.outbox_sent.labels(report[1]).inc(),
    )
    outbox.start()
    jobs = scheduler(app, on_mail_queued=outbox.wakeup)
    jobs.start()
    start_thread("quarantine-purge", lambda stop: _purge_loop(app, stop))
    start_thread("held-release", lambda stop: _release_loop(app, stop, outbox.wakeup))
    return NotifyProcesses(
        wake_outbox=outbox.wakeup,
        restart_outbox=lambda settings: outbox.restart(settings, OUTBOX_STOP_SECONDS),
        closers=[lambda: jobs.shutdown(wait=True), lambda: outbox.shutdown(OUTBOX_STOP_SECONDS)],
    )


def _purge_loop(app: App, stop: threading.Event) -> None:
    """Purge expired quarantine entries, and erase closed tickets past `[desk]
    retention_days`, at start and then hourly, until `stop`."""
    while not stop.is_set():
        try:
            app.purge_quarantine(app.pipeline.clock())
        except OSError as exc:
            log.warning("quarantine purge failed (%s); will try again", type(exc).__name__)
        try:
            app.erase_expired(app.pipeline.clock())
        except (OSError, StoreError) as exc:
            log.warning("retention erasure failed (%s); will try again", type(exc).__name__)
        stop.wait(PURGE_INTERVAL_SECONDS)


def _release_loop(app: App, stop: threading.Event, wake_outbox: Callable[[], None]) -> None:
    """Release held mail whose flood window has passed, every minute, until `stop`."""
    while not stop.wait(RELEASE_INTERVAL_SECONDS):
        try:
            if release_due(app, app.pipeline.clock()):
                wake_outbox()
        except (OSError, StoreError, QuarantineError) as exc:
            log.warning("held mail release failed (%s); will try again", type(exc).__name__)
