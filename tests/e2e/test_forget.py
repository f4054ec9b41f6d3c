"""`postdesk contacts forget ADDRESS` and `[desk] retention_days`: a contact's mail text,
attachments (files too, unless another ticket shares them) and decision records go; tickets
keep a placeholder; the audit trail records it without the address in clear."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

from store.erasure import ERASED, ERASED_BY_RETENTION, address_hash
from store.schema import Base
from tests.e2e.cli import Cli, make_cli
from tests.helpers import mail

CAROL = "carol@acme.example"
KEY = "a-secret-key-for-the-forget-test"
SHARED = b"%PDF-1.4 the same manual sent by both\n" * 50
OWN = b"%PDF-1.4 carol's own screenshot notes\n" * 50


def _blob(tmp_path: Path, data: bytes) -> Path:
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    return tmp_path / "data" / "attachments" / digest[:2] / digest[2:4] / digest


def _everything(db_url: str) -> str:
    """Every row of every table, as text."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = [
                list(row)
                for table in Base.metadata.sorted_tables
                for row in conn.execute(select(table))
            ]
    finally:
        engine.dispose()
    return "\n".join(json.dumps(row, default=str) for row in rows)


def _cli(tmp_path: Path, db_url: str, **desk: Any) -> Cli:
    cli = make_cli(tmp_path, db_url, desk={"secret_key": KEY, **desk})
    # The contact is taken out of the configuration first (else each start lists it again).
    config = cli.config.read_text().replace('"Carol Customer <carol@acme.example>", ', "")
    cli.config.write_text(config)
    return cli


def test_forget_erases_a_contacts_mail(tmp_path: Path, db_url: str) -> None:
    cli = _cli(tmp_path, db_url)
    pdf = "application/pdf"
    carol_ticket = cli.json(
        "ingest",
        "-",
        stdin=mail(
            subject="Carol's private trouble",
            body="My password is hunter2hunter2 and I live at 1 Elm Street.\n",
            attachments=[("manual.pdf", pdf, SHARED)],
        ),
    )["ticket"]
    dave_ticket = cli.json(
        "ingest",
        "-",
        stdin=mail(
            sender="dave@acme.example",
            subject="Dave's export problem",
            body="Dave here, the export fails.\n",
            attachments=[("manual.pdf", pdf, SHARED)],
        ),
    )["ticket"]
    commented = cli.json(
        "ingest",
        "-",
        stdin=mail(
            subject=f"Re: [{dave_ticket}] Dave's export problem",
            body="Carol here: same for me at Elm Street.\n",
            attachments=[("notes.pdf", pdf, OWN)],
        ),
    )
    assert commented["outcome"] == "commented"
    cli.run("outbox", "flush")
    assert _blob(tmp_path, OWN).exists()

    erased = json.loads(cli.run("contacts", "forget", CAROL.upper(), "--yes", "--json").stdout)
    assert erased["tickets"] == 1 and erased["comments"] == 2 and erased["messages"] == 2
    assert erased["attachments"] == 2

    mine = cli.json("tickets", "show", carol_ticket)
    assert mine["subject"] == ERASED
    assert [c["body"] for c in mine["comments"]] == [ERASED]
    assert mine["attachments"] == [] and mine["messages"] == []
    theirs = cli.json("tickets", "show", dave_ticket)
    assert theirs["subject"] == "Dave's export problem"
    assert [c["body"] for c in theirs["comments"]] == ["Dave here, the export fails.", ERASED]
    assert [a["filename"] for a in theirs["attachments"]] == ["manual.pdf"]
    assert _blob(tmp_path, SHARED).exists()  # Dave's ticket still names it
    assert not _blob(tmp_path, OWN).exists()

    everything = _everything(db_url)
    for gone in (CAROL, "Elm Street", "Carol's private trouble"):
        assert gone not in everything, [row for row in everything.splitlines() if gone in row]
    engine = create_engine(db_url)
    with engine.connect() as conn:
        [details] = conn.execute(
            text("SELECT details FROM audit_events WHERE action = 'contact_forgotten'")
        ).scalars()
    engine.dispose()
    details = json.loads(details) if isinstance(details, str) else details
    assert details["address_hash"] == address_hash(KEY, CAROL)


def test_forget_asks_without_yes(tmp_path: Path, sqlite_url: str) -> None:
    cli = _cli(tmp_path, sqlite_url)
    result = cli.run("contacts", "forget", CAROL, check=False)
    assert result.returncode == 2
    assert b"pass --yes" in result.stderr


def test_retention_erases_old_closed_tickets(tmp_path: Path, sqlite_url: str) -> None:
    cli = _cli(tmp_path, sqlite_url, retention_days=30)
    closed = cli.json("ingest", "-", stdin=mail(subject="Old closed one"))["ticket"]
    still_open = cli.json("ingest", "-", stdin=mail(subject="Still open"))["ticket"]
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE tickets SET status = 'closed' WHERE id = :id"),
            {"id": int(closed.split("-")[1])},
        )
    engine.dispose()
    sweep = json.loads(cli.run("sweep", "--now", "2099-01-01T00:00:00Z").stdout)
    assert sweep["retention_erased"] == 1
    assert cli.json("tickets", "show", closed)["subject"] == ERASED_BY_RETENTION
    assert cli.json("tickets", "show", still_open)["subject"] == "Still open"
    again = json.loads(cli.run("sweep", "--now", "2099-01-02T00:00:00Z").stdout)
    assert again["retention_erased"] == 0
