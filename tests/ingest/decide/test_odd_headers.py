"""The pipeline with odd headers: mail that used to be quarantined now opens a ticket."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.model import Outcome
from tests.ingest.desk import Desk


@pytest.fixture
def desk(tmp_path: Path, sqlite_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, sqlite_url)
    yield d
    d.close()


def _mail(head: bytes, body: bytes = b"My printer is broken.\r\n") -> bytes:
    return (
        head + b"To: support@desk.example\r\nMessage-ID: <odd-" + hashlib.sha1(head).hexdigest().encode()
        + b"@acme.example>\r\nDate: Mon, 03 Mar 2025 10:00:00 +0000\r\n\r\n" + body
    )  # fmt: skip


@pytest.mark.parametrize(
    "content_type",
    [b'text/plain; charset="idna"', b'text/plain; charset="utf\x00-8"'],
)
def test_unusable_charset_opens_a_normal_ticket(desk: Desk, content_type: bytes) -> None:
    head = b"From: carol@acme.example\r\nSubject: printer\r\nContent-Type: " + content_type
    result = desk.ingest(_mail(head + b"\r\n", "Grüße, der Drucker".encode()))
    assert result.outcome is Outcome.CREATED, result.reason
    assert result.ticket is not None
    assert desk.ticket(result.ticket)["requester"] == "carol@acme.example"


def test_unusable_from_takes_the_sender_from_reply_to(desk: Desk) -> None:
    head = b"From: carol at acme dot example\r\nReply-To: carol@acme.example\r\nSubject: help\r\n"
    result = desk.ingest(_mail(head))
    assert result.outcome is Outcome.CREATED, result.reason
    assert result.ticket is not None
    assert desk.ticket(result.ticket)["requester"] == "carol@acme.example"


def test_eight_bit_subject_keeps_its_letters(desk: Desk) -> None:
    head = "From: Jürgen <carol@acme.example>\r\nSubject: Grüße aus Köln\r\n".encode("latin-1")
    result = desk.ingest(_mail(head))
    assert result.outcome is Outcome.CREATED, result.reason
    assert result.ticket is not None
    assert desk.ticket(result.ticket)["subject"] == "Grüße aus Köln"
