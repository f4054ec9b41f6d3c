"""The ops digests name each OAuth2 mailbox that cannot log in, since when, and the command
that fixes it; the escalation digest goes out for it even without tickets to show."""

from __future__ import annotations

from datetime import timedelta

from notify.options import ScheduleOptions, SweepOptions
from notify.render import Renderer
from notify.scheduler import NotifyScheduler
from store import sweeps
from store.db import Database
from store.imap_credentials import ImapCredentials
from store.outbox import list_rows
from tests.notify.conftest import T0

OPTIONS = SweepOptions(message_id_domain="desk.example", digest_to=("ops@desk.example",))
SCHEDULE = ScheduleOptions(digest_cron="0 * * * *", daily_digest_cron="0 7 * * *")


def test_digests_name_the_mailbox_that_cannot_log_in(db: Database) -> None:
    credentials = ImapCredentials(db, "test-secret-key-0123456789")
    credentials.login_failed("support-m365", "the token endpoint answered 400: invalid_grant", T0)
    credentials.login_failed(
        "support-m365", "the token endpoint answered 400: invalid_grant", T0 + timedelta(minutes=5)
    )
    scheduler = NotifyScheduler(db, OPTIONS, SCHEDULE, quarantined=lambda: 0)
    with db.transaction() as s:
        sweeps.set_last_run(s, "digest", T0)
    assert scheduler.run_digest("digest", T0 + timedelta(hours=1)) == 1
    with db.transaction() as s:
        [digest] = [r for r in list_rows(s) if r.kind == "digest"]
    [line] = digest.context["mailbox_logins"]
    assert line == {
        "account": "support-m365",
        "since": "2024-06-03T09:00:00Z",
        "failures": 2,
        "error": "the token endpoint answered 400: invalid_grant",
        "command": "postdesk imap login support-m365",
    }
    rendered = Renderer(desk_name="Acme Support").render("digest", digest.context)
    assert "Mailboxes that cannot log in" in rendered.text
    assert "support-m365 since" in rendered.text
    assert "fix: postdesk imap login support-m365" in rendered.text
    assert "postdesk imap login support-m365" in rendered.html

    credentials.login_succeeded("support-m365")
    assert scheduler.run_digest("digest", T0 + timedelta(hours=2)) == 0  # nothing left to say


def test_the_daily_summary_without_problems_says_nothing_of_mailboxes(db: Database) -> None:
    scheduler = NotifyScheduler(db, OPTIONS, SCHEDULE, quarantined=lambda: 0)
    with db.transaction() as s:
        sweeps.set_last_run(s, "daily_digest", T0)
    assert scheduler.run_digest("daily_digest", T0 + timedelta(days=1)) == 1
    with db.transaction() as s:
        [daily] = [r for r in list_rows(s) if r.kind == "daily_digest"]
    assert daily.context["mailbox_logins"] == []
    rendered = Renderer(desk_name="Acme Support").render("daily_digest", daily.context)
    assert "cannot log in" not in rendered.text
