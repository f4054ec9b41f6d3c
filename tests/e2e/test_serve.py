"""`postdesk serve` as a user runs it: a real subprocess, real SMTP and HTTP over loopback.

Covers the listeners (250 / 550 / 552, SIZE in EHLO), the daemon (serve, /healthz, /metrics,
SIGTERM, schema check), and the durable points 1-3 of docs/architecture.md: mail accepted while the
database is unreachable becomes a ticket once it is back, and a SIGKILL during a burst loses
no acknowledged message and records none twice.
"""

from __future__ import annotations

import json
import os
import smtplib
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.e2e.serve_helpers import (
    Recorded,
    ServeConfig,
    ServeProcess,
    on_the_wire,
    serve_config,
    wait_until,
)
from tests.helpers import mail as raw_mail

SUPPORT = "support@desk.example"


def mail(**fields: Any) -> bytes:
    """tests.helpers.mail with CRLF line ends, as it travels over SMTP."""
    return on_the_wire(raw_mail(**fields))


NO_FLOOD_LIMITS = {"ingest": {"sender_rate_limit": "off", "domain_rate_limit": "off"}}
DOMAINS = ("acme.example", "globex.example", "initech.example")


@pytest.fixture
def recorded() -> Iterator[list[Recorded]]:
    """Closes every `Recorded` a test opens."""
    opened: list[Recorded] = []
    yield opened
    for probe in opened:
        probe.close()


def _open(recorded: list[Recorded], db_url: str) -> Recorded:
    probe = Recorded(db_url)
    recorded.append(probe)
    return probe


@contextmanager
def _serve(config: ServeConfig) -> Iterator[ServeProcess]:
    """A started daemon, killed on the way out if the test did not stop it."""
    daemon, _ = ServeProcess.start(config)
    try:
        yield daemon
    finally:
        daemon.kill()


def _metric_lines(daemon: ServeProcess) -> list[str]:
    status, body = daemon.http_get("/metrics")
    assert status == 200
    return body.splitlines()


def test_serve_speaks_smtp_and_http_and_stops_on_sigterm(
    tmp_path: Path, db_url: str, recorded: list[Recorded]
) -> None:
    config = serve_config(tmp_path / "desk", db_url, {"smtp": {"max_message_bytes": 20_000}})
    daemon, config = ServeProcess.start(config)
    try:
        probe = _open(recorded, db_url)
        with daemon.smtp() as client:
            assert client.has_extn("size") and client.esmtp_features["size"] == "20000"
            message_id = make_msgid(domain="acme.example")
            refused = client.sendmail(
                "carol@acme.example", [SUPPORT], mail(subject="Exports fail", message_id=message_id)
            )
            assert refused == {}
            with pytest.raises(smtplib.SMTPRecipientsRefused) as foreign:
                client.sendmail("carol@acme.example", ["someone@elsewhere.example"], mail())
            assert foreign.value.recipients["someone@elsewhere.example"][0] == 550
            big = mail(subject="Huge", body="A long log line of an export job.\n" * 1000)
            with pytest.raises(smtplib.SMTPSenderRefused) as announced:  # MAIL FROM SIZE=
                client.sendmail("carol@acme.example", [SUPPORT], big)
            assert announced.value.smtp_code == 552
            client.rset()
            assert client.mail("carol@acme.example")[0] == 250  # no SIZE=: caught at DATA
            assert client.rcpt(SUPPORT)[0] == 250
            assert client.data(big)[0] == 552

        wait_until(lambda: probe.count_inbound() >= 1, timeout=60, what="the ticket")
        (ticket,) = config.cli_json("tickets", "list")
        assert (ticket["subject"], ticket["requester"]) == ("Exports fail", "carol@acme.example")
        shown = config.cli_json("tickets", "show", ticket["number"])
        assert [m["message_id"] for m in shown["messages"]] == [message_id]
        assert probe.ticket_subjects() == ["Exports fail"]  # neither refused mail got in

        status, health = daemon.health()
        assert status == 200 and health["status"] == "ok" and health["database"] == "ok"
        status, answer = daemon.http_get("/api/v1/tickets")  # the REST API is mounted
        assert status == 401 and json.loads(answer)["type"] == "urn:postdesk:problem:unauthorized"
        created = 'postdesk_messages_total{outcome="created"} 1.0'
        wait_until(  # counted just after the commit: poll a moment
            lambda: created in _metric_lines(daemon), timeout=10, what="created in /metrics"
        )

        # Taking mail in goes first: the two workers, and the forkserver and analysing
        # process below the spool worker, run at SCHED_IDLE; multiprocessing's resource
        # tracker keeps the parent's policy.
        policies = {os.SCHED_OTHER: 1, os.SCHED_IDLE: 4}
        wait_until(
            lambda: Counter(map(_policy, daemon.descendants())) == policies,
            timeout=30,
            what="the worker processes at SCHED_IDLE",
        )
        assert _policy(daemon.proc.pid) == os.SCHED_OTHER

        started = time.monotonic()
        assert daemon.terminate(timeout=20) == 0
        assert time.monotonic() - started < 10, "SIGTERM should stop serve within seconds"
        assert "postdesk stopped" in config.log_file.read_text()
    finally:
        daemon.kill()


