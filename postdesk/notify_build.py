"""Build `notify`'s parts from settings: renderer, transport, outbox worker and scheduler.

Used by `serve` (`postdesk.serve.notify_start`), `sweep --now` and `outbox list|retry|flush`;
`sweep --now` also releases the held mail whose window has passed (`postdesk.held`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from notify.attachments import AttachmentOptions, Attachments
from notify.options import DeliveryOptions, ScheduleOptions, SmtpRelayOptions, SweepOptions
from notify.outbox import OutboxWorker
from notify.render import Renderer
from notify.scheduler import NotifyScheduler
from notify.transport import FileTransport, SmtpTransport, Transport
from notify.webhooks import WebhookEndpoint, WebhookSender
from postdesk.app import App, sla_options, webhook_targets
from postdesk.config.settings import Settings
from postdesk.held import mail_waiting, release_due
from store import outbox as store_outbox
from store.clock import utcnow
from store.records import iso


def renderer(settings: Settings) -> Renderer:
    return Renderer(
        desk_name=settings.desk.name,
        templates_dir=settings.templates_dir,
        language=settings.desk.language,
        staff_language=settings.desk.staff_language,
    )


def transport(settings: Settings) -> Transport:
    out = settings.outbound
    if out.transport == "file":
        out.file_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return FileTransport(out.file_dir)
    return SmtpTransport(
        SmtpRelayOptions(
            host=out.host,
            port=out.port,
            starttls=out.starttls,
            implicit_tls=out.implicit_tls,
            username=out.username,
            password=out.password,
        )
    )


def delivery_options(settings: Settings) -> DeliveryOptions:
    out, ops = settings.outbound, settings.ops
    exempt = {*ops.digest_to, *([ops.team_address] if ops.team_address else [])}
    exempt |= {member.email for member in settings.staff}  # notices and team copies
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


def attachments(app: App) -> Attachments:
    """What staff notices and relayed replies attach, and the download links of the rest."""
    settings = app.settings
    options = AttachmentOptions(
        secret_key=settings.desk.secret_key,
        base_url=settings.http.base_url,
        attach_max_bytes=settings.notify.attach_max_bytes,
        link_lifetime=timedelta(days=settings.notify.link_expiry_days),
    )
    return Attachments(app.blobs.read, options)


def outbox_worker(app: App, on_outcome: Callable[[str], None] | None = None) -> OutboxWorker:
    settings = app.settings
    return OutboxWorker(
        app.db,
        transport(settings),
        renderer(settings),
        delivery_options(settings),
        clock=app.pipeline.clock,
        on_outcome=on_outcome,
        attachments=attachments(app),
        webhooks=webhook_sender(settings),
    )


def webhook_sender(settings: Settings) -> WebhookSender:
    """Delivers the outbox's webhook rows to the configured [[webhooks]] (signed with the
    real clock's time, whatever clock the worker runs on: receivers check it)."""
    return WebhookSender(
        WebhookEndpoint(h.name, h.url, h.format, h.secret) for h in settings.webhooks
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
        customer_escalation_mail=settings.notify.customer_escalation_mail,
        customer_reminder_mail=settings.notify.customer_reminder_mail,
        webhooks=webhook_targets(settings),
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
        quarantined=lambda: len(mail_waiting(app).quarantined),  # held mail is listed apart
        waiting=lambda: mail_waiting(app),
        on_mail_queued=on_mail_queued,
        clock=app.pipeline.clock,
    )


def run_sweep(app: App, now: datetime) -> dict[str, Any]:
    """`postdesk sweep --now`: every job due at `now`, once. Mail it queues is due at once,
    even when `now` is later than the clock: a plain `outbox flush` then sends it."""
    released = release_due(app, now)
    report = scheduler(app).run_due(now)
    purged = app.purge_quarantine(now)
    retention = app.erase_expired(now)
    real_now = utcnow()
    if now > real_now:
        with app.db.transaction() as session:
            store_outbox.make_due(session, queued_until=now, now=real_now)
    return {
        "now": iso(now),
        "sweep": asdict(report.sweep),
        "digests": report.digests,
        "quarantine_purged": purged,
        "held_released": len(released),
        "retention_erased": None if retention is None else retention.tickets,
    }
