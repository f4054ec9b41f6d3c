"""The disk-full run over a real, small tmpfs: mail accepted into the spool while the data
directory's filesystem fills; the spool worker (in-process, the real App) meets ENOSPC,
keeps every mail without using up its attempts, /healthz says degraded; once space is freed
every mail becomes a ticket exactly once, without a restart."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path

import pytest

from ingest.model import IngestResult, Outcome
from ingest.spool.queue import PutRequest, SpoolEntry
from ingest.worker import SpoolWorker, WorkerSettings
from postdesk.app import App
from postdesk.serve.daemon import Daemon
from store import migrate
from store.db import Database
from store.tickets import list_tickets
from tests.faults import fill, small_tmpfs
from tests.helpers import mail, make_settings

MAILS = 6
MAX_ATTEMPTS = 3


def _mail(number: int) -> bytes:
    attachment = hashlib.sha256(str(number).encode()).hexdigest().encode() * 1500  # ~96 KB
    return mail(
        subject=f"Export broken, report {number}",
        message_id=f"<disk-full-{number}@acme.example>",
        attachments=[(f"report-{number}.log", "text/plain", attachment)],
    )


def _requests() -> list[PutRequest]:
    return [
        PutRequest(_mail(n), "carol@acme.example", ("support@desk.example",), "smtp")
        for n in range(MAILS)
    ]


@pytest.mark.parametrize("database_on_the_full_disk", [False, True])
def test_full_disk_keeps_every_mail_and_tickets_each_once_when_space_returns(
    tmp_path: Path, database_on_the_full_disk: bool
) -> None:
    with small_tmpfs(tmp_path / "fs", "2m") as fs:
        where = fs if database_on_the_full_disk else tmp_path
        url = f"sqlite:///{where / 'postdesk.db'}"
        database = Database(url)
        migrate.upgrade(database.engine)
        database.dispose()
        settings = make_settings(
            tmp_path,
            url,
            ingest={"data_dir": str(fs / "data"), "min_free_bytes": 64 * 1024},
        )
        app = App.build(settings)
        try:
            app.sync_directory()
            _run(app, fs)
        finally:
            app.close()


def _run(app: App, fs: Path) -> None:
    requests = _requests()
    app.spool.put_many(requests[:3])  # one group file
    for request in requests[3:]:  # and entries of their own
        app.spool.put_many((request,))
    ballast = fill(fs)

    daemon = Daemon(app)
    healthy, body = daemon.health()
    assert not healthy and body["status"] == "degraded"
    assert any("data directory" in reason for reason in body["reasons"])
    assert body["storage"]["data"]["writable"] is False
    with pytest.raises(OSError) as refused:  # what the SMTP listener answers 451 to
        app.spool.put(b"Subject: x\r\n\r\nx\r\n", mail_from="", rcpts=[], source="smtp")
    assert refused.value.errno == errno.ENOSPC

    results: list[IngestResult] = []

    def report(result: IngestResult, entry: SpoolEntry) -> None:
        results.append(result)

    worker = SpoolWorker(
        app.spool,
        app.intake.ingest,
        app.intake.quarantine_raw,
        settings=WorkerSettings(max_attempts=MAX_ATTEMPTS, batch_size=4),
        on_result=report,
        process_batch=app.intake.ingest_batch,
    )
    for _ in range(MAX_ATTEMPTS * 2):  # more tries than the mail has attempts
        assert worker.step() is None
    assert worker.storage_down or worker.database_down
    assert results == [] and app.spool.depth() == MAILS
    assert app.quarantine.count() == 0

    ballast.unlink()  # space returns; same worker, same process
    assert daemon.health()[0] is True
    assert worker.drain() == MAILS
    assert [r.outcome for r in results] == [Outcome.CREATED] * MAILS
    assert len({r.ticket for r in results}) == MAILS
    assert app.spool.depth() == 0 and app.quarantine.count() == 0
    with app.db.transaction() as session:
        assert len(list_tickets(session)) == MAILS
    # Delivered again (a sender's retry): each is a duplicate, never a second ticket.
    for request in requests:
        app.spool.put_many((request,))
    assert worker.drain() == MAILS
    assert [r.outcome for r in results[MAILS:]] == [Outcome.DUPLICATE] * MAILS
