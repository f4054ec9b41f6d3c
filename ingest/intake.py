"""The unit of work: one message, or a batch of them, decided and recorded in one transaction.

A message's path from the spool ends here: `Intake.ingest` analyses the message (parse,
classify, redact: no database) and only then runs the pipeline in a transaction of its own,
so a slow mail never holds the database's write lock while it is read; `Intake.ingest_batch`
runs a batch in one transaction (falling back to a savepoint per message when any fails).
Before the commit, attachment files are made durable and the raw bytes of held and
quarantined mail are kept in the quarantine; after it, `after_commit` wakes whatever sends
the mail the decisions queued, and one log line per message records the outcome (never a
body or a secret). A message that cannot be used is quarantined, never lost; a transient
store error is raised for the caller to retry: the database's `StoreUnavailable`, or
`StorageFault` when a file cannot be written (disk full, read-only, I/O error), which rolls
the transaction back and is never blamed on the mail.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ingest.analyse import Analysis
from ingest.budget import analyse_within
from ingest.model import Hold, IngestResult, Outcome, RawMessage
from ingest.pipeline import KEPT_FOR_RETRY, Pipeline, quick_message_id
from ingest.spool.quarantine import Quarantine
from store import webhooks, writebehind
from store.blobs import BlobStore
from store.clock import utcnow
from store.db import Database, forget_cached
from store.errors import StoreError, is_storage_fault, storage_fault

__all__ = ["DryRun", "Intake", "log_result"]

log = logging.getLogger(__name__)


class DryRun(Exception):
    """Raised inside a transaction to roll it back after a dry run; carries the decision."""

    def __init__(self, result: IngestResult) -> None:
        super().__init__("dry run")
        self.result = result


class Intake:
    """Decides and records messages, one transaction each or a batch in one."""

    def __init__(
        self,
        db: Database,
        pipeline: Pipeline,
        blobs: BlobStore,
        quarantine: Quarantine,
        *,
        after_commit: Callable[[], None] | None = None,
        budget: float | None = None,
    ) -> None:
        self.db = db
        # seconds an analysis made here (not in the pre-stage's pool) may take (ingest.budget)
        self.budget = budget
        self.pipeline = pipeline
        self.blobs = blobs
        self.quarantine = quarantine
        self.after_commit = after_commit

    def ingest(
        self, raw: RawMessage, *, dry_run: bool = False, analysis: Analysis | None = None
    ) -> IngestResult:
        """Process one message in its own transaction; quarantine it when it cannot be used.

        The message is analysed first (unless `analysis` is given), outside the transaction:
        the write lock is held only for the database half.
        """
        pipeline = self.pipeline
        if dry_run:
            pipeline = Pipeline(pipeline.options, None, pipeline.clock)
        try:
            if analysis is None:
                analysis = analyse_within(raw, pipeline.analysis_options, self.budget)
            result = self._process(pipeline, raw, analysis, dry_run=dry_run)
        except DryRun as stop:
            return stop.result
        except StoreError:
            raise  # transient: the caller retries (or exits non-zero)
        except Exception as exc:  # a bug or broken input: never lose the message
            if is_storage_fault(exc):  # the disk's fault, not the mail's: retried later
                raise storage_fault(exc, "the message's files") from exc
            log.exception("processing failed (%s); message quarantined", type(exc).__name__)
            result = IngestResult(
                Outcome.QUARANTINED, None, None, f"processing failed: {type(exc).__name__}"
            )
            self._keep(raw, result)
            if not dry_run:
                self._announce_quarantined(raw, result.reason)
        self._finish(raw, result)
        return result

    def _analysed(self, raw: RawMessage) -> Analysis | None:
        """The analysis of `raw` within the budget; None when it raised (the pipeline
        analyses it again in its savepoint, where the failure quarantines it alone)."""
        try:
            return analyse_within(raw, self.pipeline.analysis_options, self.budget)
        except Exception:
            return None

    def ingest_batch(
        self, raws: list[RawMessage], analyses: Sequence[Analysis | None] = ()
    ) -> list[IngestResult]:
        """Process several messages in one transaction (fast backlogs).

        `analyses`, when given, are the pre-stage's results for `raws` (None where it had
        none). Should any message fail, the batch is rolled back and decided again with a
        savepoint per message: the failing one is quarantined alone, and one that lost a
        dedupe race with another daemon is run again on its own afterwards.
        """
        given = [*analyses[: len(raws)], *[None] * (len(raws) - len(analyses))]
        # analysed here first when the pre-stage had none: outside the transaction, within
        # the budget
        prepared = [
            self._analysed(raw) if analysis is None else analysis
            for raw, analysis in zip(raws, given, strict=True)
        ]
        try:
            with self.db.transaction() as session:
                writebehind.enable(session)  # audit and outbox rows: one INSERT each, at commit
                self.pipeline.prefetch(session, raws, prepared)
                results: list[IngestResult | None] = [
                    self.pipeline.process(session, raw, analysis)
                    for raw, analysis in zip(raws, prepared, strict=True)
                ]
                self._files_durable(raws, results)  # before the rows naming them commit
        except StoreError:
            raise
        except Exception as exc:  # found again, and reported, message by message (below)
            if is_storage_fault(exc):
                raise storage_fault(exc, "the batch's files") from exc
            log.warning(
                "a batch of %d messages failed (%s); deciding them one savepoint each",
                len(raws),
                type(exc).__name__,
            )
            results = self._ingest_each_in_savepoint(raws, prepared)
        done: list[IngestResult] = []
        for raw, analysis, maybe in zip(raws, prepared, results, strict=True):
            if maybe is None:
                done.append(self.ingest(raw, analysis=analysis))
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
                    if is_storage_fault(exc):
                        raise storage_fault(exc, "the message's files") from exc
                    savepoint.rollback()
                    forget_cached(session)
                    log.exception("processing failed (%s); quarantined", type(exc).__name__)
                    result = IngestResult(
                        Outcome.QUARANTINED, None, None, f"processing failed: {type(exc).__name__}"
                    )
                    self._quarantined_event(session, raw, result.reason)
                else:
                    savepoint.commit()
                results.append(result)
            self._files_durable(raws, results)
        return results

    def _files_durable(
        self, raws: Sequence[RawMessage], results: Sequence[IngestResult | None]
    ) -> None:
        """Inside the transaction, before its commit: wait for the attachment files, and keep
        the raw bytes of held and quarantined mail (a storage fault here rolls back, and the
        spool keeps the mail; after the commit it would be lost, as a retry is a duplicate)."""
        try:
            self.blobs.sync()
        except OSError as exc:
            if is_storage_fault(exc):
                raise storage_fault(exc, "attachment files") from exc
            raise
        for raw, result in zip(raws, results, strict=True):
            if result is not None:
                self._keep(raw, result)

    def _keep(self, raw: RawMessage, result: IngestResult) -> None:
        """Held mail waits in the (encrypted) quarantine, `quarantine retry` releases it; so
        does quarantined mail. Raises `StorageFault` when the quarantine cannot be written."""
        if result.outcome.value not in KEPT_FOR_RETRY:
            return
        try:
            self._quarantine_file(
                raw,
                result.reason,
                hold=result.hold,
                sender=result.sender,
                message_id=result.message_id,
            )
        except OSError as exc:
            if is_storage_fault(exc):
                raise storage_fault(exc, "the quarantine") from exc
            raise

    def _finish(self, raw: RawMessage, result: IngestResult) -> None:
        """After commit: wake the outbox worker, log one line."""
        if (
            result.outcome not in (Outcome.QUARANTINED, Outcome.HELD, Outcome.DUPLICATE)
            and self.after_commit is not None
        ):
            self.after_commit()  # wake the outbox worker for the mails this message queued
        log_result(result, raw.source)

    def _process(
        self, pipeline: Pipeline, raw: RawMessage, analysis: Analysis, *, dry_run: bool
    ) -> IngestResult:
        for attempt in (1, 2):
            try:
                with self.db.transaction() as session:
                    result = pipeline.process(session, raw, analysis)
                    if dry_run:
                        raise DryRun(result)
                    self._files_durable((raw,), (result,))
                    return result
            except IntegrityError:
                # Another daemon recorded the same message at the same moment: run it again
                # in a fresh transaction, where it is a duplicate.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def quarantine_raw(self, raw: RawMessage, reason: str, attempts: int = 0) -> str:
        """Quarantine a mail whose processing kept failing (the spool worker's last resort),
        and queue its `message.quarantined` webhook event."""
        item_id = self._quarantine_file(raw, reason, attempts)
        self._announce_quarantined(raw, reason)
        return item_id

    def _quarantined_event(self, session: Session, raw: RawMessage, reason: str) -> None:
        """Queue `message.quarantined` for a mail the pipeline could not decide."""
        webhooks.message_quarantined(
            session,
            self.pipeline.options.webhooks,
            now=self.pipeline.clock(),
            message_id=quick_message_id(raw.data, self.pipeline.options.secret_key),
            sender="",
            reason=reason,
            source=raw.source,
            received_at=raw.received_at,
        )

    def _announce_quarantined(self, raw: RawMessage, reason: str) -> None:
        """`message.quarantined` in a transaction of its own: the failed one rolled back.
        The mail is safe in the quarantine already, so a database that fails now loses only
        this event (logged), never the mail."""
        if not self.pipeline.options.webhooks:
            return
        try:
            with self.db.transaction() as session:
                self._quarantined_event(session, raw, reason)
        except StoreError as exc:
            log.warning("message.quarantined webhook event not queued: %s", exc)

    def _quarantine_file(
        self,
        raw: RawMessage,
        reason: str,
        attempts: int = 0,
        *,
        hold: Hold | None = None,
        sender: str = "",
        message_id: str | None = None,
    ) -> str:
        """Keep the raw mail (encrypted): quarantined, or held when `hold` is given."""
        item = self.quarantine.put(
            raw.data,
            reason=reason,
            source=raw.source,
            rcpts=raw.rcpts,
            mail_from=raw.mail_from,
            received_at=raw.received_at or utcnow(),
            attempts=attempts,
            hold=hold,
            sender=sender,
            message_id=message_id,
        )
        return item.id


def log_result(result: IngestResult, source: str) -> None:
    """The one log line per message: outcome, ticket, Message-ID, redaction counts and the
    reason of the decision (`postdesk messages show` tells the same). No body, no secret."""
    log.info(
        "message outcome=%s ticket=%s message_id=%s source=%s redactions=%s reason=%s",
        result.outcome.value,
        result.ticket or "-",
        result.message_id or "-",
        source,
        ",".join(f"{k}:{v}" for k, v in sorted(result.redactions.items())) or "-",
        json.dumps(result.reason, ensure_ascii=False),
    )
