"""The IMAP poller against a real Dovecot: spool, move, cursor, UIDVALIDITY, IDLE, restarts."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from ingest.listen.imap import ImapAccount, ImapPoller, PollSettings
from ingest.listen.imap_cursor import MemoryCursorStore
from ingest.listen.imap_message import envelope_recipients, return_path
from ingest.listen.imap_settings import Backoff
from ingest.spool.queue import Spool, SpoolEntry
from tests.dovecot import DovecotServer, client_tls_context, free_port

FIXED_NOW = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
FAST = PollSettings(
    poll_interval=0.2,
    idle_timeout=30,
    idle_check_slice=0.2,
    batch_size=2,
    socket_timeout=10,
    backoff=Backoff(initial=0.05, maximum=0.5, jitter=0),
)


def message(n: int, extra: str = "") -> bytes:
    """A small unique RFC 5322 message."""
    return (
        f"From: Customer {n} <c{n}@customer.example>\r\n{extra}"
        f"Subject: question {n}\r\nMessage-ID: <m{n}.{time.time_ns()}@customer.example>\r\n"
        f"\r\nBody of message {n}\r\n"
    ).encode()


@dataclass
class Mailbox:
    """One fresh Dovecot user with a poller wired to a spool and a memory cursor store."""

    server: DovecotServer
    user: str
    password: str
    account: ImapAccount
    spool: Spool
    cursors: MemoryCursorStore
    spooled: threading.Event

    def poller(self, **kwargs: Any) -> ImapPoller:
        options: dict[str, Any] = {
            "settings": FAST,
            "clock": lambda: FIXED_NOW,
            "on_spooled": self.spooled.set,
            **kwargs,
        }
        return ImapPoller(self.account, self.spool, self.cursors, **options)

    def append(self, *raws: bytes, folder: str = "INBOX") -> None:
        client = self.server.client(self.user, self.password)
        try:
            for raw in raws:
                client.append(folder, raw)
        finally:
            client.logout()

    def uids(self, folder: str) -> list[int]:
        client = self.server.client(self.user, self.password)
        try:
            client.select_folder(folder)
            return sorted(client.search(["NOT", "DELETED"]))
        finally:
            client.logout()

    def drain(self) -> list[tuple[SpoolEntry, bytes]]:
        found = []
        while (entry := self.spool.claim()) is not None:
            found.append((entry, self.spool.read(entry)))
        return found


@pytest.fixture
def mailbox(dovecot: DovecotServer, tmp_path: Path) -> Mailbox:
    user, password = dovecot.add_user()
    account = ImapAccount(
        host=dovecot.host,
        port=dovecot.port,
        tls=False,
        username=user,
        password=password,
        processed_mailbox="Processed",
        key=user,
    )
    return Mailbox(
        dovecot,
        user,
        password,
        account,
        Spool(tmp_path / "spool"),
        MemoryCursorStore(),
        threading.Event(),
    )


@pytest.fixture
def running() -> Iterator[list[tuple[ImapPoller, threading.Event, threading.Thread]]]:
    """Pollers started by a test run in threads; all are stopped (bounded) at the end."""
    started: list[tuple[ImapPoller, threading.Event, threading.Thread]] = []
    yield started
    for _, stop, _ in started:
        stop.set()
    for _, _, thread in started:
        thread.join(timeout=30)
        assert not thread.is_alive()


def start(
    poller: ImapPoller, running: list[tuple[ImapPoller, threading.Event, threading.Thread]]
) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    running.append((poller, stop, thread))
    thread.start()


def test_messages_are_spooled_moved_and_the_cursor_saved(mailbox: Mailbox) -> None:
    raws = [
        message(1, "Delivered-To: support@example.com\r\nTo: x@example.org\r\n"),
        message(2, "To: Support <support+SUP-7.abc@example.com>, other@example.org\r\n"),
        message(3),
    ]
    mailbox.append(*raws)
    poller = mailbox.poller()
    try:
        assert poller.run_once() == 3
        assert poller.run_once() == 0
    finally:
        poller.close()
    entries = mailbox.drain()
    assert [raw for _, raw in entries] == raws
    assert [entry.rcpts for entry, _ in entries] == [
        ("support@example.com",),
        ("support+SUP-7.abc@example.com", "other@example.org"),
        (),
    ]
    assert {entry.source for entry, _ in entries} == {f"imap:{mailbox.user}"}
    assert mailbox.uids("INBOX") == []
    assert len(mailbox.uids("Processed")) == 3
    cursor = mailbox.cursors.load(mailbox.user)
    assert cursor is not None and cursor.last_uid == 3
    assert poller.last_success_at == FIXED_NOW and poller.error_count == 0
    assert mailbox.spooled.is_set() and poller.spooled_count == 3


class NoMoveClient(IMAPClient):  # type: ignore[misc]
    """A client that pretends the server lacks MOVE, to exercise COPY + EXPUNGE."""

    def has_capability(self, capability: str) -> bool:
        return capability.upper() != "MOVE" and bool(super().has_capability(capability))


def test_copy_and_expunge_where_move_is_missing(mailbox: Mailbox) -> None:
    mailbox.append(message(1), message(2), message(3))
    poller = mailbox.poller(client_factory=NoMoveClient)
    try:
        assert poller.run_once() == 3
    finally:
        poller.close()
    assert mailbox.uids("INBOX") == []
    assert len(mailbox.uids("Processed")) == 3
    assert len(mailbox.drain()) == 3


def test_spool_failure_mid_batch_keeps_the_rest_for_the_next_cycle(mailbox: Mailbox) -> None:
    mailbox.append(message(1), message(2), message(3))
    real_put = mailbox.spool.put
    calls = 0

    def failing_second(raw: bytes, **kwargs: Any) -> SpoolEntry:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(28, "No space left on device")
        return real_put(raw, **kwargs)

    mailbox.spool.put = failing_second  # type: ignore[method-assign]
    poller = mailbox.poller()
    try:
        with pytest.raises(OSError):
            poller.run_once()
        assert len(mailbox.uids("Processed")) == 1  # the first was spooled, so it moved
        cursor = mailbox.cursors.load(mailbox.user)
        assert cursor is not None and cursor.last_uid == 1
        assert poller.run_once() == 2
    finally:
        poller.close()
    assert len(mailbox.drain()) == 3
    assert mailbox.uids("INBOX") == []


def test_uidvalidity_change_rescans_without_losing_mail(mailbox: Mailbox) -> None:
    mailbox.append(message(1), message(2), message(3))
    poller = mailbox.poller()
    try:
        assert poller.run_once() == 3
        mailbox.append(message(4), message(5))  # UIDs 4 and 5, not yet fetched
        mailbox.server.reset_uidvalidity(mailbox.user)  # now UIDs 1 and 2, below the cursor
        assert poller.run_once() == 2
    finally:
        poller.close()
    assert poller.uidvalidity_resets == 1
    bodies = sorted(raw.split(b"\r\n\r\n", 1)[1] for _, raw in mailbox.drain())
    assert bodies == [f"Body of message {n}\r\n".encode() for n in range(1, 6)]


def test_uidvalidity_change_without_moving_yields_counted_duplicates(mailbox: Mailbox) -> None:
    mailbox.account = replace(mailbox.account, processed_mailbox=None)
    mailbox.append(message(1), message(2))
    poller = mailbox.poller()
    try:
        assert poller.run_once() == 2
        assert poller.run_once() == 0  # the cursor alone keeps them from being re-read
        mailbox.server.reset_uidvalidity(mailbox.user)
        mailbox.append(message(3))
        assert poller.run_once() == 3
    finally:
        poller.close()
    ids = [raw.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0] for _, raw in mailbox.drain()]
    assert len(ids) == 5 and len(set(ids)) == 3  # two duplicates, for dedupe downstream
    assert len(mailbox.uids("INBOX")) == 3


def test_idle_delivers_a_new_message_within_seconds(mailbox: Mailbox, running: list[Any]) -> None:
    poller = mailbox.poller()
    start(poller, running)
    assert poller.idling.wait(timeout=15), "poller never entered IDLE"
    sent = time.monotonic()
    mailbox.append(message(1))
    assert mailbox.spooled.wait(timeout=5), "IDLE did not deliver within 5 s"
    latency = time.monotonic() - sent
    assert latency < 5
    [(_, raw)] = mailbox.drain()
    assert b"Body of message 1" in raw


def test_mail_arriving_mid_cycle_is_fetched_without_waiting_for_idle(
    mailbox: Mailbox, running: list[Any]
) -> None:
    mailbox.append(message(1))
    real_put = mailbox.spool.put
    second = threading.Event()

    def put_then_deliver(raw: bytes, **kwargs: Any) -> SpoolEntry:
        entry = real_put(raw, **kwargs)
        if b"message 1" in raw:
            mailbox.append(message(2))  # lands after SEARCH, reported inside a later reply
        else:
            second.set()
        return entry

    mailbox.spool.put = put_then_deliver  # type: ignore[method-assign]
    poller = mailbox.poller(settings=replace(FAST, idle_timeout=600))
    start(poller, running)
    assert second.wait(timeout=10), "mail that arrived mid-cycle waited for the IDLE timeout"
    assert len(mailbox.drain()) == 2


def test_poll_mode_without_idle(mailbox: Mailbox, running: list[Any]) -> None:
    mailbox.account = replace(mailbox.account, idle=False)
    poller = mailbox.poller()
    start(poller, running)
    mailbox.append(message(1))
    assert mailbox.spooled.wait(timeout=10)
    assert not poller.idling.is_set()
    assert len(mailbox.drain()) == 1


def test_dovecot_restart_is_survived(mailbox: Mailbox, running: list[Any]) -> None:
    poller = mailbox.poller()
    start(poller, running)
    assert poller.idling.wait(timeout=15)
    mailbox.server.restart()
    mailbox.append(message(1))
    assert mailbox.spooled.wait(timeout=20), mailbox.server.log_tail()
    assert poller.connect_count >= 2
    assert len(mailbox.drain()) == 1


@pytest.mark.parametrize("starttls", [False, True], ids=["implicit-tls", "starttls"])
def test_tls_connections_verify_the_server(mailbox: Mailbox, starttls: bool) -> None:
    server = mailbox.server
    port = server.port if starttls else server.tls_port
    mailbox.account = replace(mailbox.account, tls=True, port=port, starttls=starttls)
    mailbox.append(message(1))
    poller = mailbox.poller(ssl_context=client_tls_context(server.cert_path))
    try:
        assert poller.run_once() == 1
        assert poller._client is not None and poller._client.socket().version() in (
            "TLSv1.2",
            "TLSv1.3",
        )
    finally:
        poller.close()
    untrusted = mailbox.poller()  # system CAs only: the self-signed certificate is refused
    with pytest.raises(ssl.SSLCertVerificationError):
        untrusted.run_once()
    assert len(mailbox.drain()) == 1


class RecordingStop(threading.Event):
    """A stop event that records each backoff wait and stops after ``limit`` of them."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        if len(self.waits) >= self.limit:
            self.set()
        return self.is_set()


