"""Fixtures for the notify tests: SQLite and PostgreSQL databases, tickets, an SMTP capture server.

PostgreSQL is the session's database of `tests.db_fixtures`, emptied before each test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

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
from tests.db_fixtures import empty_database

T0 = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)  # a Monday
SUPPORT = "support@desk.example"
SECRET = "test-secret-key"


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    """The session's PostgreSQL database (tests.db_fixtures), emptied."""
    empty_database(pg_url)
    db = Database(pg_url)
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
    """Records every accepted message; answers DATA with queued replies on demand.

    It also counts connections and can misbehave the way relays do: close a connection after
    a number of mails (421 at the next MAIL FROM), or drop it without an answer at the n-th
    MAIL FROM or the n-th DATA of its life (the message is then not kept). With `hold_at_data`
    set to n, the n-th message is kept but its 250 waits until `release` is set (`holding`
    says it is waiting): a mail the relay has taken whose sender has not yet heard so.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[Captured] = []
        self.data_replies: list[str] = []
        self.rcpt_replies: dict[str, str] = {}
        self.received = threading.Event()
        self.connections = 0  # opened so far
        self.open_connections = 0
        self.mails_per_connection: int | None = None
        self.drop_at_mail: set[int] = set()
        self.drop_in_data: set[int] = set()
        self.hold_at_data: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self._mail_commands = 0
        self._data_commands = 0

    def connected(self) -> None:
        with self.lock:
            self.connections += 1
            self.open_connections += 1

    def disconnected(self) -> None:
        with self.lock:
            self.open_connections -= 1

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            self._mail_commands += 1
            drop = self._mail_commands in self.drop_at_mail
            carried = getattr(session, "mails", 0)
            session.mails = carried + 1  # type: ignore[attr-defined]
        if drop:
            await _hang_up(server)
        if self.mails_per_connection is not None and carried >= self.mails_per_connection:
            server.loop.call_soon(_close, server)
            return "421 4.7.0 relay.test too many messages in this connection, closing"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

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
            self._data_commands += 1
            drop = self._data_commands in self.drop_in_data
        if drop:
            await _hang_up(server)
        with self.lock:
            if self.data_replies:
                return self.data_replies.pop(0)
            content = envelope.original_content or b""
            self.messages.append(
                Captured(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(content))
            )
            hold = self._data_commands == self.hold_at_data
        self.received.set()
        if hold:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        return "250 2.0.0 queued"


def _close(server: SMTP) -> None:
    if server.transport is not None:
        server.transport.close()


async def _hang_up(server: SMTP) -> None:
    """Close the connection without answering (the session's task ends with it)."""
    _close(server)
    await asyncio.get_running_loop().create_future()


class CountingSMTP(SMTP):
    """An aiosmtpd session that tells its `CaptureHandler` when its connection opens and ends."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.transport is None:  # not the STARTTLS upgrade of a connection already counted
            self.event_handler.connected()
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self.event_handler.disconnected()
        super().connection_lost(error)


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
                lambda: CountingSMTP(self.handler, hostname="relay.test", decode_data=False),
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
