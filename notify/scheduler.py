"""APScheduler wiring: the sweep every `sweep_interval_seconds`, the digests by cron, and
catch-up on start so a restart misses nothing.

Choice: APScheduler 3 `BackgroundScheduler`. The jobs do blocking database work, so they
run in the scheduler's own worker threads and never stall the daemon's asyncio loop in the
main thread; `start()` returns at once and `shutdown()` waits for a running job.

Safety with several daemons: the sweep takes a transaction-level lock (PostgreSQL advisory
lock, SQLite write lock) and skips when another sweep holds it; digests wait for their own
lock, then check `job_runs` so each period is sent once (and their dedupe keys make a
second attempt a no-op anyway). Restart: the sweep acts on "what is due at now", and
`run_due(now)` (also run once at start, and by `postdesk sweep --now`) runs each digest
whose cron fired since its recorded `last_run_at` (once, coalesced, for the newest missed
period). A digest that never ran looks back `misfire_grace_seconds` only, so a fresh
install does not send yesterday's summary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from notify.digests import (
    MailWaiting,
    QuarantineCount,
    WaitingMail,
    daily_digest_in,
    escalation_digest_in,
)
from notify.errors import ScheduleProblem
from notify.jobs import SweepReport, sweep
from notify.options import ScheduleOptions, SweepOptions
from store import sweeps
from store.clock import utcnow
from store.db import Database
from store.errors import StoreUnavailable
from store.records import iso, utc

log = logging.getLogger(__name__)
DIGEST_LOCK = "postdesk.digest"
MAX_FIRE_STEPS = 200_000
DIGESTS = ("digest", "daily_digest")


def cron_trigger(expression: str, key: str, timezone: str = "UTC") -> CronTrigger:
    """A CronTrigger from a 5-field crontab; `ScheduleProblem` naming `key` when invalid."""
    try:
        return CronTrigger.from_crontab(expression, timezone=timezone)
    except (ValueError, TypeError) as exc:
        raise ScheduleProblem(f"{key}: invalid cron expression {expression!r} ({exc})") from exc


def latest_fire_time(trigger: CronTrigger, after: datetime, now: datetime) -> datetime | None:
    """The newest fire time of `trigger` in (after, now], or None."""
    latest: datetime | None = None
    candidate = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    for _ in range(MAX_FIRE_STEPS):
        if candidate is None or candidate > now:
            return latest
        latest = candidate
        candidate = trigger.get_next_fire_time(candidate, candidate + timedelta(seconds=1))
    return latest


@dataclass(frozen=True, slots=True)
class DueReport:
    """What `run_due` did: the sweep's report and the digest rows queued per digest."""

    sweep: SweepReport
    digests: dict[str, int]


class NotifyScheduler:
    """Runs the sweep and the digests, in a background thread or on demand."""

    def __init__(
        self,
        db: Database,
        sweep_options: SweepOptions,
        schedule: ScheduleOptions,
        *,
        quarantined: QuarantineCount = lambda: 0,
        waiting: WaitingMail = MailWaiting,
        on_mail_queued: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.options = sweep_options
        self.schedule = schedule
        self.quarantined = quarantined
        self.waiting = waiting
        self.on_mail_queued = on_mail_queued
        self.clock = clock
        self.triggers = {
            "digest": cron_trigger(schedule.digest_cron, "schedule.digest", schedule.timezone),
            "daily_digest": cron_trigger(
                schedule.daily_digest_cron, "schedule.daily_digest", schedule.timezone
            ),
        }
        self._scheduler: BackgroundScheduler | None = None

    def _queued(self, count: int) -> None:
        if count and self.on_mail_queued is not None:
            self.on_mail_queued()

    def run_sweep(self, now: datetime | None = None) -> SweepReport:
        """One sweep at `now` (default: the clock)."""
        report = sweep(self.db, now or self.clock(), self.options)
        self._queued(report.mails)
        return report

    def run_digest(self, name: str, now: datetime | None = None) -> int:
        """Send digest `name` for the newest period due by `now` not sent yet; rows queued."""
        if name not in self.triggers:
            raise ValueError(f"unknown digest {name!r}; expected one of {', '.join(DIGESTS)}")
        now = utc(now) or self.clock()
        grace = timedelta(seconds=self.schedule.misfire_grace_seconds)
        queued = 0
        with self.db.transaction() as session:
            sweeps.lock_sweep(session, DIGEST_LOCK, wait=True)
            recorded = sweeps.last_run(session, name)
            period = latest_fire_time(self.triggers[name], recorded or now - grace, now)
            if period is None:
                if recorded is None:  # first start: from now on, nothing will be missed
                    sweeps.set_last_run(session, name, now)
                return 0
            if name == "digest":
                queued = escalation_digest_in(
                    session,
                    period,
                    now,
                    self.options,
                    waiting=self.waiting(),
                    since=recorded or now - grace,
                )
            else:
                queued = daily_digest_in(session, period, now, self.options, self.quarantined)
            sweeps.set_last_run(session, name, period)
        log.info("%s for period %s ran at %s", name, iso(period), iso(now))
        self._queued(queued)
        return queued

    def run_due(self, now: datetime | None = None) -> DueReport:
        """Everything due at `now`: the sweep, then each digest whose period passed."""
        now = utc(now) or self.clock()
        report = self.run_sweep(now)
        return DueReport(report, {name: self.run_digest(name, now) for name in DIGESTS})

    def _job(self, name: str) -> None:
        try:
            if name == "sweep":
                self.run_sweep()
            elif name == "catch_up":
                self.run_due()
            else:
                self.run_digest(name)
        except StoreUnavailable as exc:
            log.warning("scheduler job %s: %s; it runs again at its next time", name, exc)

    def start(self) -> None:
        """Start the background scheduler; a catch-up run (`run_due`) is queued at once."""
        if self._scheduler is not None:
            return
        grace = self.schedule.misfire_grace_seconds
        scheduler = BackgroundScheduler(
            timezone=self.schedule.timezone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
        )
        scheduler.add_job(
            self._job,
            IntervalTrigger(seconds=self.schedule.sweep_interval_seconds),
            args=["sweep"],
            id="sweep",
        )
        for name, trigger in self.triggers.items():
            scheduler.add_job(self._job, trigger, args=[name], id=name)
        scheduler.add_job(self._job, args=["catch_up"], id="catch_up")
        scheduler.start()
        self._scheduler = scheduler

    def shutdown(self, wait: bool = True) -> None:
        """Stop scheduling; with `wait`, let a running job finish first."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=wait)
            self._scheduler = None
