"""SIGHUP to a real `postdesk serve`: the directory is read again (a mail now decides by the
new contacts) without dropping an open SMTP session, and the log file is opened again (log
rotation: rename, SIGHUP, a new file is written)."""

from __future__ import annotations

import signal
from email.utils import make_msgid
from pathlib import Path

from sqlalchemy import text as text_sql

from tests.e2e.serve_helpers import (
    Recorded,
    ServeProcess,
    on_the_wire,
    serve_config,
    wait_until,
)
from tests.helpers import mail

NEWBIE = "newbie@acme-partner.example"


def _send(client: object, subject: str) -> None:
    raw = mail(sender=NEWBIE, subject=subject, message_id=make_msgid(domain="acme-partner.example"))
    client.sendmail(NEWBIE, ["support@desk.example"], on_the_wire(raw))  # type: ignore[attr-defined]


def test_sighup_reloads_the_directory_and_reopens_the_log(tmp_path: Path, sqlite_url: str) -> None:
    config = serve_config(tmp_path / "serve", sqlite_url)
    daemon, config = ServeProcess.start(config)
    recorded = Recorded(config.db_url)
    try:
        session = daemon.smtp()  # stays open across the reload
        _send(session, "before the reload")
        wait_until(
            lambda: [r for r in recorded.inbound() if r[1] == "rejected"],
            timeout=60,
            what="the stranger's mail to be rejected",
        )
        text = config.path.read_text().replace(
            'contacts = ["erin@globex.example"]', f'contacts = ["erin@globex.example", "{NEWBIE}"]'
        )
        assert NEWBIE in text
        text += '\n[[staff]]\nname = "Zed Agent"\nemail = "zed@desk.example"\n'
        config.path.write_text(text)
        rotated = config.log_file.with_name("postdesk.log.1")
        config.log_file.rename(rotated)

        daemon.proc.send_signal(signal.SIGHUP)
        wait_until(
            lambda: config.log_file.exists() and "reloaded:" in config.log_file.read_text(),
            timeout=60,
            what="the reload to be logged in a new log file",
        )
        _send(session, "after the reload")
        session.quit()
        created = wait_until(
            lambda: [r for r in recorded.inbound() if r[1] == "created"],
            timeout=60,
            what="the now-known contact's mail to open a ticket",
        )
        assert len(created) == 1
        wait_until(
            lambda: "outcome=created" in config.log_file.read_text(),
            timeout=30,
            what="the new spool worker to log into the new file",
        )
        assert "outcome=rejected" in rotated.read_text()
        assert "outcome=created" not in rotated.read_text()
        with recorded.engine.connect() as conn:
            staff = conn.execute(text_sql("SELECT email FROM staff WHERE active")).scalars()
            assert "zed@desk.example" in set(staff)
        assert daemon.proc.poll() is None
    finally:
        recorded.close()
        assert daemon.terminate() == 0, daemon.output()


def test_sighup_with_a_broken_file_keeps_the_running_configuration(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = serve_config(tmp_path / "serve", sqlite_url)
    daemon, config = ServeProcess.start(config)
    try:
        good = config.path.read_text()
        config.path.write_text(good.replace('digest = "0 * * * *"', 'digest = "0 25 * * *"'))
        assert "0 25" in config.path.read_text()
        daemon.proc.send_signal(signal.SIGHUP)
        wait_until(
            lambda: "reload refused" in config.log_file.read_text(),
            timeout=60,
            what="the reload to be refused",
        )
        assert "schedule.digest: the hour field '25'" in config.log_file.read_text()
        with daemon.smtp() as client:
            client.noop()
        assert daemon.proc.poll() is None
    finally:
        assert daemon.terminate() == 0, daemon.output()