def test_failures_back_off_exponentially_up_to_the_cap(mailbox: Mailbox) -> None:
    mailbox.account = replace(mailbox.account, port=free_port())  # nothing listens there
    poller = mailbox.poller()
    stop = RecordingStop(limit=6)
    poller.run(stop)
    assert stop.waits == [0.05, 0.1, 0.2, 0.4, 0.5, 0.5]
    assert poller.error_count == 6 and poller.last_error == "ConnectionRefusedError"
    assert poller.last_success_at is None and poller.connect_count == 0


def test_wrong_password_is_an_error_that_never_logs_the_password(
    mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    mailbox.account = replace(mailbox.account, password="wrong-password-xyz")
    poller = mailbox.poller()
    stop = RecordingStop(limit=1)
    poller.run(stop)
    assert poller.error_count == 1 and poller.last_error == "LoginFailed"
    assert poller.login_failures == 1 and poller.login_failing_since == FIXED_NOW
    assert "AUTHENTICATIONFAILED" in caplog.text
    assert "wrong-password-xyz" not in caplog.text and "wrong-password-xyz" not in repr(
        mailbox.account
    )


def test_backoff_jitter_stays_bounded() -> None:
    backoff = Backoff(initial=1, maximum=60, jitter=0.1)
    delays = [backoff.delay(n) for n in range(1, 200)]
    assert all(1 <= d <= 66 for d in delays)
    assert Backoff(jitter=0).delay(1) == 1.0


def test_envelope_recipients_order_of_preference() -> None:
    assert envelope_recipients(b"To: a@x.example\r\nX-Original-To: b@x.example\r\n\r\n") == (
        "b@x.example",
    )
    assert envelope_recipients(b"Delivered-To: c@x.example\r\nTo: a@x.example\r\n\r\n") == (
        "c@x.example",
    )
    assert envelope_recipients(b"To: undisclosed-recipients:;\r\n\r\n") == ()
    assert envelope_recipients(b"\xff\xfe garbage") == ()


def test_return_path_gives_the_envelope_sender() -> None:
    assert return_path(b"Return-Path: <bounce@x.example>\r\nTo: a@x.example\r\n\r\n") == (
        "bounce@x.example"
    )
    assert return_path(b"Return-Path: <>\r\n\r\n") == ""
    assert return_path(b"To: a@x.example\r\n\r\n") == ""
