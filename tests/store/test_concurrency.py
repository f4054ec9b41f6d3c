"""Ticket numbers are allocated by the database: two processes at once, no duplicate, no gap."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from store import directory
from store.db import Database
from store.schema import TicketRow
from tests.conftest import REPO_ROOT

PER_PROCESS = 200


def test_two_processes_create_200_tickets_each(db_url: str, tmp_path: Path) -> None:
    database = Database(db_url)
    with database.transaction() as session:
        contact = directory.create_contact(
            session, "load@acme.example", "", None, datetime.now(UTC)
        )
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.store.ticket_writer",
                db_url,
                str(contact.id),
                str(PER_PROCESS),
                str(go),
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    go.touch()
    outputs = [w.communicate(timeout=240) for w in writers]
    for writer, (_, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err[-2000:]
    reported = [n for out, _ in outputs for n in out.split()]
    with database.transaction() as session:
        stored = sorted(session.scalars(select(TicketRow.id)))
    database.dispose()
    assert len(reported) == len(set(reported)) == 2 * PER_PROCESS
    assert stored == list(range(1001, 1001 + 2 * PER_PROCESS))
    assert sorted(int(n.split("-")[1]) for n in reported) == stored
