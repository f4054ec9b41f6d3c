"""Build everything from settings: the database, the pipeline, the spool and quarantine.

The composition root: the only place (with `postdesk.cli.main`) that turns `Settings` into the
plain values the other packages take.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from ingest.analyse import Analysis
from ingest.model import IngestResult, Outcome, RawMessage
from ingest.options import PipelineOptions, RateWindow
from ingest.pipeline import Pipeline
from ingest.spool.quarantine import Quarantine
from ingest.spool.queue import Spool
from notify.options import SlaOptions
from notify.options import SlaTarget as NotifySlaTarget
from notify.sla import make_due_calculator, parse_business_hours
from postdesk.config.settings import RateLimit, Settings
from store import directory, writebehind
from store.blobs import BlobStore
from store.db import Database, forget_cached
from store.directory import OrganisationSpec, StaffSpec
from store.errors import StoreError

log = logging.getLogger("postdesk.ingest")


class DryRun(Exception):
    """Raised inside a transaction to roll it back after a dry run; carries the decision."""

    def __init__(self, result: IngestResult) -> None:
        super().__init__("dry run")
        self.result = result


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    )


@dataclass
class App:
    """The wired-up parts of one postdesk process."""

    settings: Settings
    db: Database
    pipeline: Pipeline
    blobs: BlobStore
    quarantine: Quarantine
    spool: Spool
    after_commit: Callable[[], None] | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_spooled: Callable[[], None] | None = None,
    ) -> App:
        data = settings.ingest.data_dir
        blobs = BlobStore(data / "attachments")
        return cls(
            settings=settings,
            db=Database(settings.database.url),
            pipeline=Pipeline(pipeline_options(settings), blobs, clock),
            blobs=blobs,
            quarantine=Quarantine(data / "quarantine", settings.desk.secret_key),
            spool=Spool(data / "spool", on_put=on_spooled),
        )

    def sync_directory(self) -> None:
        """Write organisations, contacts and staff from the configuration into the database."""
        orgs = [
            OrganisationSpec(
                o.name, o.domains, tuple((c.name, c.email) for c in o.contacts), o.partner_of
            )
            for o in self.settings.organisations
        ]
        staff = [StaffSpec(s.name, s.email) for s in self.settings.staff]
        with self.db.transaction() as session:
            directory.sync_directory(session, orgs, staff, utcnow())

    def ingest(self, raw: RawMessage, *, dry_run: bool = False) -> IngestResult:
        """Process one message in its own transaction; quarantine it when it cannot be used."""
        pipeline = self.pipeline
        if dry_run:
            pipeline = Pipeline(pipeline.options, None, pipeline.clock)
        try:
            result = self._process(pipeline, raw, dry_run=dry_run)
        except DryRun as stop:
            return stop.result
        except StoreError:
            raise  # transient: the caller retries (or exits non-zero)
        except Exception as exc:  # a bug or broken input: never lose the message
            log.exception("processing failed (%s); message quarantined", type(exc).__name__)
            result = IngestResult(
                Outcome.QUARANTINED, None, None, f"processing failed: {type(exc).__name__}"
            )
        self._finish(raw, result)
        return result

    def ingest_batch(
        self, raws: list[RawMessage], analyses: Sequence[Analysis | None] = ()
    ) -> list[IngestResult]:
        """Process several messages in one transaction (fast backlogs).

        `analyses`, when given, are the pre-stage's results for `raws` (None where it had
        none). Should any message fail, the batch is rolled back and decided again with a
        savepoint per message: the failing one is quarantined alone, and one that lost a
        dedupe race with another daemon is run again on its own afterwards.
        """
        prepared = [*analyses[: len(raws)], *[None] * (len(raws) - len(analyses))]
        try:
            with self.db.transaction() as session:
                writebehind.enable(session)  # audit and outbox rows: one INSERT each, at commit
                self.pipeline.prefetch(session, raws, prepared)
                results: list[IngestResult | None] = [
                    self.pipeline.process(session, raw, analysis)
                    for raw, analysis in zip(raws, prepared, strict=True)
                ]
                self.blobs.sync()  # attachment files on disk before the rows naming them
        except StoreError:
            raise
        except Exception as exc:  # found again, and reported, message by message (below)
            log.warning(
                "a batch of %d messages failed (%s); deciding them one savepoint each",
                len(raws),
                type(exc).__name__,
            )
            results = self._ingest_each_in_savepoint(raws, prepared)
        done: list[IngestResult] = []
        for raw, maybe in zip(raws, results, strict=True):
            if maybe is None:
                done.append(self.ingest(raw))
            else:
                self._finish(raw, maybe)
                done.append(maybe)
        return done

    def _ingest_each_in_savepoint(
        self, raws: list[RawMessage], analyses: list[Analysis | None]
    ) -> list[IngestResult | None]:
        """One transaction, a savepoint per message; None for a message to run on its own."""
        results: list[IngestResult | None] = []
        with self.db.transaction() as session:
            self.pipeline.prefetch(session, raws)
            for raw, analysis in zip(raws, analyses, strict=True):
                savepoint = session.begin_nested()
                try:
                    result: IngestResult | None = self.pipeline.process(session, raw, analysis)
                except IntegrityError:
                    savepoint.rollback()
                    forget_cached(session)
                    result = None  # decided again afterwards, in a fresh transaction
                except StoreError:
                    raise
                except Exception as exc:  # one broken message must not stop the others
                    savepoint.rollback()
                    forget_cached(session)
                    log.exception("processing failed (%s); quarantined", type(exc).__name__)
                    result = IngestResult(
                        Outcome.QUARANTINED, None, None, f"processing failed: {type(exc).__name__}"
                    )
                else:
                    savepoint.commit()
                results.append(result)
            self.blobs.sync()
        return results

    def _finish(self, raw: RawMessage, result: IngestResult) -> None:
        """After commit: keep held/quarantined raw mail, wake the outbox worker, log one line."""
        if result.outcome in (Outcome.QUARANTINED, Outcome.HELD):
            # Held mail waits in the (encrypted) quarantine: `quarantine retry` releases it.
            self.quarantine_raw(raw, result.reason)
        elif result.outcome is not Outcome.DUPLICATE and self.after_commit is not None:
            self.after_commit()  # wake the outbox worker for the mails this message queued
        log_result(result, raw.source)

    def _process(self, pipeline: Pipeline, raw: RawMessage, *, dry_run: bool) -> IngestResult:
        for attempt in (1, 2):
            try:
                with self.db.transaction() as session:
                    result = pipeline.process(session, raw)
                    if dry_run:
                        raise DryRun(result)
                    self.blobs.sync()
                    return result
            except IntegrityError:
                # Another daemon recorded the same message at the same moment: run it again
                # in a fresh transaction, where it is a duplicate.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def quarantine_raw(self, raw: RawMessage, reason: str, attempts: int = 0) -> str:
        item = self.quarantine.put(
            raw.data,
            reason=reason,
            source=raw.source,
            rcpts=raw.rcpts,
            mail_from=raw.mail_from,
            received_at=raw.received_at or utcnow(),
            attempts=attempts,
        )
        return item.id

    def purge_quarantine(self, now: datetime) -> int:
        """Delete quarantined mail older than the retention period; returns how many."""
        retention = timedelta(days=self.settings.ingest.quarantine_retention_days)
        purged = self.quarantine.purge(now - retention)
        if purged:
            log.info("quarantine: purged %d message(s) older than %s", purged, retention)
        return purged

    def close(self) -> None:
        self.blobs.close()
        self.db.dispose()


def log_result(result: IngestResult, source: str) -> None:
    """The one log line per message: outcome, ticket, Message-ID, redaction counts. No body."""
    log.info(
        "message outcome=%s ticket=%s message_id=%s source=%s redactions=%s",
        result.outcome.value,
        result.ticket or "-",
        result.message_id or "-",
        source,
        ",".join(f"{k}:{v}" for k, v in sorted(result.redactions.items())) or "-",
    )
