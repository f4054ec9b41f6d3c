"""The LMTP listener over real sockets (unix and TCP): one reply per recipient, 250 only once
the mail is spooled, 451 while the spool cannot be written, and one ticket after the retry."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ingest.listen.lmtp import (
    LmtpAddress,
    LmtpHandler,
    parse_listen,
    remove_socket,
    start_lmtp_server,
)
from ingest.listen.smtp import REPLY_STORAGE_FAILURE, support_address_matcher
from ingest.spool.queue import Spool
from ingest.worker import SpoolWorker
from store import inbound, tickets
from store.schema import InboundMessageRow
from tests.db_fixtures import db_url  # noqa: F401 - fixture
from tests.helpers import mail, make_app

T = TypeVar("T")
SUPPORT = ["support@desk.example", "billing@desk.example"]
RAW = mail(to="support@desk.example", message_id="<lmtp-1@acme.example>").replace(b"\n", b"\r\n")


def _handler(spool: Spool, **kwargs: Any) -> LmtpHandler:
    options: dict[str, Any] = {"max_message_bytes": 20_000, "max_recipients": 3, **kwargs}
    return LmtpHandler(spool, support_address_matcher(SUPPORT), **options)


def _serve(handler: LmtpHandler, address: LmtpAddress, client: Callable[[str, int], T]) -> T:
    """The listener in an asyncio loop, the blocking smtplib.LMTP client in a thread; the
    client gets (host or socket path, port)."""

    async def main() -> T:
        server = await start_lmtp_server(handler, address, hostname="localhost")
        if address.socket_path is not None:
            where: tuple[str, int] = (str(address.socket_path), 0)
        else:
            where = (address.host, server.sockets[0].getsockname()[1])
        try:
            return await asyncio.wait_for(asyncio.to_thread(client, *where), timeout=60)
        finally:
            server.close()
            await server.wait_closed()
            remove_socket(address)

    return asyncio.run(main())


def _connect(host: str, port: int) -> smtplib.LMTP:
    lmtp = smtplib.LMTP(host, port) if port else smtplib.LMTP(host)
    lmtp.ehlo()  # LHLO
    return lmtp


def _deliver(lmtp: smtplib.LMTP, rcpts: list[str], raw: bytes) -> list[tuple[int, bytes]]:
    """MAIL, RCPT each, DATA: every reply after DATA (one per accepted recipient)."""
    lmtp.mail("carol@acme.example")
    accepted = [r for r in rcpts if lmtp.rcpt(r)[0] == 250]
    replies = [lmtp.data(raw)]
    replies += [lmtp.getreply() for _ in accepted[1:]]
    return replies


@pytest.fixture
def short_tmp() -> Any:
    """A short folder for unix sockets (their paths are limited to ~107 bytes)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="pd-lmtp-") as name:
        yield Path(name)


def test_unix_socket_one_reply_per_recipient(tmp_path: Path, short_tmp: Path) -> None:
    spool = Spool(tmp_path / "spool")
    address = parse_listen(f"unix:{short_tmp / 'lmtp.sock'}")

    def client(host: str, port: int) -> tuple[list[tuple[int, bytes]], tuple[int, bytes]]:
        lmtp = _connect(host, port)
        try:
            lmtp.mail("carol@acme.example")
            refused = lmtp.rcpt("stranger@elsewhere.example")
            lmtp.rcpt("support@desk.example")
            lmtp.rcpt("billing+x@desk.example")
            replies = [lmtp.data(RAW), lmtp.getreply()]
            return replies, refused
        finally:
            lmtp.quit()

    replies, refused = _serve(_handler(spool), address, client)
    assert refused[0] == 550
    assert [code for code, _ in replies] == [250, 250]
    assert (short_tmp / "lmtp.sock").exists() is False  # removed on stop
    entry = spool.claim()
    assert entry is not None and spool.claim() is None  # stored once for both recipients
    assert entry.source == "lmtp"
    assert entry.rcpts == ("support@desk.example", "billing+x@desk.example")
    assert spool.read(entry) == RAW


def test_tcp_oversized_mail_gets_552_for_each_recipient(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")

    def client(host: str, port: int) -> list[tuple[int, bytes]]:
        lmtp = _connect(host, port)
        try:
            assert b"SIZE 20000" in (lmtp.ehlo_resp or b"")
            big = RAW + (b"x" * 70 + b"\r\n") * 400
            return _deliver(lmtp, ["support@desk.example", "billing@desk.example"], big)
        finally:
            lmtp.quit()

    replies = _serve(_handler(spool), parse_listen("127.0.0.1:0"), client)
    assert [code for code, _ in replies] == [552, 552]
    assert spool.waiting() == 0


@pytest.mark.parametrize("kind", ["unix", "tcp"])
def test_unwritable_spool_451_then_250_and_one_ticket(
    tmp_path: Path,
    short_tmp: Path,
    db_url: str,  # noqa: F811
    kind: str,
) -> None:
    app = make_app(tmp_path, db_url, desk={"support_addresses": SUPPORT})
    try:
        spool = app.spool
        address = parse_listen(
            f"unix:{short_tmp / 'lmtp.sock'}" if kind == "unix" else "127.0.0.1:0"
        )
        # The spool's queue folder is gone (an unmounted disk): every put fails.
        (spool.root / "tmp").rmdir()

        def client(host: str, port: int) -> list[list[tuple[int, bytes]]]:
            lmtp = _connect(host, port)
            try:
                rcpts = ["support@desk.example", "billing@desk.example"]
                first = _deliver(lmtp, rcpts, RAW)
                (spool.root / "tmp").mkdir(mode=0o700)  # the disk is back
                second = _deliver(lmtp, rcpts, RAW)  # the MTA retries
                return [first, second]
            finally:
                lmtp.quit()

        first, second = _serve(_handler(spool), address, client)
        assert [f"{c} {t.decode()}" for c, t in first] == [REPLY_STORAGE_FAILURE] * 2
        assert [code for code, _ in second] == [250, 250]
        worker = SpoolWorker(spool, app.intake.ingest, app.intake.quarantine_raw)
        worker.drain()
        with app.db.transaction() as session:
            found = tickets.list_tickets(session)
            assert len(found) == 1
            records = inbound.messages_for_ticket(session, found[0].id)
            assert [r.source for r in records] == ["lmtp"]
            assert session.query(InboundMessageRow).count() == 1
    finally:
        app.close()


def test_listen_forms() -> None:
    assert parse_listen("unix:/run/postdesk/lmtp.sock").socket_path == Path(
        "/run/postdesk/lmtp.sock"
    )
    tcp = parse_listen("127.0.0.1:24")
    assert (tcp.host, tcp.port) == ("127.0.0.1", 24)
    for bad in ("lmtp.sock", "unix:relative.sock", "127.0.0.1", "host:99999"):
        with pytest.raises(ValueError, match="expected"):
            parse_listen(bad)


def test_a_file_in_the_way_is_not_removed(short_tmp: Path, tmp_path: Path) -> None:
    blocker = short_tmp / "lmtp.sock"
    blocker.write_text("not a socket")

    async def main() -> None:
        await start_lmtp_server(
            _handler(Spool(tmp_path / "spool")), parse_listen(f"unix:{blocker}")
        )

    with pytest.raises(OSError, match="not a socket"):
        asyncio.run(main())
    assert blocker.read_text() == "not a socket"
