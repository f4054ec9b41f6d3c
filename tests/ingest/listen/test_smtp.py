"""The SMTP listener answers 250 only once mail is spooled, over real SMTP on loopback."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ingest.listen.smtp import (
    REPLY_STORAGE_FAILURE,
    SpoolingHandler,
    build_tls_context,
    create_smtp_controller,
    start_smtp_server,
    support_address_matcher,
)
from ingest.spool.queue import PutRequest, Spool, SpoolEntry
from tests.dovecot import self_signed_certificate
from tests.faults import break_spool_directory_fsync

T = TypeVar("T")
SUPPORT = ["support@example.com", "Billing@Example.com"]
RAW = (
    b"From: Alice <alice@customer.example>\r\nTo: support@example.com\r\n"
    b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <abc@customer.example>\r\n\r\n"
    b"Hello,\r\n.leading dot stays\r\nbye\r\n"
)


def _handler(spool: Spool, **kwargs: Any) -> SpoolingHandler:
    options: dict[str, Any] = {"max_message_bytes": 10_000, "max_recipients": 3, **kwargs}
    return SpoolingHandler(spool, support_address_matcher(SUPPORT), **options)


def _serve(handler: SpoolingHandler, client: Callable[[int], T], **server_kwargs: Any) -> T:
    """Run the listener in an asyncio loop and the blocking smtplib client in a thread."""

    async def main() -> T:
        server = await start_smtp_server(
            handler, "127.0.0.1", 0, hostname="localhost", **server_kwargs
        )
        port = server.sockets[0].getsockname()[1]
        try:
            return await asyncio.wait_for(asyncio.to_thread(client, port), timeout=60)
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(main())


def _send(port: int, rcpts: Sequence[str], raw: bytes = RAW) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        return smtp.sendmail("alice@customer.example", list(rcpts), raw)


def _all_entries(spool: Spool) -> list[tuple[SpoolEntry, bytes]]:
    found = []
    while (entry := spool.claim()) is not None:
        found.append((entry, spool.read(entry)))
    return found


def test_accepted_mail_is_in_the_spool_byte_for_byte(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    woken = threading.Event()
    refused = _serve(
        _handler(spool, on_spooled=woken.set),
        lambda port: _send(port, ["support@example.com", "billing@example.com"]),
    )
    assert refused == {}
    assert woken.is_set()
    [(entry, raw)] = _all_entries(spool)
    assert raw == RAW
    assert entry.mail_from == "alice@customer.example"
    assert entry.rcpts == ("support@example.com", "billing@example.com")
    assert entry.source == "smtp"


def test_reply_250_names_the_spool_entry(tmp_path: Path) -> None:
    spool = Spool(tmp_path)

    def client(port: int) -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo()
            smtp.mail("alice@customer.example")
            smtp.rcpt("support@example.com")
            return smtp.data(RAW)

    code, text = _serve(_handler(spool), client)
    [(entry, _)] = _all_entries(spool)
    assert code == 250 and entry.id.encode() in text


def test_plus_address_and_case_are_accepted(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    _serve(_handler(spool), lambda port: _send(port, ["SUPPORT+SUP-1042.k7f3q9@example.com"]))
    [(entry, _)] = _all_entries(spool)
    assert entry.rcpts == ("SUPPORT+SUP-1042.k7f3q9@example.com",)


def test_foreign_recipient_gets_550(tmp_path: Path) -> None:
    spool = Spool(tmp_path)

    def client(port: int) -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo()
            smtp.mail("alice@customer.example")
            return smtp.rcpt("someone@elsewhere.example")

    code, text = _serve(_handler(spool), client)
    assert code == 550 and text.startswith(b"5.1.1")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        _serve(_handler(spool), lambda port: _send(port, ["support@elsewhere.example"]))
    assert spool.depth() == 0


def test_mixed_recipients_keep_only_the_support_address(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    refused = _serve(
        _handler(spool), lambda port: _send(port, ["bob@elsewhere.example", "support@example.com"])
    )
    assert refused["bob@elsewhere.example"][0] == 550
    [(entry, _)] = _all_entries(spool)
    assert entry.rcpts == ("support@example.com",)


def test_too_many_recipients_get_452(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    rcpts = [f"support+{n}@example.com" for n in range(5)]
    refused = _serve(_handler(spool), lambda port: _send(port, rcpts))
    assert sorted(refused) == rcpts[3:] and {code for code, _ in refused.values()} == {452}
    [(entry, _)] = _all_entries(spool)
    assert len(entry.rcpts) == 3


def test_size_is_announced_and_oversized_data_gets_552(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    big = RAW + b"x" * 998 + b"\r\n" + (b"y" * 998 + b"\r\n") * 12

    def client(port: int) -> tuple[int, tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo()
            announced = int(smtp.esmtp_features["size"])
            smtp.mail("alice@customer.example")  # no SIZE= parameter: caught at DATA
            smtp.rcpt("support@example.com")
            return announced, smtp.data(big)

    announced, (code, _) = _serve(_handler(spool), client)
    assert announced == 10_000
    assert code == 552
    assert spool.depth() == 0


def test_declared_size_over_the_limit_is_refused_at_mail_from(tmp_path: Path) -> None:
    spool = Spool(tmp_path)

    def client(port: int) -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo()
            return smtp.mail("alice@customer.example", ["SIZE=20000"])

    code, _ = _serve(_handler(spool), client)
    assert code == 552


def test_storage_failure_answers_451_and_the_retry_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path)
    real_put_many = spool.put_many
    calls = 0

    def failing_once(requests: Sequence[PutRequest]) -> list[SpoolEntry | OSError]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError(28, "No space left on device")
        return real_put_many(requests)

    monkeypatch.setattr(spool, "put_many", failing_once)

    def client(port: int) -> list[tuple[int, bytes]]:
        replies = []
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo()
            for _ in range(2):  # the sending MTA retries after a 4xx
                smtp.mail("alice@customer.example")
                smtp.rcpt("support@example.com")
                replies.append(smtp.data(RAW))
        return replies

    first, second = _serve(_handler(spool), client)
    assert f"{first[0]} {first[1].decode()}" == REPLY_STORAGE_FAILURE
    assert second[0] == 250
    assert [raw for _, raw in _all_entries(spool)] == [RAW]
    assert "OSError" in caplog.text and b"leading dot" not in caplog.text.encode()


def test_unwritable_spool_answers_451(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    # A spool whose queue directory vanished (unmounted disk): put raises FileNotFoundError.
    (tmp_path / "spool" / "tmp").rmdir()

    def client(port: int) -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo()
            smtp.mail("alice@customer.example")
            smtp.rcpt("support@example.com")
            return smtp.data(RAW)

    code, text = _serve(_handler(spool), client)
    assert code == 451 and text.startswith(b"4.3.0")
    assert spool.waiting() == 0


def test_overlong_line_is_refused(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    raw = RAW + b"z" * 1200 + b"\r\n"

    def client(port: int) -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo()
            smtp.mail("alice@customer.example")
            smtp.rcpt("support@example.com")
            return smtp.data(raw)

    code, _ = _serve(_handler(spool, max_message_bytes=100_000), client)
    assert code == 500
    assert spool.depth() == 0


def test_dedicated_executor_keeps_accepting_when_the_default_pool_is_busy(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path)
    release = threading.Event()

    async def main() -> dict[str, tuple[int, bytes]]:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=1))
        blocker = loop.run_in_executor(None, release.wait, 60)  # the default pool is now full
        with ThreadPoolExecutor(max_workers=1) as spool_pool:
            server = await start_smtp_server(
                _handler(spool, executor=spool_pool), "127.0.0.1", 0, hostname="localhost"
            )
            port = server.sockets[0].getsockname()[1]
            result: list[dict[str, tuple[int, bytes]]] = []
            client = threading.Thread(
                target=lambda: result.append(_send(port, ["support@example.com"]))
            )
            client.start()
            for _ in range(1000):  # bounded: 10 s
                if not client.is_alive():
                    break
                await asyncio.sleep(0.01)
            accepted_while_busy = not client.is_alive()
            release.set()
            await blocker
            server.close()
            await server.wait_closed()
            client.join(timeout=30)
        assert accepted_while_busy, "the spool write waited for the busy default executor"
        return result[0]

    assert asyncio.run(main()) == {}
    assert [raw for _, raw in _all_entries(spool)] == [RAW]


def _send_concurrently(port: int, messages: Sequence[bytes]) -> list[tuple[int, bytes]]:
    """Each message in its own session, all sessions at once; the reply to each DATA."""
    replies: list[tuple[int, bytes]] = []
    start = threading.Barrier(len(messages))

    def session(raw: bytes) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo()
            smtp.mail("alice@customer.example")
            smtp.rcpt("support@example.com")
            start.wait(timeout=30)
            replies.append(smtp.data(raw))

    threads = [threading.Thread(target=session, args=(raw,)) for raw in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return replies


def test_concurrent_sessions_all_get_250_and_every_entry_is_complete(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    messages = [RAW + f"message {n}\r\n".encode() * (n + 1) for n in range(16)]
    with ThreadPoolExecutor(max_workers=8) as writers:
        replies = _serve(
            _handler(spool, executor=writers), lambda port: _send_concurrently(port, messages)
        )
    assert [code for code, _ in replies] == [250] * 16
    assert sorted(raw for _, raw in _all_entries(spool)) == sorted(messages)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_failed_directory_fsync_answers_451_to_every_session_and_leaves_no_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path)

    break_spool_directory_fsync(monkeypatch)
    messages = [RAW + f"message {n}\r\n".encode() for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as writers:
        replies = _serve(
            _handler(spool, executor=writers), lambda port: _send_concurrently(port, messages)
        )
    assert [code for code, _ in replies] == [451] * 8
    assert all(text.startswith(b"4.3.0") for _, text in replies)
    assert spool.depth() == 0 and list((tmp_path / "tmp").iterdir()) == []


def test_worker_is_woken_in_the_loop_once_the_messages_are_durable(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    seen: list[tuple[str, int]] = []  # (thread name, messages waiting) at each wake-up

    def on_spooled() -> None:
        seen.append((threading.current_thread().name, spool.waiting()))

    async def main() -> None:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool-writer") as writers:
            handler = _handler(spool, on_spooled=on_spooled, executor=writers)
            server = await start_smtp_server(handler, "127.0.0.1", 0, hostname="localhost")
            port = server.sockets[0].getsockname()[1]
            try:
                for _ in range(3):
                    await asyncio.wait_for(
                        asyncio.to_thread(_send, port, ["support@example.com"]), 60
                    )
            finally:
                server.close()
                await server.wait_closed()

    asyncio.run(main())
    # In the event loop (the wake-up must not block: WorkerProcess.wakeup never does), once
    # per stored group, each time with the messages of the group already in the spool.
    assert [name for name, _ in seen] == ["MainThread"] * 3
    assert [waiting for _, waiting in seen] == [1, 2, 3]


def test_silent_client_is_disconnected_after_the_idle_timeout(tmp_path: Path) -> None:
    spool = Spool(tmp_path)

    def client(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
            banner = sock.recv(1024)
            assert banner.startswith(b"220 ")
            rest = b""
            while chunk := sock.recv(1024):  # ends when the server closes; bounded by timeout
                rest += chunk
            return rest

    assert _serve(_handler(spool), client, idle_timeout_seconds=0.3) == b""


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path)


def test_starttls_delivery(tmp_path: Path) -> None:
    cert_path, key_path = _self_signed(tmp_path)
    spool = Spool(tmp_path / "spool")
    client_context = ssl.create_default_context(cafile=str(cert_path))

    def client(port: int) -> str:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo()
            assert smtp.has_extn("starttls")
            smtp.starttls(context=client_context)
            smtp.ehlo()
            smtp.sendmail("alice@customer.example", ["support@example.com"], RAW)
            sock = smtp.sock
            assert isinstance(sock, ssl.SSLSocket)
            return str(sock.version())

    version = _serve(
        _handler(spool),
        client,
        tls_context=build_tls_context(cert_path, key_path),
        require_starttls=True,
    )
    assert version in ("TLSv1.2", "TLSv1.3")
    assert [raw for _, raw in _all_entries(spool)] == [RAW]


def test_required_starttls_refuses_plain_mail(tmp_path: Path) -> None:
    cert_path, key_path = _self_signed(tmp_path)
    spool = Spool(tmp_path / "spool")

    def client(port: int) -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo()
            return smtp.mail("alice@customer.example")

    code, _ = _serve(
        _handler(spool),
        client,
        tls_context=build_tls_context(cert_path, key_path),
        require_starttls=True,
    )
    assert code == 530


def test_bad_certificate_paths_name_the_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\[smtp\] tls_cert"):
        build_tls_context(tmp_path / "missing.pem", tmp_path / "missing.key")


def test_controller_serves_in_its_own_thread(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = create_smtp_controller(_handler(spool), "127.0.0.1", port, hostname="localhost")
    controller.start()
    try:
        assert _send(port, ["support@example.com"]) == {}
    finally:
        controller.stop()
    assert [raw for _, raw in _all_entries(spool)] == [RAW]


def test_matcher_rules() -> None:
    accepts = support_address_matcher(["support@example.com", "help+desk@example.org"])
    assert accepts("support@example.com") and accepts("Support@EXAMPLE.com")
    assert accepts("support+SUP-1.abc@example.com") and accepts("support+@example.com")
    assert accepts("help+desk@example.org")
    assert not accepts("support@example.org") and not accepts("supportx@example.com")
    assert not accepts("+x@example.com") and not accepts("support") and not accepts("")
    assert not accepts("other+support@example.com")
