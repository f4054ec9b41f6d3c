"""`postdesk ingest -` as an MTA's pipe transport: exit 75 (EX_TEMPFAIL, the MTA keeps the mail
and retries) while PostgreSQL cannot be reached or the disk is full, 0 on the retry with exactly
one ticket, 65 only for input that can never be read; the record names the pipe as its
intake path."""

from __future__ import annotations

import socket
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.db_fixtures import empty_database
from tests.e2e.cli import make_cli
from tests.faults import fill, small_tmpfs
from tests.helpers import mail

EX_DATAERR, EX_TEMPFAIL = 65, 75


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _count(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def test_unreachable_postgresql_exits_75_then_the_retry_records_one_ticket(
    tmp_path: Path, pg_url: str
) -> None:
    empty_database(pg_url)
    cli = make_cli(tmp_path, pg_url)
    good = cli.config.read_text()
    down = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{_closed_port()}")
    assert down != pg_url
    message = mail(message_id="<pipe-1@acme.example>")

    cli.config.write_text(good.replace(pg_url, down))
    failed = cli.run("ingest", "-", stdin=message, check=False)
    assert failed.returncode == EX_TEMPFAIL, failed.stderr
    assert b"database" in failed.stderr.lower() and b"try again later" in failed.stderr

    cli.config.write_text(good)  # the database is back: the MTA's retry
    done = cli.json("ingest", "-", stdin=message)
    assert done["outcome"] == "created"
    again = cli.json("ingest", "-", stdin=message)  # a second delivery is absorbed
    assert again["outcome"] == "duplicate"
    assert _count(pg_url, "SELECT count(*) FROM tickets") == 1
    assert _count(pg_url, "SELECT count(*) FROM inbound_messages WHERE source = 'pipe'") == 1
    assert _count(pg_url, "SELECT messages FROM intake_counts WHERE path = 'pipe'") == 2


def test_outcomes_exit_0_empty_input_65_broken_configuration_75(
    tmp_path: Path, sqlite_url: str
) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    rejected = cli.run("ingest", "-", stdin=mail(sender="Nobody <nobody@unknown.example>"))
    assert rejected.returncode == 0 and rejected.stdout.startswith(b"rejected")
    empty = cli.run("ingest", "-", stdin=b"\r\n", check=False)
    assert empty.returncode == EX_DATAERR and b"empty" in empty.stderr
    # A configuration error keeps piped mail in the MTA's queue until it is fixed.
    cli.config.write_text(cli.config.read_text().replace("[desk]", "[desk]\nnot_a_key = 1", 1))
    piped = cli.run("ingest", "-", stdin=mail(), check=False)
    assert piped.returncode == EX_TEMPFAIL and b"desk.not_a_key" in piped.stderr


def test_full_disk_exits_75_then_the_retry_records_it(tmp_path: Path, sqlite_url: str) -> None:
    with small_tmpfs(tmp_path / "fs", "4m") as fs:
        cli = make_cli(tmp_path, sqlite_url, ingest={"data_dir": str(fs / "data")})
        assert cli.run("ingest", "-", stdin=mail(subject="First")).returncode == 0
        report = mail(
            subject="Export log attached",
            message_id="<pipe-disk@acme.example>",
            attachments=[("screen.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"7" * 300_000)],
        )
        ballast = fill(fs)
        full = cli.run("ingest", "-", stdin=report, check=False)
        assert full.returncode == EX_TEMPFAIL, full.stderr
        assert b"ENOSPC" in full.stderr
        ballast.unlink()  # space again: the MTA's retry
        assert cli.json("ingest", "-", stdin=report)["outcome"] == "created"
        assert _count(sqlite_url, "SELECT count(*) FROM tickets") == 2
        assert _count(sqlite_url, "SELECT count(*) FROM attachments") == 1
