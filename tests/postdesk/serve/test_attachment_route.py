"""`GET /attachments/{signed}` under a real uvicorn server on loopback: the bytes for a good
link, a safe Content-Disposition, inert content types, one 404 for everything else."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from postdesk.serve.attachments import attachment_routes, content_disposition, served_type
from store import attachments, tickets
from store.attachment_links import sign
from tests.ingest.desk import Desk

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n%%EOF\n"


@dataclass
class Served:
    base: str
    key: str
    ids: dict[str, int]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stored(desk: Desk, number: str) -> dict[str, int]:
    """Attachment ids of a ticket by file name."""
    with desk.app.db.transaction() as session:
        ticket = tickets.find_ticket(session, number)
        assert ticket is not None
        return {a.filename: a.id for a in attachments.of_ticket(session, ticket.id)}


@pytest.fixture
def served(tmp_path: Path, sqlite_url: str) -> Iterator[Served]:
    desk = Desk(tmp_path, sqlite_url, ingest={"blocked_extensions": ["exe"]})
    created = desk.send(
        attachments=[
            ("report.pdf", "application/pdf", PDF),
            ("évil 'name'.html", "text/html", b"<p>hello</p>"),
            ("gone.txt", "text/plain", b"erased later"),
        ]
    )
    app = desk.app
    ids = _stored(desk, created.ticket)
    app.blobs.path_for(app.blobs.put(b"erased later")).unlink()
    key = app.settings.desk.secret_key
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=attachment_routes(app.db, app.blobs, key, clock=lambda: NOW)),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield Served(f"http://127.0.0.1:{port}", key, ids)
    server.should_exit = True
    thread.join(20)
    desk.close()


def _link(served: Served, name: str, expires: datetime = NOW + timedelta(days=1)) -> str:
    return f"{served.base}/attachments/{sign(served.key, served.ids[name], expires)}"


def test_a_good_link_downloads_the_file(served: Served) -> None:
    response = httpx.get(_link(served, "report.pdf"))
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="report.pdf"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in response.headers["cache-control"]


def test_active_content_downloads_inert_under_a_safe_name(served: Served) -> None:
    response = httpx.get(_link(served, "évil 'name'.html"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="_vil _name_.html"; filename*=UTF-8')
    assert "sandbox" in response.headers["content-security-policy"]


def test_expired_forged_unknown_and_erased_links_answer_the_same_404(served: Served) -> None:
    good = _link(served, "report.pdf")
    bodies = set()
    for url in (
        _link(served, "report.pdf", NOW - timedelta(seconds=1)),
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        f"{served.base}/attachments/{sign(served.key, 999999, NOW + timedelta(days=1))}",
        _link(served, "gone.txt"),
        f"{served.base}/attachments/not-a-link",
    ):
        response = httpx.get(url)
        assert response.status_code == 404, url
        bodies.add(response.content)
    assert bodies == {b"not found\n"}


def test_content_disposition_and_type_helpers() -> None:
    assert content_disposition("../../etc/passwd") == 'attachment; filename="passwd"'
    assert content_disposition("a\r\nb.txt").startswith('attachment; filename="a__b.txt"')
    assert content_disposition("") == 'attachment; filename="attachment"'
    assert served_type("image/png") == "image/png"
    assert served_type("text/plain; charset=utf-8") == "text/plain"
    for active in ("text/html", "image/svg+xml", "application/javascript", "text/xml", "bogus"):
        assert served_type(active) == "application/octet-stream"
