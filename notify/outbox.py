"""The outbox worker: claim due rows, render, send, and settle each as sent, retry, dead or skipped.

Rows are claimed in batches: one transaction leases a batch (attempt counted,
`next_attempt_at` pushed by the lease), each mail is rendered and sent outside any
transaction, and each delivery is settled in a transaction of its own as soon as the relay
has answered (a row is marked sent only after the relay's 250). On PostgreSQL that commit
does not wait for the WAL flush (`store.outbox.settle`): only a crash of the database server
could lose it, and then that mail is sent again.

Delivery is at least once, and the window is one mail: a worker killed between the relay's
250 and the commit of that mail's settlement leaves that one row to its lease, and it is sent
again once the lease expires (a resend is recognisable: its Message-ID is the row's). The
rest of a killed worker's batch was either settled already or never handed to the relay.
When the database fails while a delivery is being settled, the outcome is kept and recorded
first thing when the database answers again (before anything is claimed), and the worker
sends nothing more until it is: a mail that was sent is recorded sent, never skipped or sent
again by this worker. Rows of a batch not handed to the relay within half a lease are left
to their lease, so a slow relay never makes two workers send one row.

The transport's connection is reused across batches: `drain` closes it when it is done,
`run` once no mail has gone out for `connection_idle_seconds`.
Transient failures back off (`backoff_seconds`, the last value repeating) up to
`max_attempts`; a 5xx or an unrenderable template is dead at once.
Automatic mail over the per-ticket/per-address limits, or to a bouncing contact, is skipped.
One log line per delivery: row id, kind, ticket, outcome; never a body.
Rows of kind `webhook` are not mail: the same claim, lease, backoff and settlement, but
they are POSTed by `notify.webhooks.WebhookSender` (never rate limited or skipped).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from notify.attachments import Attachments, unresolved
from notify.errors import TemplateProblem
from notify.message import MailHeaders, OutgoingMail, compose
from notify.options import DeliveryOptions
from notify.render import Renderer
from notify.transport import Delivery, Transport
from notify.webhooks import WebhookSender
from store import outbox as store_outbox
from store.clock import utcnow
from store.db import Database
from store.directory import find_contact
from store.errors import StoreUnavailable
from store.inbound import thread_message_ids
from store.outbox import ClaimedMail
from store.webhooks import WEBHOOK_KIND

log = logging.getLogger(__name__)
MAX_BATCHES_PER_DRAIN = 100_000
UNLIMITED_KINDS = frozenset({"digest", "daily_digest"})  # one per period by construction


@dataclass(frozen=True, slots=True)
class DrainReport:
    """What one `drain` did."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0
    lost: int = 0  # claim expired and was taken by another worker before we settled

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.dead + self.skipped + self.lost


@dataclass(frozen=True, slots=True)
class _Prepared:
    mail: ClaimedMail
    headers: MailHeaders | None  # None for a webhook delivery (`notify.webhooks`)


@dataclass(frozen=True, slots=True)
class _Decided:
    """A delivery's outcome, decided and waiting to be recorded."""

    mail: ClaimedMail
    delivery: Delivery
    outcome: str
    settlement: store_outbox.Settlement


