"""Prometheus metrics of one daemon: messages by outcome and by intake path, latency, spool
depth, IMAP, redactions, free bytes and writability of the spool and data directories."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric

from ingest.model import IngestResult
from postdesk.serve.storage import StorageCheck, probe
from store.intake_counts import path_of

log = logging.getLogger(__name__)


class Metrics:
    """The daemon's metrics, in their own registry (so tests can build several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "postdesk_messages", "Inbound messages by outcome", ["outcome"], registry=self.registry
        )
        self.latency = Histogram(
            "postdesk_ingest_latency_seconds",
            "Time from acceptance (spool write) to the committed decision",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.redactions = Counter(
            "postdesk_redactions", "Secrets removed, by kind", ["kind"], registry=self.registry
        )
        self.spool_depth = Gauge(
            "postdesk_spool_depth", "Messages waiting in the spool", registry=self.registry
        )
        self.imap_errors = Gauge(
            "postdesk_imap_errors",
            "Failed IMAP poll cycles since start",
            ["account"],
            registry=self.registry,
        )
        self.imap_login_failures = Counter(
            "postdesk_imap_login_failures",
            "Failed IMAP logins (token refresh refused or unreachable, credentials refused)",
            ["account"],
            registry=self.registry,
        )
        self.storage_free = Gauge(
            "postdesk_storage_free_bytes",
            "Bytes free to postdesk in the filesystem of each directory it writes",
            ["directory"],
            registry=self.registry,
        )
        self.storage_writable = Gauge(
            "postdesk_storage_writable",
            "1 when a byte could be written in the directory at the scrape, else 0",
            ["directory"],
            registry=self.registry,
        )
        self.intake = IntakeCounts()
        self.registry.register(self.intake)
        self.outbox_sent = Counter(
            "postdesk_outbox_deliveries",
            "Outgoing mail delivery attempts by result",
            ["result"],
            registry=self.registry,
        )

    def observe(
        self, result: IngestResult, latency_seconds: float | None, source: str | None = None
    ) -> None:
        """One decided message; `source` is its spool entry's (the intake path)."""
        self.messages.labels(result.outcome.value).inc()
        if source is not None:
            self.intake.count(path_of(source))
        for kind, count in result.redactions.items():
            self.redactions.labels(kind).inc(count)
        if latency_seconds is not None:
            self.latency.observe(max(0.0, latency_seconds))

    def track_recorded(self, counts: Callable[[], dict[str, int]]) -> None:
        """Read, at each scrape, the paths counted by commands outside the daemon."""
        self.intake.recorded = counts

    def track_spool(self, depth: Callable[[], int]) -> None:
        self.spool_depth.set_function(depth)

    def track_imap(self, account: str, errors: Callable[[], int]) -> None:
        self.imap_errors.labels(account).set_function(errors)
        self.imap_login_failures.labels(account)  # shown as 0 before the first failure

    def track_storage(self, check: StorageCheck) -> None:
        """Free bytes and writability of each directory of `check`, probed at each scrape."""
        for name, path in check.directories.items():
            self.storage_free.labels(name).set_function(_free_bytes(path))
            self.storage_writable.labels(name).set_function(_writable(path))


def _free_bytes(path: Path) -> Callable[[], float]:
    return lambda: float(probe(path).free_bytes)


def _writable(path: Path) -> Callable[[], float]:
    return lambda: 1.0 if probe(path).writable else 0.0


class IntakeCounts:
    """``postdesk_intake_messages_total{path}``: messages this daemon decided, by the path
    they came in on (smtp, lmtp, imap, mailgun, postmark, sendgrid), plus those that
    `postdesk ingest` (pipe, cli) and `import` recorded in the database (``recorded``, read
    at each scrape; database-wide, so every daemon on one database reports the same)."""

    NAME = "postdesk_intake_messages"
    HELP = "Inbound messages per intake path (smtp, lmtp, imap, pipe, cli, import, providers)"

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.recorded: Callable[[], dict[str, int]] | None = None

    def count(self, path: str, messages: int = 1) -> None:
        with self._lock:
            self._counts[path] = self._counts.get(path, 0) + messages

    def describe(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self.NAME, self.HELP, labels=["path"])

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            totals = dict(self._counts)
        if self.recorded is not None:
            try:
                for path, messages in self.recorded().items():
                    totals[path] = totals.get(path, 0) + messages
            except Exception as exc:  # the database is down: report what this daemon knows
                log.debug("intake counts not read (%s)", type(exc).__name__)
        family = CounterMetricFamily(self.NAME, self.HELP, labels=["path"])
        for path, messages in sorted(totals.items()):
            family.add_metric([path], float(messages))
        yield family
