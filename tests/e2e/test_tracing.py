"""As an operator traces mail: `messages list|show` for every outcome, `quarantine
list|show|release|drop` on held mail, and a held sender released by `sweep` after the window.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.cli import make_cli
from tests.helpers import mail

PASSWORD = "Tr0ub4dor&3-hunter2"


def test_every_outcome_is_traceable(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    cli.json("ingest", "-", stdin=mail(message_id="<ok.1@acme.example>"))
    cli.json(
        "ingest",
        "-",
        stdin=mail(sender="someone@elsewhere.example", message_id="<no.1@elsewhere.example>"),
    )
    cli.json(
        "ingest",
        "-",
        stdin=mail(message_id="<ooo.1@acme.example>", headers={"Auto-Submitted": "auto-replied"}),
    )

    listed = cli.json("messages", "list")
    assert [m["outcome"] for m in listed] == ["created", "rejected", "ignored"]
    rejected = cli.json(
        "messages", "list", "--outcome", "rejected", "--from", "SOMEONE@elsewhere.example"
    )
    assert [m["message_id"] for m in rejected] == ["<no.1@elsewhere.example>"]
    assert "unknown sender" in rejected[0]["reason"]
    assert cli.json("messages", "list", "--since", "2999-01-01") == []

    shown = cli.json("messages", "show", "ooo.1@acme.example")
    assert shown["outcome"] == "ignored" and "Auto-Submitted" in shown["reason"]
    text = cli.run("messages", "show", "<ok.1@acme.example>").stdout.decode()
    assert "created" in text and "SUP-" in text

    log = (tmp_path / "postdesk.log").read_text()
    assert "outcome=rejected" in log and "unknown sender" in log, "the log line has the reason"

    bad = cli.run("messages", "list", "--outcome", "lost", check=False)
    assert bad.returncode == 2
    assert b"created, commented, ignored, rejected, held, quarantined" in bad.stderr
    missing = cli.run("messages", "show", "<nothing@x.example>", check=False)
    assert missing.returncode == 1 and b"no message" in missing.stderr


def test_held_sender_released_after_the_window_and_by_hand(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url, ingest={"sender_rate_limit": "1/10m"})
    now = datetime.now(UTC)
    for index in range(3):
        subject = f"my password is {PASSWORD}" if index == 2 else f"Request {index}"
        cli.json(
            "ingest",
            "-",
            stdin=mail(subject=subject, message_id=f"<r.{index}@acme.example>", date=now),
        )
    items = cli.json("quarantine", "list")
    assert [i["state"] for i in items] == ["held", "held"]
    listing = cli.run("quarantine", "list")
    assert listing.stderr.decode().strip() == "2 held, 0 quarantined"

    shown = cli.run("quarantine", "show", items[1]["id"]).stdout.decode()
    assert "held: address carol@acme.example" in shown and "Subject:" in shown
    assert PASSWORD not in shown

    dropped = cli.run("quarantine", "drop", items[1]["id"]).stdout.decode()
    assert "dropped" in dropped
    assert "dropped" in cli.json("messages", "show", "<r.2@acme.example>")["reason"]

    later = (now + timedelta(minutes=11)).isoformat()
    report = json.loads(cli.run("sweep", "--now", later).stdout)
    assert report["held_released"] == 1
    assert cli.json("quarantine", "list") == []
    released = cli.json("messages", "show", "<r.1@acme.example>")
    assert released["outcome"] == "created"
    assert released["reason"] == "created: new ticket; released after its flood window"

    unknown = cli.run("quarantine", "show", "20260101000000-0000000000000000", check=False)
    assert unknown.returncode == 1 and b"quarantine list" in unknown.stderr
    nothing = cli.run("quarantine", "release", check=False)
    assert nothing.returncode == 2