class OutboxWorker:
    """Delivers outbox rows through one transport; safe to run in several processes."""

    def __init__(
        self,
        db: Database,
        transport: Transport,
        renderer: Renderer,
        options: DeliveryOptions,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_outcome: Callable[[str], None] | None = None,
        attachments: Attachments | None = None,
        webhooks: WebhookSender | None = None,
    ) -> None:
        """`attachments` reads the files a mail carries (without it they are listed only);
        `webhooks` delivers the rows of kind "webhook" (HTTP POST, signed)."""
        self.attachments = attachments
        self.webhooks = webhooks
        self.on_outcome = on_outcome  # e.g. a metrics counter: called with each delivery outcome
        self.db = db
        self.transport = transport
        self.renderer = renderer
        self.options = options
        self._exempt = frozenset(a.lower() for a in options.exempt_recipients)
        self.clock = clock
        self._wakeup = threading.Event()
        # Outcomes of mails handed to the relay whose settlement has not been committed (the
        # database failed): recorded before anything else is claimed.
        self._unsettled: list[_Decided] = []

    def backoff(self, attempt: int) -> timedelta:
        """The wait after failed attempt number `attempt` (1-based; the last value repeats)."""
        steps = self.options.backoff_seconds or (60,)
        return timedelta(seconds=steps[min(attempt, len(steps)) - 1])

    def drain(self, now: datetime | None = None) -> DrainReport:
        """Deliver every row due at `now` (default: the clock), then close the connection."""
        try:
            return self._drain(now or self.clock())
        finally:
            self.transport.close()
            if self.webhooks is not None:
                self.webhooks.close()

    def _drain(self, now: datetime) -> DrainReport:
        """Claim and deliver batches until a claim comes back short of a full batch.

        A short claim took every row due at `now`, so no further (empty) claim is made: each
        claim is a write transaction, which on SQLite waits for the intake's lock. Rows
        committed meanwhile come with a `wake()` (or the next poll) and another drain.
        """
        counts = {"sent": 0, "retried": 0, "dead": 0, "skipped": 0, "lost": 0}
        for outcome in self._settle_unsettled():  # left over from a database fault
            counts[outcome] += 1
        for _ in range(MAX_BATCHES_PER_DRAIN):
            prepared, skipped = self._claim(now)
            counts["skipped"] += skipped
            for outcome in self._deliver_batch(prepared, now):
                counts[outcome] += 1
            if len(prepared) + skipped < self.options.batch_size:
                break
        return DrainReport(**counts)

    def _claim(self, now: datetime) -> tuple[list[_Prepared], int]:
        lease = timedelta(seconds=self.options.lease_seconds)
        prepared: list[_Prepared] = []
        skipped = 0
        batch: Counter[tuple[str, int | None]] = Counter()  # accepted in this batch, not yet sent
        sent_today: dict[str, int] = {}  # by recipient, counted once per claim
        with self.db.transaction() as session:
            claimed = store_outbox.claim_due(
                session, now=now, lease=lease, limit=self.options.batch_size
            )
            for mail in claimed:
                if mail.kind == WEBHOOK_KIND:  # not mail: no headers, limits or bounces
                    prepared.append(_Prepared(mail, None))
                    continue
                reason = self._skip_reason(session, mail, now, batch, sent_today)
                if reason is not None:
                    store_outbox.mark_skipped(session, mail.id, attempt=mail.attempt, reason=reason)
                    self._log(mail, "skipped", reason)
                    skipped += 1
                    continue
                cc = tuple(a for a in mail.cc if not _bouncing(session, a))
                bcc = tuple(a for a in mail.bcc if not _bouncing(session, a))
                message_id = mail.message_id or store_outbox.message_id_for(
                    mail.id, self.options.from_address.rpartition("@")[2]
                )
                references: tuple[str, ...] = ()
                if mail.ticket_id is not None:
                    references = tuple(
                        thread_message_ids(
                            session, mail.ticket_id, recipient=mail.recipient, exclude=message_id
                        )
                    )
                headers = MailHeaders(
                    mail.id,
                    mail.kind,
                    mail.recipient,
                    message_id,
                    mail.automatic,
                    cc,
                    bcc,
                    references,
                )
                prepared.append(_Prepared(mail, headers))
                if mail.automatic:
                    batch[(mail.recipient, mail.ticket_id)] += 1
                    batch[(mail.recipient, None)] += 1
        return prepared, skipped

    def _skip_reason(
        self,
        session: Session,
        mail: ClaimedMail,
        now: datetime,
        batch: Counter[tuple[str, int | None]],
        sent_today: dict[str, int],
    ) -> str | None:
        """Why `mail` is not to be sent, or None.

        `batch` counts the mails this claim accepted so far; `sent_today` keeps each
        recipient's sent mails of the last day as first counted in this claim: the claim's
        transaction sends nothing, so that count cannot change before it ends (the batch's
        own mails are added from `batch`).
        """
        if _bouncing(session, mail.recipient):
            return "recipient is marked bouncing"
        if not mail.automatic or mail.kind in UNLIMITED_KINDS:
            return None
        if mail.recipient.lower() in self._exempt:
            return None
        limit = self.options.per_ticket_hourly_limit
        daily = self.options.per_address_daily_limit
        if mail.recipient not in sent_today:
            sent_today[mail.recipient] = store_outbox.count_sent(
                session, recipient=mail.recipient, since=now - timedelta(days=1)
            )
        today = batch[(mail.recipient, None)] + sent_today[mail.recipient]
        # The mails about this ticket in the last hour are some of today's: only when today's
        # reach the ticket limit can this ticket's have, so only then are they counted.
        if mail.ticket_id is not None and today >= limit:
            hourly = batch[(mail.recipient, mail.ticket_id)] + store_outbox.count_sent(
                session,
                recipient=mail.recipient,
                since=now - timedelta(hours=1),
                ticket_id=mail.ticket_id,
            )
            if hourly >= limit:
                return f"rate limited: {limit} automatic mails per hour about this ticket"
        if today >= daily:
            return f"rate limited: {daily} automatic mails per day to this address"
        return None

    def _deliver_batch(self, prepared: list[_Prepared], now: datetime) -> list[str]:
        """Send each claimed mail and settle it at once, in a transaction of its own.

        Should the settlement fail (the database is down), its outcome is kept for the next
        drain and the error ends the batch: nothing more is sent while outcomes cannot be
        recorded. Mails not handed to the relay within half a lease are left to their lease.
        """
        outcomes: list[str] = []
        send_by = time.monotonic() + self.options.lease_seconds / 2
        for item in prepared:
            if time.monotonic() >= send_by:
                log.warning(
                    "outbox: the relay is slow; %d claimed mail(s) left to their lease",
                    len(prepared) - len(outcomes),
                )
                break
            delivery = self._send(item, now)
            self._unsettled.append(self._decide(item.mail, delivery, now))
            outcomes += self._settle_unsettled()
        return outcomes

    def _send(self, item: _Prepared, now: datetime) -> Delivery:
        mail = item.mail
        if item.headers is None:
            if self.webhooks is None:
                return Delivery("transient", "this process delivers no webhooks")
            return self.webhooks.deliver(mail, now)
        try:
            if self.attachments is not None:
                context, files = self.attachments.resolve(mail.context, now)
            else:
                context, files = unresolved(mail.context), ()
            rendered = self.renderer.render(mail.kind, context)
            outgoing: OutgoingMail = compose(
                rendered,
                item.headers,
                context,
                from_address=self.options.from_address,
                desk_name=self.options.desk_name,
                secret_key=self.options.secret_key,
                now=now,
                files=files,
            )
        except (TemplateProblem, ValueError, TypeError) as exc:
            return Delivery("permanent", f"cannot render: {exc}"[:500])
        return self.transport.send(outgoing)

    def _settle_unsettled(self) -> list[str]:
        """Record every decided outcome not yet recorded (one transaction), then log and
        report each. On a database error they stay queued, and the error is raised."""
        decided = self._unsettled
        if not decided:
            return []
        with self.db.transaction() as session:
            settlements = [item.settlement for item in decided]
            done = store_outbox.settle(session, settlements, wait_for_disk=False)
        self._unsettled = []
        outcomes = [item.outcome if item.settlement.row_id in done else "lost" for item in decided]
        for item, outcome in zip(decided, outcomes, strict=True):
            self._log(item.mail, outcome, item.delivery.detail)
            if self.on_outcome is not None:
                self.on_outcome(outcome)
        return outcomes

    def _decide(self, mail: ClaimedMail, delivery: Delivery, now: datetime) -> _Decided:
        """The outcome of one delivery and what to record for its row."""
        if delivery.outcome == "sent":
            outcome, values = "sent", store_outbox.sent_values(now)
        elif delivery.outcome == "permanent" or mail.attempt >= self.options.max_attempts:
            error = delivery.detail
            if delivery.outcome != "permanent":
                error = f"gave up after {mail.attempt} attempts: {delivery.detail}"
            outcome, values = "dead", store_outbox.dead_values(error)
        else:
            next_attempt_at = now + self.backoff(mail.attempt)
            outcome = "retried"
            values = store_outbox.retry_values(next_attempt_at, delivery.detail)
        return _Decided(
            mail, delivery, outcome, store_outbox.Settlement(mail.id, mail.attempt, values)
        )

    def _log(self, mail: ClaimedMail, outcome: str, detail: str) -> None:
        ticket = mail.context.get("ticket")
        number = ticket.get("number") if isinstance(ticket, dict) else None
        level = logging.WARNING if outcome in ("dead", "lost") else logging.INFO
        log.log(
            level,
            "delivery row=%d kind=%s ticket=%s to=%s attempt=%d outcome=%s detail=%s",
            mail.id,
            mail.kind,
            number or "-",
            mail.recipient,
            mail.attempt,
            outcome,
            detail,
        )

    def wake(self) -> None:
        """Ask a running `run` loop to drain now (e.g. after the pipeline committed rows)."""
        self._wakeup.set()

    def run(self, stop: threading.Event) -> None:
        """Drain every `idle_poll_seconds` or on `wake()`, until `stop` is set (run in a thread).

        The transport's connection stays open from one drain to the next while mail keeps
        coming, and is closed once none has gone out for `connection_idle_seconds`.
        """
        next_drain = 0.0
        close_at: float | None = None  # when the held connection has been idle long enough
        try:
            while not stop.is_set():
                if self._wakeup.is_set() or time.monotonic() >= next_drain:
                    self._wakeup.clear()
                    try:
                        if self._drain(self.clock()).total:
                            close_at = time.monotonic() + self.options.connection_idle_seconds
                    except StoreUnavailable as exc:
                        log.warning("outbox worker: %s", exc)
                    except Exception:
                        log.exception(
                            "outbox worker: unexpected error; retrying after the idle wait"
                        )
                        self.transport.close()
                    next_drain = time.monotonic() + self.options.idle_poll_seconds
                if close_at is not None and time.monotonic() >= close_at:
                    self.transport.close()
                    close_at = None
                self._wakeup.wait(timeout=max(0.0, min(0.5, next_drain - time.monotonic())))
        finally:
            self.transport.close()
            if self._unsettled:  # the database did not come back before the stop
                log.warning(
                    "outbox worker stopping with %d sent mail(s) not recorded (database "
                    "unavailable): they are sent again after their lease",
                    len(self._unsettled),
                )


def _bouncing(session: Session, address: str) -> bool:
    contact = find_contact(session, address)
    return bool(contact and contact.bouncing)
