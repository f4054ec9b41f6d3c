"""A quiet backlog import: 1,500 mails from three senders become 1,500 tickets, mail nobody,
keep their own dates, and pass the flood limit; `--since`, `--status` and `--notify`.

The mailbox is generated here, in a temporary mbox file. The three senders write far
above the flood limit (30 a sender in 10 minutes): a live desk would hold most of it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from postdesk.app import App
from postdesk.config.load import load_settings
from postdesk.notify_build import run_sweep
from store import outbox, tickets
from tests.e2e.cli import make_cli
from tests.e2e.test_import import import_json
from tests.helpers import mail

SENDERS = ("carol@acme.example", "erin@globex.example", "frank@initech.example")
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def backlog(count: int) -> list[bytes]:
    """`count` new requests, one a minute, the three senders in turn (written as text: the
    email package takes a second and a half for 1,500)."""
    return [
        (
            f"From: {SENDERS[index % 3]}\r\nTo: support@desk.example\r\n"
            f"Subject: Request {index}\r\n"
            f"Date: {format_datetime(START + timedelta(minutes=index))}\r\n"
            f"Message-ID: <backlog.{index}@mail.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Hello,\r\n\r\nrequest number {index} of the backlog.\r\n"
        ).encode()
        for index in range(count)
    ]


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    """An mbox file written directly (mailbox.mbox takes a second for 1,500 mails)."""
    with path.open("wb") as out:
        for raw in messages:
            out.write(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n")
            out.write(raw.replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From "))
            out.write(b"\n")
    return path


def test_a_large_backlog_becomes_tickets_quietly_with_its_own_dates(
    tmp_path: Path, sqlite_url: str
) -> None:
    """The import runs as the administrator runs it; what it recorded is read in-process."""
    cli = make_cli(tmp_path, sqlite_url)
    mbox = write_mbox(tmp_path / "backlog.mbox", backlog(1500))

    summary = import_json(cli, mbox)

    assert summary["created"] == 1500 and summary["total"] == 1500
    assert summary["held"] == 0, "the flood limit does not apply to an import"
    app = App.build(load_settings(cli.config))
    try:
        with app.db.transaction() as session:
            assert outbox.list_rows(session) == [], "no mail to anyone"
            found = tickets.list_tickets(session)
        assert len(found) == 1500
        created = sorted(t.created_at for t in found)
        assert created[0] == START and created[-1] == START + timedelta(minutes=1499)
        assert {t.status for t in found} == {"open"}
        assert all("imported" in t.flags for t in found)
        first = next(t for t in found if t.subject == "Request 0")
        assert first.first_response_due == START + timedelta(hours=24)

        report = run_sweep(app, datetime(2026, 12, 1, tzinfo=UTC))
        assert report["sweep"]["escalations"] == 0, "targets passed before the import: no mail"
        with app.db.transaction() as session:
            recipients = {row.recipient for row in outbox.list_rows(session)}
        assert recipients <= {"ops@desk.example"}, "at most the ops digest"
    finally:
        app.close()


def test_since_skips_older_mail_and_status_closed(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    mbox = write_mbox(tmp_path / "backlog.mbox", backlog(12))
    since = (START + timedelta(minutes=9)).isoformat()

    summary = import_json(cli, mbox, "--since", since, "--status", "closed")

    assert summary["skipped"] == 9 and summary["created"] == 3 and summary["total"] == 12
    tickets = cli.json("tickets", "list")
    assert sorted(t["subject"] for t in tickets) == ["Request 10", "Request 11", "Request 9"]
    assert {t["status"] for t in tickets} == {"closed"}


def test_notify_queues_the_mails_a_live_message_would(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    mbox = write_mbox(tmp_path / "backlog.mbox", backlog(2))

    import_json(cli, mbox, "--notify")

    kinds = sorted(row["kind"] for row in cli.json("outbox", "list"))
    assert kinds == ["confirmation", "confirmation", "new_ticket_notice", "new_ticket_notice"]


def test_future_and_garbage_dates_are_dated_at_import(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    future = mail(subject="From the future", message_id="<f@x>", date=datetime(2099, 1, 1))
    epoch = mail(subject="Epoch", message_id="<e@x>", date=datetime(1970, 1, 1, tzinfo=UTC))
    mbox = write_mbox(tmp_path / "odd.mbox", [future, epoch])
    before = datetime.now(UTC) - timedelta(minutes=5)

    import_json(cli, mbox)

    for ticket in cli.json("tickets", "list"):
        created = datetime.fromisoformat(ticket["created_at"])
        assert before <= created <= datetime.now(UTC) + timedelta(minutes=5), ticket["subject"]
    reasons = [m["reason"] for m in cli.json("messages", "list")]
    assert any("in the future" in r for r in reasons) and any("before 1990" in r for r in reasons)


def test_bad_since_names_the_option(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    mbox = write_mbox(tmp_path / "backlog.mbox", backlog(1))
    result = cli.run("import", "--since", "last tuesday", str(mbox), check=False)
    assert result.returncode == 2
    assert b"--since" in result.stderr and b"2026-01-31" in result.stderr


def test_a_quiet_import_sends_no_webhook_events(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    hook = (
        '\n[[webhooks]]\nname = "crm"\nurl = "http://127.0.0.1:9/hooks"\n'
        'events = ["ticket.created"]\nformat = "slack"\n'
    )
    cli.config.write_text(cli.config.read_text() + hook)
    quiet = write_mbox(tmp_path / "quiet.mbox", backlog(2))
    import_json(cli, quiet)
    assert cli.json("outbox", "list") == [], "no webhook event from a quiet import"

    loud = write_mbox(
        tmp_path / "loud.mbox", [m.replace(b"backlog.", b"loud.") for m in backlog(1)]
    )
    import_json(cli, loud, "--notify")
    assert "webhook" in {row["kind"] for row in cli.json("outbox", "list")}
