"""`postdesk import` of a backlog, as an administrator runs it: an mbox file or a Maildir folder.

The CLI runs as a subprocess on a temporary configuration after `db upgrade`. The mailbox
holds new requests, replies (by In-Reply-To and by subject tag), a bounce, an auto-reply, a
stranger, a mail with broken MIME that can still be read, and one that cannot be used at all.
"""

from __future__ import annotations

import json
import mailbox
import os
import pty
import select
import subprocess
from pathlib import Path
from typing import Any

import pytest

from store.schema import TICKET_NUMBER_START
from tests.e2e.cli import POSTDESK, Cli, make_cli
from tests.helpers import mail

FIRST = f"SUP-{TICKET_NUMBER_START}"
EXPECTED = {
    "created": 3,
    "commented": 2,
    "duplicate": 0,
    "ignored": 2,
    "rejected": 1,
    "held": 0,
    "quarantined": 1,
    "skipped": 0,
    "total": 9,
}
ALL_DUPLICATE = {key: 0 for key in EXPECTED} | {"duplicate": 9, "total": 9}

BOUNCE = (
    b"From: MAILER-DAEMON@mx.acme.example\r\nTo: support@desk.example\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce.1@mx.acme.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
    b"--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
    b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.acme.example\r\n\r\n"
    b"Final-Recipient: rfc822; nobody@acme.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
    b"--B--\r\n"
)

# Declared multipart without a boundary, in an unknown charset: broken, but a sender and
# some text can be read, so it becomes a ticket like any other.
BROKEN_BUT_READABLE = (
    b"From: Erin <erin@globex.example>\r\nTo: support@desk.example\r\n"
    b"Subject: Garbled mail\r\nMessage-ID: <broken.1@globex.example>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed\r\n\r\n"
    b"Our exports fail with error 500 since the update.\r\n"
)

# No sender anywhere and no text: nothing can be used, so it goes to quarantine.
UNUSABLE = (
    b"To: support@desk.example\r\nSubject: \r\nMessage-ID: <unusable.1@nowhere.example>\r\n"
    b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"AAECAwQFBgc=\r\n"
)


def backlog() -> list[bytes]:
    """The messages of the mailbox, in arrival order."""
    first_id = "<first.1@acme.example>"
    return [
        mail(
            message_id=first_id,
            body="Hello,\n\nthe export button does nothing.\n\nCarol\n",
            html="<p>Hello,</p><p>the export button does nothing.</p>",
        ),
        mail(
            sender="Erin <erin@globex.example>",
            subject="Invoice is wrong",
            message_id="<erin.1@globex.example>",
            to="billing@desk.example",
            body="Hello,\n\ninvoice 2026-114 charges 12 seats, we have 10.\n",
        ),
        mail(
            sender="Carol Customer <carol@acme.example>",
            subject="Re: Cannot export call history",
            message_id="<carol.2@acme.example>",
            headers={"In-Reply-To": first_id, "References": first_id},
            body="It also fails in Firefox.\n\nOn Monday Support wrote:\n> Thanks\n",
        ),
        mail(
            sender="dave@acme.example",
            subject=f"Re: [{FIRST}] Cannot export call history",
            message_id="<dave.1@acme.example>",
            body="Same here for our team.\n",
        ),
        BOUNCE,
        mail(
            sender="Carol Customer <carol@acme.example>",
            subject="Out of office",
            message_id="<ooo.1@acme.example>",
            headers={"Auto-Submitted": "auto-replied"},
            body="I am out of the office until Monday.\n",
        ),
        mail(
            sender="Stranger <someone@elsewhere.example>",
            subject="Please help",
            message_id="<stranger.1@elsewhere.example>",
            body="Hello, can you help me?\n",
        ),
        BROKEN_BUT_READABLE,
        UNUSABLE,
    ]


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.mbox(path, create=True)
    for raw in messages:
        box.add(raw)
    box.close()
    return path


