"""Build everything from settings: the database, the pipeline, the spool and quarantine.

The composition root: the only place (with `postdesk.cli.main`) that turns `Settings` into the
plain values the other packages take.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ingest.intake import Intake
from ingest.options import PipelineOptions, RateWindow
from ingest.pipeline import Pipeline
from ingest.spool.quarantine import Quarantine
from ingest.spool.queue import Spool
from notify.sla import SlaOptions, make_due_calculator, parse_business_hours
from notify.sla import SlaTarget as NotifySlaTarget
from postdesk.config.settings import RateLimit, Settings
from store import audit, directory, erasure
from store.blobs import BlobStore
from store.clock import utcnow
from store.db import Database
from store.directory import OrganisationSpec, StaffSpec
from store.erasure import Erased
from store.webhooks import WebhookTarget

log = logging.getLogger(__name__)


def sla_options(settings: Settings) -> SlaOptions:
    """SLA targets and calendar for notify, from the configuration."""
    sla = settings.sla
    calendar = (
        parse_business_hours(sla.business_hours, sla.timezone, sla.holidays)
        if sla.business_hours
        else None
    )
    targets = {p: NotifySlaTarget(t.first_response, t.resolution) for p, t in sla.targets.items()}
    return SlaOptions(targets=targets, reminder_at=sla.reminder_at, calendar=calendar)


def pipeline_options(settings: Settings) -> PipelineOptions:
    """The pipeline's plain values, from the configuration."""
    desk, ingest, sla = settings.desk, settings.ingest, settings.sla

    def rate(limit: RateLimit | None) -> RateWindow | None:
        return None if limit is None else RateWindow(limit.count, limit.window)

    return PipelineOptions(
        secret_key=desk.secret_key,
        support_addresses={a.address: a.category for a in desk.support_addresses},
        ticket_prefix=desk.ticket_prefix,
        desk_name=desk.name,
        categories=desk.categories,
        default_category=desk.default_category,
        unknown_senders=desk.unknown_senders,
        reopen_window=timedelta(days=desk.reopen_window_days),
        trust_staff_from=desk.trust_staff_from,
        trusted_authserv_ids=ingest.trusted_authserv_ids,
        accept_automated_from=ingest.accept_automated_from,
        custom_fields={f.name: f.values for f in settings.fields},
        sla_targets={p: (t.first_response, t.resolution) for p, t in sla.targets.items()},
        due_times=make_due_calculator(sla_options(settings)),
        max_attachment_bytes=ingest.max_attachment_bytes,
        max_message_attachment_bytes=ingest.max_message_bytes_attachments,
        blocked_extensions=frozenset(ingest.blocked_extensions),
        sender_rate=rate(ingest.sender_rate_limit),
        domain_rate=rate(ingest.domain_rate_limit),
        ops_addresses=settings.ops.digest_to,
        team_address=settings.ops.team_address,
        from_address=settings.outbound.from_address,
        previous_secret_keys=desk.previous_secret_keys,
        customer_max_priority=desk.customer_max_priority,
        language=desk.language,
        organisation_languages={o.name: o.language for o in settings.organisations if o.language},
        webhooks=webhook_targets(settings),
    )


def webhook_targets(settings: Settings) -> tuple[WebhookTarget, ...]:
    """The configured webhooks as event emitters see them: pass to `store.webhooks.emit`
    (or its per-event helpers) in the transaction of the change."""
    return tuple(WebhookTarget(h.name, frozenset(h.events)) for h in settings.webhooks)


@dataclass
class App:
    """The wired-up parts of one postdesk process."""

    settings: Settings
    db: Database
    pipeline: Pipeline
    blobs: BlobStore
    quarantine: Quarantine
    spool: Spool
    intake: Intake

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_spooled: Callable[[], None] | None = None,
        after_commit: Callable[[], None] | None = None,
    ) -> App:
        """`after_commit` is called after each commit that may have queued mail."""
        data = settings.ingest.data_dir
        blobs = BlobStore(data / "attachments")
        db = Database(
            settings.database.url, busy_timeout_seconds=settings.database.busy_timeout_seconds
        )
        pipeline = Pipeline(pipeline_options(settings), blobs, clock)
        quarantine = Quarantine(
            data / "quarantine",
            settings.desk.secret_key,
            previous_keys=settings.desk.previous_secret_keys,
        )
        return cls(
            settings=settings,
            db=db,
            pipeline=pipeline,
            blobs=blobs,
            quarantine=quarantine,
            spool=Spool(data / "spool", on_put=on_spooled),
            intake=Intake(
                db,
                pipeline,
                blobs,
                quarantine,
                after_commit=after_commit,
                budget=settings.ingest.max_processing_seconds,
            ),
        )

    def sync_directory(self) -> None:
        """Write organisations, contacts and staff from the configuration into the database."""
        orgs = [
            OrganisationSpec(
                o.name,
                o.domains,
                tuple((c.name, c.email) for c in o.contacts),
                o.partner_of,
                o.max_priority,
            )
            for o in self.settings.organisations
        ]
        staff = [
            StaffSpec(s.name, s.email, s.display_name, s.signature) for s in self.settings.staff
        ]
        with self.db.transaction() as session:
            directory.sync_directory(session, orgs, staff, utcnow())

    def purge_quarantine(self, now: datetime) -> int:
        """Delete quarantined mail older than the retention period; returns how many."""
        retention = timedelta(days=self.settings.ingest.quarantine_retention_days)
        purged = self.quarantine.purge(now - retention)
        if purged:
            log.info("quarantine: purged %d message(s) older than %s", purged, retention)
        return purged

    def forget_contact(self, address: str, now: datetime) -> Erased:
        """`postdesk contacts forget`: erase a contact's mail (store.erasure), then the
        attachment files no other ticket names, and their held or quarantined mail."""
        with self.db.transaction() as session:
            erased = erasure.forget_contact(
                session, address, secret_key=self.settings.desk.secret_key, now=now
            )
        self._remove_blobs(erased)
        wanted = address.strip().lower()
        for item in self.quarantine.list():  # by the envelope's sender or the held From
            if wanted in (item.mail_from.lower(), item.sender.lower()):
                self.quarantine.remove(item.id)
        return erased

    def erase_expired(self, now: datetime) -> Erased | None:
        """Erase closed tickets older than `[desk] retention_days` (None when it is off)."""
        days = self.settings.desk.retention_days
        if days is None:
            return None
        with self.db.transaction() as session:
            expired = erasure.expired_tickets(session, now - timedelta(days=days))
            erased = erasure.erase_tickets(
                session, expired, placeholder=erasure.ERASED_BY_RETENTION
            )
            if expired:
                audit.record(
                    session,
                    None,
                    at=now,
                    actor="retention",
                    action="tickets_erased",
                    details={"retention_days": days, **erased.summary()},
                )
        self._remove_blobs(erased)
        if expired:
            log.info("retention: erased %d closed ticket(s) older than %d days", len(expired), days)
        return erased

    def _remove_blobs(self, erased: Erased) -> None:
        with self.db.transaction() as session:
            unused = erasure.unreferenced_blobs(session, erased.blobs)
        for sha256 in unused:
            self.blobs.remove(sha256)

    def close(self) -> None:
        self.blobs.close()
        self.db.dispose()
