"""A desk for pipeline tests: the example configuration on a fresh database, a settable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest.model import IngestResult, RawMessage
from postdesk.app import App
from postdesk.cli import views
from store import outbox, tickets
from store.records import OutboxRecord
from tests.helpers import mail, make_app

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Desk:
    """Feeds mail to the pipeline and reads back what it recorded."""

    def __init__(self, tmp_path: Path, db_url: str, **overrides: Any) -> None:
        self.clock = Clock()
        self.app: App = make_app(tmp_path, db_url, clock=self.clock, **overrides)

    def ingest(self, data: bytes, *rcpts: str, dry_run: bool = False) -> IngestResult:
        raw = RawMessage(data=data, rcpts=tuple(rcpts), source="cli", received_at=self.clock.now)
        return self.app.intake.ingest(raw, dry_run=dry_run)

    def send(self, rcpts: tuple[str, ...] = (), **fields: Any) -> IngestResult:
        fields.setdefault("date", self.clock.now)
        return self.ingest(mail(**fields), *rcpts)

    def ticket(self, number: str) -> dict[str, Any]:
        with self.app.db.transaction() as session:
            found = tickets.find_ticket(session, number)
            assert found is not None, number
            return views.ticket_detail(session, found)

    def outbox(self, kind: str | None = None) -> list[OutboxRecord]:
        with self.app.db.transaction() as session:
            rows = outbox.list_rows(session)
        return [r for r in rows if kind is None or r.kind == kind]

    def close(self) -> None:
        self.app.close()
