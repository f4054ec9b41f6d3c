"""Provider inbound webhooks under a real uvicorn server on loopback: for Mailgun, Postmark and
SendGrid a good request is spooled byte for byte before its 200, a bad signature or credentials
gets 401, a replay is refused (Mailgun) or absorbed by the dedupe (one ticket), and a storage
fault answers 503 until the spool is back."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from ingest.listen.mailgun import signature_of
from ingest.listen.providers import InboundEndpoint, inbound_routes
from ingest.spool.queue import Spool, SpoolEntry
from ingest.worker import SpoolWorker
from store import tickets
from store.clock import utcnow
from tests.helpers import mail, make_app

SIGNING_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
USER, PASSWORD = "postdesk", "s3cret-basic-pass"
RAW = (
    mail(to="support@desk.example", message_id="<hook-1@acme.example>").replace(b"\n", b"\r\n")
    + "Grüße\r\n".encode()
)  # 8-bit bytes must arrive unchanged

ENDPOINTS = [
    InboundEndpoint("mailgun", "/inbound/mailgun-mime", signing_key=SIGNING_KEY),
    InboundEndpoint("postmark", "/inbound/postmark", username=USER, password=PASSWORD),
    InboundEndpoint(
        "sendgrid",
        "/inbound/sendgrid",
        username=USER,
        password=PASSWORD,
        allowed_recipients=("support@desk.example",),
    ),
]


class Server:
    """A uvicorn server on a loopback port, in a thread, serving the webhook routes."""

    def __init__(self, spool: Spool, endpoints: list[InboundEndpoint]) -> None:
        self.woken = 0
        app = Starlette(
            routes=inbound_routes(endpoints, spool, max_message_bytes=50_000, on_spooled=self._wake)
        )
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def _wake(self) -> None:
        self.woken += 1

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool")


@pytest.fixture
def server(spool: Spool) -> Iterator[Server]:
    with Server(spool, ENDPOINTS) as running:
        yield running


def _entries(spool: Spool) -> list[tuple[SpoolEntry, bytes]]:
    found = []
    while (entry := spool.claim()) is not None:
        found.append((entry, spool.read(entry)))
    return found


def _mailgun(
    raw: bytes = RAW,
    *,
    timestamp: int | None = None,
    token: str | None = None,
    key: str = SIGNING_KEY,
) -> dict[str, Any]:
    stamp = str(timestamp if timestamp is not None else int(utcnow().timestamp()))
    token = token or uuid.uuid4().hex + uuid.uuid4().hex[:18]
    fields = {
        "timestamp": stamp,
        "token": token,
        "signature": signature_of(key, stamp, token),
        "recipient": "support@desk.example",
        "sender": "carol@acme.example",
    }
    return {"data": fields, "files": {"body-mime": ("message.mime", raw)}}


def _auth(user: str = USER, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _postmark(raw: bytes = RAW) -> bytes:
    return json.dumps(
        {
            "From": "carol@acme.example",
            "OriginalRecipient": "support@desk.example",
            "RawEmail": raw.decode("utf-8"),
        }
    ).encode()


def _sendgrid(raw: bytes = RAW, to: str = "support@desk.example") -> dict[str, Any]:
    envelope = json.dumps({"to": [to], "from": "carol@acme.example"})
    return {"data": {"envelope": envelope, "charsets": "{}"}, "files": {"email": (None, raw)}}


def _post(
    server: Server, provider: str, *, good_auth: bool = True, **kwargs: Any
) -> httpx.Response:
    path = {e.provider: e.path for e in ENDPOINTS}[provider]
    headers = kwargs.pop("headers", {})
    if provider != "mailgun" and good_auth:
        headers = {**_auth(), **headers}
    return httpx.post(server.url + path, headers=headers, timeout=30, **kwargs)


# --- Mailgun -------------------------------------------------------------------------------


def test_mailgun_good_request_is_spooled_before_200(server: Server, spool: Spool) -> None:
    response = _post(server, "mailgun", **_mailgun())
    assert response.status_code == 200, response.text
    [(entry, raw)] = _entries(spool)
    assert raw == RAW and entry.source == "mailgun"
    assert entry.rcpts == ("support@desk.example",) and entry.mail_from == "carol@acme.example"
    assert response.json()["id"] == entry.id and server.woken == 1


def test_mailgun_urlencoded_form_is_read_too(server: Server, spool: Spool) -> None:
    form = _mailgun()
    response = _post(server, "mailgun", data={**form["data"], "body-mime": RAW.decode()})
    assert response.status_code == 200
    assert [raw for _, raw in _entries(spool)] == [RAW]


def test_mailgun_bad_signature_is_401(server: Server, spool: Spool) -> None:
    assert _post(server, "mailgun", **_mailgun(key="key-wrong")).status_code == 401
    form = _mailgun()
    form["data"]["token"] = "x" + form["data"]["token"][1:]  # signed for another token
    assert _post(server, "mailgun", **form).status_code == 401
    unsigned = _mailgun()
    del unsigned["data"]["signature"]
    assert _post(server, "mailgun", **unsigned).status_code == 401
    assert spool.waiting() == 0


def test_mailgun_replayed_token_and_old_timestamp_are_refused(server: Server, spool: Spool) -> None:
    form = _mailgun()
    assert _post(server, "mailgun", **form).status_code == 200
    replay = _post(server, "mailgun", **form)
    assert replay.status_code == 403 and "replay" in replay.json()["reason"]
    old = _mailgun(timestamp=int(utcnow().timestamp()) - 3600)
    assert _post(server, "mailgun", **old).status_code == 401
    assert len(_entries(spool)) == 1


def test_mailgun_storage_fault_is_503_and_the_retry_is_taken(server: Server, spool: Spool) -> None:
    (spool.root / "tmp").rmdir()  # the spool cannot be written
    form = _mailgun()
    failed = _post(server, "mailgun", **form)
    assert failed.status_code == 503 and failed.headers["retry-after"]
    assert spool.waiting() == 0
    (spool.root / "tmp").mkdir(mode=0o700)
    # Mailgun retries the same signed request: its token was not spent by the failure.
    assert _post(server, "mailgun", **form).status_code == 200
    assert [raw for _, raw in _entries(spool)] == [RAW]


def test_mailgun_without_body_mime_is_406(server: Server, spool: Spool) -> None:
    form = _mailgun()
    response = _post(server, "mailgun", data={**form["data"], "body-plain": "hello"})
    assert response.status_code == 406 and "mime" in response.json()["reason"]


# --- Postmark ------------------------------------------------------------------------------


def test_postmark_good_request_is_spooled(server: Server, spool: Spool) -> None:
    response = _post(
        server, "postmark", content=_postmark(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    [(entry, raw)] = _entries(spool)
    assert raw == RAW and entry.source == "postmark"
    assert entry.rcpts == ("support@desk.example",)


def test_postmark_bad_credentials_are_401_with_a_challenge(server: Server, spool: Spool) -> None:
    wrong = _post(
        server, "postmark", good_auth=False, content=_postmark(), headers=_auth(password="guess")
    )
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Basic")
    assert _post(server, "postmark", good_auth=False, content=_postmark()).status_code == 401
    assert spool.waiting() == 0


def test_postmark_without_raw_email_is_403(server: Server) -> None:
    body = json.dumps({"From": "carol@acme.example", "TextBody": "hi"}).encode()
    response = _post(server, "postmark", content=body)
    assert response.status_code == 403 and "RawEmail" in response.json()["reason"]


def test_postmark_storage_fault_is_503_then_200(server: Server, spool: Spool) -> None:
    (spool.root / "tmp").rmdir()
    assert _post(server, "postmark", content=_postmark()).status_code == 503
    (spool.root / "tmp").mkdir(mode=0o700)
    assert _post(server, "postmark", content=_postmark()).status_code == 200
    assert [raw for _, raw in _entries(spool)] == [RAW]


# --- SendGrid ------------------------------------------------------------------------------


def test_sendgrid_good_request_is_spooled(server: Server, spool: Spool) -> None:
    response = _post(server, "sendgrid", **_sendgrid())
    assert response.status_code == 200, response.text
    [(entry, raw)] = _entries(spool)
    assert raw == RAW and entry.source == "sendgrid"
    assert entry.rcpts == ("support@desk.example",) and entry.mail_from == "carol@acme.example"


def test_sendgrid_bad_credentials_and_foreign_recipient_are_refused(
    server: Server, spool: Spool
) -> None:
    wrong = _post(server, "sendgrid", good_auth=False, headers=_auth(user="someone"), **_sendgrid())
    assert wrong.status_code == 401
    foreign = _post(server, "sendgrid", **_sendgrid(to="sales@desk.example"))
    assert foreign.status_code == 400 and "allowed_recipients" in foreign.json()["reason"]
    assert spool.waiting() == 0


def test_sendgrid_storage_fault_is_503_then_200(server: Server, spool: Spool) -> None:
    (spool.root / "tmp").rmdir()
    assert _post(server, "sendgrid", **_sendgrid()).status_code == 503
    (spool.root / "tmp").mkdir(mode=0o700)
    assert _post(server, "sendgrid", **_sendgrid()).status_code == 200
    assert len(_entries(spool)) == 1


def test_oversized_message_is_refused_unstored(server: Server, spool: Spool) -> None:
    big = RAW + b"x" * 60_000 + b"\r\n"
    assert _post(server, "sendgrid", **_sendgrid(raw=big)).status_code == 400
    assert _post(server, "mailgun", **_mailgun(raw=big)).status_code == 406
    assert spool.waiting() == 0


# --- Through the pipeline: replays of basic-auth posts are absorbed by the dedupe -----------


def test_each_provider_replayed_post_makes_one_ticket(tmp_path: Path, sqlite_url: str) -> None:
    app = make_app(tmp_path, sqlite_url, desk={"support_addresses": ["support@desk.example"]})
    try:
        with Server(app.spool, ENDPOINTS) as running:
            for _ in range(2):  # the provider posts the same mail twice
                assert _post(running, "postmark", content=_postmark()).status_code == 200
                assert _post(running, "sendgrid", **_sendgrid()).status_code == 200
                assert _post(running, "mailgun", **_mailgun()).status_code == 200
        SpoolWorker(app.spool, app.intake.ingest, app.intake.quarantine_raw).drain()
        with app.db.transaction() as session:
            found = tickets.list_tickets(session)
        assert len(found) == 1
    finally:
        app.close()


def test_mailgun_timestamp_must_be_whole_seconds(server: Server, spool: Spool) -> None:
    for stamp in ("nan", "1e12", "-5"):
        token = uuid.uuid4().hex
        form = _mailgun()
        form["data"].update(
            timestamp=stamp, token=token, signature=signature_of(SIGNING_KEY, stamp, token)
        )
        assert _post(server, "mailgun", **form).status_code == 401, stamp
    assert spool.waiting() == 0