def write_maildir(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.Maildir(path, create=True)
    for index, raw in enumerate(messages):
        # Maildir has no order of its own; the importer sorts by file name.
        key = box.add(raw)
        os.rename(path / "new" / key, path / "new" / f"{1700000000 + index}.{index}.bench")
    return path


def import_json(cli: Cli, path: Path, *options: str) -> dict[str, int]:
    result = cli.run("import", "--json", *options, str(path))
    assert b"msg/s" not in result.stderr, "no progress bar when standard error is not a terminal"
    summary: dict[str, int] = json.loads(result.stdout)
    return summary


def ticket_state(cli: Cli) -> tuple[list[Any], list[Any]]:
    listing = cli.json("tickets", "list")
    return sorted((t["number"], t["subject"], t["requester"]) for t in listing), cli.json(
        "outbox", "list"
    )


def check_decisions(cli: Cli) -> None:
    first = cli.json("tickets", "show", FIRST)
    assert first["requester"] == "carol@acme.example"
    bodies = [c["body"] for c in first["comments"]]
    assert any("Firefox" in b for b in bodies), "the In-Reply-To reply is on the first ticket"
    assert any("Same here" in b for b in bodies), "the subject-tag reply is on the first ticket"
    assert "On Monday Support wrote" not in "\n".join(bodies)
    tickets = cli.json("tickets", "list")
    assert {t["subject"] for t in tickets} == {
        "Cannot export call history",
        "Invoice is wrong",
        "Garbled mail",
    }
    assert next(t for t in tickets if t["subject"] == "Invoice is wrong")["category"] == "billing"
    quarantined = cli.json("quarantine", "list")
    assert len(quarantined) == 1


def test_import_mbox_records_each_message_once(tmp_path: Path, db_url: str) -> None:
    cli = make_cli(tmp_path, db_url)
    mbox = write_mbox(tmp_path / "backlog.mbox", backlog())

    assert import_json(cli, mbox) == EXPECTED
    check_decisions(cli)
    before = ticket_state(cli)

    again = import_json(cli, mbox)
    assert again == ALL_DUPLICATE, "the quarantined mail too: only `quarantine retry` re-runs it"
    assert ticket_state(cli) == before, "a second import changes no ticket and queues no mail"
    assert len(cli.json("quarantine", "list")) == 1, "no second quarantined copy"


def test_import_with_analysing_processes_decides_the_same(tmp_path: Path, db_url: str) -> None:
    """`--jobs 2`: parsing and redaction run in two processes a batch ahead; same decisions."""
    cli = make_cli(tmp_path, db_url)
    mbox = write_mbox(tmp_path / "backlog.mbox", backlog())

    assert import_json(cli, mbox, "--jobs", "2") == EXPECTED
    check_decisions(cli)
    assert import_json(cli, mbox, "--jobs", "2") == ALL_DUPLICATE


def test_import_jobs_must_not_be_negative(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    mbox = write_mbox(tmp_path / "backlog.mbox", backlog()[:1])
    result = cli.run("import", "--jobs", "-1", str(mbox), check=False)
    assert result.returncode == 2
    assert b"must be 0 or more" in result.stderr


def test_import_maildir_matches_the_mbox_result(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    maildir = write_maildir(tmp_path / "Maildir", backlog())

    assert import_json(cli, maildir) == EXPECTED
    check_decisions(cli)
    assert import_json(cli, maildir) == ALL_DUPLICATE


def test_import_without_json_prints_a_one_line_summary(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    mbox = write_mbox(tmp_path / "backlog.mbox", backlog()[:2])
    result = cli.run("import", str(mbox))
    assert result.stdout.decode().strip() == (
        "created: 2, commented: 0, duplicate: 0, ignored: 0, rejected: 0, held: 0, "
        "quarantined: 0, skipped: 0, total: 2"
    )


def _run_on_terminal(cli: Cli, path: Path) -> tuple[int, str, bytes]:
    """Run `import --json` with standard error on a pseudo-terminal; (exit, terminal, stdout)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*POSTDESK, "--config", str(cli.config), "import", "--json", str(path)],
        stdout=subprocess.PIPE,
        stderr=terminal,
        stdin=subprocess.DEVNULL,
    )
    os.close(terminal)
    seen = b""
    for _ in range(10_000):  # bounded: ends at EOF (the child closed the terminal)
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    stdout, _ = process.communicate(timeout=60)
    return process.returncode, seen.decode(errors="replace"), stdout


def test_progress_bar_only_on_a_terminal(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    mbox = write_mbox(tmp_path / "backlog.mbox", backlog())

    code, terminal, stdout = _run_on_terminal(cli, mbox)

    assert code == 0
    assert "msg/s" in terminal and "9/9" in terminal and "[" in terminal
    assert json.loads(stdout) == EXPECTED, "stdout carries the summary only"
    assert "msg/s" not in stdout.decode()


@pytest.mark.parametrize(
    ("make_path", "message"),
    [
        (lambda tmp: tmp / "missing.mbox", "does not exist"),
        (lambda tmp: (tmp / "plain").mkdir() or tmp / "plain", "not a Maildir"),
    ],
    ids=["missing", "folder-not-maildir"],
)
def test_bad_path_exits_1_with_a_clear_message(
    tmp_path: Path, sqlite_url: str, make_path: Any, message: str
) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    path = make_path(tmp_path)
    result = cli.run("import", "--json", str(path), check=False)
    assert result.returncode == 1
    error = result.stderr.decode()
    assert str(path) in error and message in error
    assert result.stdout == b""
