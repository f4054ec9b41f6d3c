"""`postdesk_intake_messages_total{path}`: what the daemon decided, by the path of the spool
entry, plus what `postdesk ingest` and `import` recorded in the database."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import generate_latest

from ingest.model import IngestResult, Outcome
from postdesk.serve.daemon import recorded_intake_counts
from postdesk.serve.metrics import Metrics
from store import intake_counts
from tests.helpers import make_app

CREATED = IngestResult(Outcome.CREATED, "SUP-1", None, "created")


def _lines(metrics: Metrics) -> list[str]:
    text = generate_latest(metrics.registry).decode()
    return [line for line in text.splitlines() if line.startswith("postdesk_intake_messages")]


def test_decided_messages_count_per_path_and_recorded_ones_are_added() -> None:
    metrics = Metrics()
    for source in ("smtp", "lmtp", "lmtp", "imap:support", "imap:sales", "mailgun"):
        metrics.observe(CREATED, 0.1, source)
    metrics.observe(CREATED, 0.1)  # no source given: counted by outcome only
    metrics.track_recorded(lambda: {"pipe": 3, "import": 40})
    assert _lines(metrics) == [
        'postdesk_intake_messages_total{path="imap"} 2.0',
        'postdesk_intake_messages_total{path="import"} 40.0',
        'postdesk_intake_messages_total{path="lmtp"} 2.0',
        'postdesk_intake_messages_total{path="mailgun"} 1.0',
        'postdesk_intake_messages_total{path="pipe"} 3.0',
        'postdesk_intake_messages_total{path="smtp"} 1.0',
    ]


def test_an_unreadable_database_leaves_the_daemon_s_own_counts() -> None:
    metrics = Metrics()
    metrics.observe(CREATED, None, "smtp")

    def down() -> dict[str, int]:
        raise OSError("database unreachable")

    metrics.track_recorded(down)
    assert _lines(metrics) == ['postdesk_intake_messages_total{path="smtp"} 1.0']


def test_counts_recorded_by_commands_are_read_from_the_database(
    tmp_path: Path, db_url: str
) -> None:
    app = make_app(tmp_path, db_url)
    try:
        with app.db.transaction() as session:
            intake_counts.add(session, "pipe")
            intake_counts.add(session, "pipe", 2)
            intake_counts.add(session, "import", 0)  # nothing to add: no row
        with app.db.transaction() as session:
            intake_counts.add(session, "cli")
        assert recorded_intake_counts(app) == {"pipe": 3, "cli": 1}
    finally:
        app.close()


def test_path_of_a_source() -> None:
    assert [intake_counts.path_of(s) for s in ("smtp", "imap:support", "import:old.mbox", "")] == [
        "smtp",
        "imap",
        "import",
        "unknown",
    ]
