"""Prometheus metrics of one daemon: messages by outcome, latency, spool depth, IMAP, redactions,
free bytes and writability of the spool and data directories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ingest.model import IngestResult
from postdesk.serve.storage import StorageCheck, probe


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
        self.outbox_sent = Counter(
            "postdesk_outbox_deliveries",
            "Outgoing mail delivery attempts by result",
            ["result"],
            registry=self.registry,
        )

    def observe(self, result: IngestResult, latency_seconds: float | None) -> None:
        self.messages.labels(result.outcome.value).inc()
        for kind, count in result.redactions.items():
            self.redactions.labels(kind).inc(count)
        if latency_seconds is not None:
            self.latency.observe(max(0.0, latency_seconds))

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
