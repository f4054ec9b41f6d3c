"""Wire `notify` from settings: renderer, transport, outbox worker, sweeps and scheduler.

Used by `serve` (threads), `sweep --now` and `outbox list|retry|flush`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from notify.options import DeliveryOptions, ScheduleOptions, SmtpRelayOptions, SweepOptions
from notify.outbox import OutboxWorker
from notify.render import Renderer
from notify.scheduler import NotifyScheduler
from notify.transport import FileTransport, SmtpTransport, Transport
from postdesk.app import App, sla_options
from postdesk.config.settings import Settings
from postdesk.serve.metrics import Metrics
from postdesk.serve.workers import WorkerProcess, outbox_worker_main
from store import outbox as outbox_store
from store.records import iso
from store.tickets import get_ticket

log = logging.getLogger("postdesk.notify")
PURGE_INTERVAL_SECONDS = 3600
OUTBOX_STOP_SECONDS = 10.0
ThreadStarter = Callable[[str, Callable[[threading.Event], None]], None]


def renderer(settings: Settings) -> Renderer:
    return Renderer(desk_name=settings.desk.name, templates_dir=settings.templates_dir)


def transport(settings: Settings) -> Transport:
    out = settings.outbound
    if out.transport == "file":
        out.file_dir.mkdir(parents=True, exist_ok=True)
        return FileTransport(out.file_dir)
    return SmtpTransport(
        SmtpRelayOptions(
            host=out.host,
            port=out.port,
            starttls=out.starttls,
            username=out.username,
            password=out.password,
        )
    )


def delivery_options(settings: Settings) -> DeliveryOptions:
    out, ops = settings.outbound, settings.ops
    exempt = {*ops.digest_to, *([ops.team_address] if ops.team_address else [])}
    return DeliveryOptions(
        from_address=out.from_address,
        secret_key=settings.desk.secret_key,
        desk_name=settings.desk.name,
        max_attempts=out.max_attempts,
        backoff_seconds=out.backoff_seconds,
        per_ticket_hourly_limit=out.per_ticket_hourly_limit,
        per_address_daily_limit=out.per_address_daily_limit,
        exempt_recipients=frozenset(exempt),
    )


def outbox_worker(app: App, on_outcome: Callable[[str], None] | None = None) -> OutboxWorker:
    settings = app.settings
    return OutboxWorker(
        app.db,
        transport(settings),
        renderer(settings),
        delivery_options(settings),
        clock=app.pipeline.clock,
        on_outcome=on_outcome,
    )


def scheduler(app: App, on_mail_queued: Callable[[], None] | None = None) -> NotifyScheduler:
    settings = app.settings
    sweep_options = SweepOptions(
        message_id_domain=app.pipeline.options.message_id_domain,
        sla=sla_options(settings),
        waiting_reminder_days=settings.sla.waiting_reminder_days,
        waiting_close_days=settings.sla.waiting_close_days,
        resolved_close_days=settings.sla.resolved_close_days,
        digest_to=settings.ops.digest_to,
        team_address=settings.ops.team_address,
        desk_name=settings.desk.name,
    )
    schedule = ScheduleOptions(
        sweep_interval_seconds=settings.schedule.sweep_interval_seconds,
        digest_cron=settings.schedule.digest_cron,
        daily_digest_cron=settings.schedule.daily_digest_cron,
        timezone=settings.sla.timezone,
    )
    return NotifyScheduler(
        app.db,
        sweep_options,
        schedule,
        quarantined=app.quarantine.count,
        on_mail_queued=on_mail_queued,
        clock=app.pipeline.clock,
    )


def start_notify(
    app: App, metrics: Metrics, stop: threading.Event, start_thread: ThreadStarter
) -> list[Callable[[], None]]:
    """Start the outbox worker process, the scheduler and the quarantine purge.

    Returns what stops them. The outbox worker renders and sends in a process of its own, so
    that composing mail never slows the SMTP listener.
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
    app.after_commit = outbox.wakeup
    return [lambda: jobs.shutdown(wait=True), lambda: outbox.shutdown(OUTBOX_STOP_SECONDS)]


def _purge_loop(app: App, stop: threading.Event) -> None:
    """Purge expired quarantine entries at start and then hourly, until `stop`."""
    while not stop.is_set():
        try:
            app.purge_quarantine(app.pipeline.clock())
        except OSError as exc:
            log.warning("quarantine purge failed (%s); will try again", type(exc).__name__)
        stop.wait(PURGE_INTERVAL_SECONDS)


def run_sweep(app: App, now: datetime) -> dict[str, Any]:
    """`postdesk sweep --now`: every job due at `now`, once."""
    report = scheduler(app).run_due(now)
    purged = app.purge_quarantine(now)
    return {
        "now": iso(now),
        "sweep": asdict(report.sweep),
        "digests": report.digests,
        "quarantine_purged": purged,
    }


def outbox_command(app: App, action: str, *, now: datetime, as_json: bool) -> int:
    """`postdesk outbox list|retry|flush`."""
    if action == "flush":
        report = outbox_worker(app).drain(now)
        summary = {**asdict(report), "now": iso(now)}
        print(
            json.dumps(summary) if as_json else ", ".join(f"{k}: {v}" for k, v in summary.items())
        )
        return 0
    with app.db.transaction() as session:
        if action == "retry":
            count = outbox_store.retry_dead(session, now)
            print(
                json.dumps({"requeued": count}) if as_json else f"{count} dead row(s) queued again"
            )
            return 0
        rows = outbox_store.list_rows(session)
        number = {i: get_ticket(session, i).number for i in {r.ticket_id for r in rows} if i}
    listing = [
        {
            "id": r.id,
            "kind": r.kind,
            "ticket": number.get(r.ticket_id or 0),
            "to": r.recipient,
            "status": r.status,
            "attempts": r.attempts,
            "next_attempt_at": iso(r.next_attempt_at),
            "last_error": r.last_error,
        }
        for r in rows
    ]
    if as_json:
        print(json.dumps(listing, indent=2))
    else:
        for row in listing:
            print(
                f"{row['id']:>6} {row['status']:<8} {row['kind']:<20} {row['ticket'] or '-':<10} "
                f"{row['to']:<30} attempts={row['attempts']} {row['last_error'] or ''}"
            )
    return 0