def test_serve_refuses_an_out_of_date_schema(tmp_path: Path) -> None:
    config = serve_config(tmp_path / "desk", f"sqlite:///{tmp_path / 'empty.db'}", upgrade=False)
    result = config.cli("serve", timeout=60)
    assert result.returncode != 0
    assert "postdesk db upgrade" in result.stderr
    with socket.socket() as sock:  # it never listened
        assert sock.connect_ex(("127.0.0.1", config.smtp_port)) != 0


class CuttableProxy:
    """A loopback TCP proxy to `upstream` that can be cut (listener and connections closed)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        """Listen again (on the same port) and forward new connections."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        """Stop for good (the same as cut)."""
        self.cut()

    def cut(self) -> None:
        """Close the listener and every open connection: the database is now unreachable."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        if listener is not None:
            listener.close()
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by cut()
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            client.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        for sock in (src, dst):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def test_mail_accepted_while_database_is_down_becomes_a_ticket_once(
    tmp_path: Path, pg_url: str, recorded: list[Recorded]
) -> None:
    real = make_url(pg_url)
    proxy = CuttableProxy((real.host or "127.0.0.1", real.port or 5432))
    via_proxy = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    config = serve_config(tmp_path / "desk", via_proxy, NO_FLOOD_LIMITS)
    probe = _open(recorded, pg_url)  # straight to the server, never through the proxy
    subject = f"Sent while the database was down {time.time_ns()}"
    message_id = make_msgid(domain="acme.example")
    with _serve(config) as daemon, closing(proxy):
        assert daemon.health()[0] == 200
        proxy.cut()
        with daemon.smtp() as client:
            assert (
                client.sendmail(
                    "dave@acme.example", [SUPPORT], mail(subject=subject, message_id=message_id)
                )
                == {}
            )  # 250: it is in the spool
        wait_until(lambda: daemon.health()[0] == 503, timeout=30, what="/healthz 503")
        wait_until(
            lambda: "database unavailable" in config.log_file.read_text(),
            timeout=30,
            what="the spool worker to meet the unreachable database",
        )
        status, health = daemon.health()
        assert status == 503 and health["status"] == "unhealthy" and health["spool_depth"] == 1
        assert subject not in probe.ticket_subjects()

        proxy.restore()
        wait_until(lambda: subject in probe.ticket_subjects(), timeout=90, what="the ticket")
        wait_until(lambda: daemon.health()[0] == 200, timeout=30, what="/healthz 200")
        assert daemon.health()[1]["spool_depth"] == 0
        assert probe.ticket_subjects().count(subject) == 1
        (row,) = [row for row in probe.inbound() if row[0] == message_id]
        assert row[1] == "created" and row[2] is not None
        assert daemon.terminate() == 0


