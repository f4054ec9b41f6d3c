"""`postdesk serve` delivers webhooks by itself: a mail taken over SMTP becomes a ticket, and
its `ticket.created` reaches a receiver on loopback, signed, without an `outbox flush`."""

from __future__ import annotations

from pathlib import Path

from store import outbox
from store.db import Database
from tests.e2e.serve_helpers import ServeProcess, serve_config, wait_until
from tests.helpers import mail
from tests.notify.webhook_receiver import Receiver, new_secret

SECRET = new_secret()


def test_serve_posts_the_event_of_a_new_ticket(tmp_path: Path, sqlite_url: str) -> None:
    receiver = Receiver(SECRET).start()
    hook = {"name": "crm", "url": receiver.url, "events": ["ticket.created"], "secret": SECRET}
    config = serve_config(tmp_path / "desk", sqlite_url, {"webhooks": [hook]})
    daemon, config = ServeProcess.start(config)
    try:
        with daemon.smtp() as client:
            client.sendmail(
                "carol@acme.example", ["support@desk.example"], mail(subject="Exports fail")
            )
        wait_until(lambda: receiver.events, timeout=60, what="the webhook")
        assert daemon.terminate(timeout=20) == 0
    finally:
        daemon.kill()
        receiver.stop()
    assert receiver.rejected == []
    [(event_id, event)] = receiver.events.items()
    assert event["type"] == "ticket.created"
    assert event["data"]["ticket"]["subject"] == "Exports fail"
    db = Database(sqlite_url)
    try:
        with db.transaction() as session:
            [row] = [r for r in outbox.list_rows(session) if r.kind == "webhook"]
    finally:
        db.dispose()
    assert (row.recipient, row.status, row.message_id) == ("webhook:crm", "sent", event_id)
