"""Fixtures for the notify tests: SQLite and PostgreSQL databases, tickets, an SMTP capture server.

PostgreSQL: a fresh, uniquely named database is created per test session from
POSTDESK_TEST_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test) and
dropped afterwards, so parallel runs never collide; tables are emptied between tests.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store.db import Database
from store.directory import (
    StaffSpec,
    create_contact,
    find_contact,
    staff_by_email,
    sync_directory,
)
from store.migrate import upgrade
from store.records import TicketRecord
from store.tickets import NewTicket, create_ticket, update_ticket
from tests.conftest import skip_or_fail

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)  # a Monday
SUPPORT = "support@desk.example"
SECRET = "test-secret-key"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database with the schema, dropped at the end of the session."""
    base = make_url(os.environ.get("POSTDESK_TEST_DATABASE_URL", DEFAULT_PG))
    name = f"postdesk_notify_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure to create it means "no usable server here"
        admin.dispose()
        skip_or_fail(f"PostgreSQL not reachable at {base.render_as_string()}: {exc}")
    url = base.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty(db: Database) -> None:
    with db.engine.begin() as conn:
        tables = (
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    db = Database(pg_url)
    _empty(db)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'postdesk.db'}")
    upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Database:
    """The same test on SQLite and on PostgreSQL."""
    name = "sqlite_db" if request.param == "sqlite" else "pg_db"
    database: Database = request.getfixturevalue(name)
    return database


def make_ticket(
    db: Database,
    *,
    created: datetime = T0,
    priority: str = "urgent",
    requester: str = "alice@customer.example",
    subject: str = "Call recordings missing",
    first_response: timedelta | None = timedelta(hours=1),
    resolution: timedelta | None = timedelta(hours=8),
    assignee: str | None = None,
    **changes: Any,
) -> TicketRecord:
    """A ticket created directly through the store."""
    with db.transaction() as s:
        if assignee:
            sync_directory(s, [], [StaffSpec(assignee.split("@")[0].title(), assignee)], created)
        contact = find_contact(s, requester) or create_contact(s, requester, "Alice", None, created)
        ticket = create_ticket(
            s,
            NewTicket(
                prefix="SUP",
                subject=subject,
                priority=priority,
                category="technical",
                visibility="organisation",
                organisation_id=None,
                requester_id=contact.id,
                support_address=SUPPORT,
                created_at=created,
                first_response_due=created + first_response if first_response else None,
                resolution_due=created + resolution if resolution else None,
            ),
        )
        if assignee:
            staff = staff_by_email(s, assignee)
            assert staff is not None
            changes["assignee_id"] = staff.id
        if changes:
            ticket = update_ticket(s, ticket.id, changes.pop("at", created), **changes)
        return ticket


@dataclass(frozen=True)
class Captured:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes


class CaptureHandler:
    """Records every accepted message; answers DATA with queued replies on demand."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[Captured] = []
        self.data_replies: list[str] = []
        self.rcpt_replies: dict[str, str] = {}
        self.received = threading.Event()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.rcpt_replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            if self.data_replies:
                return self.data_replies.pop(0)
            content = envelope.original_content or b""
            self.messages.append(
                Captured(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(content))
            )
        self.received.set()
        return "250 2.0.0 queued"


class CaptureServer:
    """An aiosmtpd server on 127.0.0.1 (a free port), in its own event-loop thread."""

    def __init__(self) -> None:
        self.handler = CaptureHandler()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0
        self._server: asyncio.base_events.Server | None = None

    def start(self) -> None:
        self.thread.start()

        async def serve() -> asyncio.base_events.Server:
            return await self.loop.create_server(
                lambda: SMTP(self.handler, hostname="relay.test", decode_data=False),
                "127.0.0.1",
                0,
            )

        self._server = asyncio.run_coroutine_threadsafe(serve(), self.loop).result(timeout=30)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


@pytest.fixture
def smtp_server() -> Iterator[CaptureServer]:
    server = CaptureServer()
    server.start()
    yield server
    server.stop()