def _send_burst(
    port: int, messages: list[tuple[str, str, bytes]], accepted: list[str], failed: list[str]
) -> None:
    """One SMTP session sending `messages` until the first failure (the daemon was killed)."""
    try:
        client = smtplib.SMTP("127.0.0.1", port, timeout=30)
    except OSError:
        failed.extend(mid for mid, _, _ in messages)
        return
    for index, (message_id, sender, raw) in enumerate(messages):
        try:
            client.sendmail(sender, [SUPPORT], raw)
        except (smtplib.SMTPException, OSError):
            failed.extend(mid for mid, _, _ in messages[index:])
            break
        accepted.append(message_id)  # list.append is atomic under the GIL
    client.close()


def _policy(pid: int) -> int | None:
    try:
        return os.sched_getscheduler(pid)
    except (ProcessLookupError, PermissionError):
        return None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_sigkill_under_load_loses_no_acknowledged_mail_and_records_none_twice(
    tmp_path: Path, sqlite_url: str, recorded: list[Recorded]
) -> None:
    config = serve_config(tmp_path / "desk", sqlite_url, NO_FLOOD_LIMITS)
    spool = tmp_path / "desk" / "data" / "spool"
    batches: list[list[tuple[str, str, bytes]]] = [[] for _ in range(4)]
    for n in range(300):
        sender = f"customer{n}@{DOMAINS[n % 3]}"
        message_id = make_msgid(idstring=f"crash{n}", domain=DOMAINS[n % 3])
        raw = mail(sender=sender, subject=f"Crash test {n}", message_id=message_id)
        batches[n % 4].append((message_id, sender, raw))
    accepted: list[str] = []
    failed: list[str] = []
    daemon, config = ServeProcess.start(config)
    try:
        # spool and outbox workers, the pool's forkserver and worker, the resource tracker
        wait_until(lambda: len(daemon.descendants()) >= 5, timeout=60, what="the workers")
        senders = [
            threading.Thread(target=_send_burst, args=(config.smtp_port, b, accepted, failed))
            for b in batches
        ]
        for thread in senders:
            thread.start()
        wait_until(lambda: len(accepted) >= 80, timeout=120, what="80 messages accepted")
        workers = daemon.descendants()
        daemon.kill()
        # every process it started dies with it: none keeps deciding mail beside the
        # restarted daemon, and none is left behind (the pool's forkserver and workers too)
        wait_until(
            lambda: not any(_alive(pid) for pid in workers),
            timeout=30,
            what=f"the worker processes to end: {[p for p in workers if _alive(p)]}",
        )
        for thread in senders:
            thread.join(60)
            assert not thread.is_alive()
    finally:
        daemon.kill()
    assert 80 <= len(accepted) < 300 and len(accepted) + len(failed) == 300
    left_in_spool = sum(1 for sub in ("new", "cur") for _ in (spool / sub).iterdir())
    assert left_in_spool > 0, "the kill should leave work in the spool for the restart"

    probe = _open(recorded, sqlite_url)
    done_before_kill = probe.count_inbound()
    with _serve(config.with_new_ports()) as daemon:
        wait_until(
            lambda: daemon.health()[1]["spool_depth"] == 0, timeout=120, what="the spool to drain"
        )
        assert daemon.terminate() == 0
    rows = probe.inbound()
    ids = [message_id for message_id, _, _ in rows]
    assert len(rows) > done_before_kill
    assert len(ids) == len(set(ids)), "a message was recorded twice"
    by_id = {message_id: (outcome, ticket) for message_id, outcome, ticket in rows}
    lost = [message_id for message_id in accepted if message_id not in by_id]
    assert lost == [], f"{len(lost)} acknowledged message(s) lost"
    assert all(by_id[m][0] == "created" and by_id[m][1] is not None for m in accepted)
    assert set(ids) <= set(accepted) | set(failed)
    subjects = probe.ticket_subjects()
    assert len(subjects) == len(set(subjects)) == len(rows), "a message became two tickets"
