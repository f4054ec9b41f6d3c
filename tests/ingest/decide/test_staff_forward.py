"""A verified staff member forwards a customer's mail: the ticket is the customer's."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from ingest.model import Outcome
from tests.ingest.desk import Desk

INLINE = (
    "Please look after this one, she called us too.\n\nAlice\n\n"
    "---------- Forwarded message ---------\n"
    "From: Dave Customer <dave@acme.example>\n"
    "Date: Mon, 23 Nov 2026 at 08:12\n"
    "Subject: Invoices missing\n"
    "To: Alice <alice@desk.example>\n\n"
    "Hello, since Friday no invoices arrive.\n\nDave\n"
)


@pytest.fixture
def desk(tmp_path: Path, db_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, db_url, desk={"trust_staff_from": True})
    yield d
    d.close()


def test_forwarded_mail_opens_the_customers_ticket_with_the_note_internal(desk: Desk) -> None:
    result = desk.send(
        sender="Alice <alice@desk.example>", subject="Fwd: Invoices missing", body=INLINE
    )
    assert result.outcome is Outcome.CREATED
    assert "forwarded by staff alice@desk.example for dave@acme.example" in result.reason
    ticket = desk.ticket(result.ticket)
    assert ticket["requester"] == "dave@acme.example"
    assert ticket["organisation"] == "Acme"
    public, note = ticket["comments"]
    assert public["public"] and public["author"] == "dave@acme.example"
    assert "since Friday no invoices arrive" in public["body"]
    assert "Please look after this one" not in public["body"]
    assert not note["public"] and note["author"] == "alice@desk.example"
    assert note["body"].startswith("Please look after this one")
    assert [r.recipient for r in desk.outbox("confirmation")] == ["dave@acme.example"]


def test_forward_as_an_attached_message_names_the_customer_from_its_headers(desk: Desk) -> None:
    original = EmailMessage()
    original["From"] = "Dave Customer <dave@acme.example>"
    original["To"] = "alice@desk.example"
    original["Subject"] = "Invoices missing"
    original.set_content("Hello, since Friday no invoices arrive.\n")
    forward = EmailMessage()
    forward["From"] = "Alice <alice@desk.example>"
    forward["To"] = "support@desk.example"
    forward["Subject"] = "Fwd: Invoices missing"
    forward["Message-ID"] = "<fwd-1@desk.example>"
    forward.set_content("See the attached mail.\n")
    forward.add_attachment(original)
    result = desk.ingest(forward.as_bytes())
    assert result.outcome is Outcome.CREATED
    assert desk.ticket(result.ticket)["requester"] == "dave@acme.example"


def test_unverified_staff_forward_stays_the_staff_members_own(
    tmp_path: Path, sqlite_url: str
) -> None:
    desk = Desk(tmp_path, sqlite_url)  # no trust_staff_from, no token, no DMARC pass
    try:
        result = desk.send(
            sender="Alice <alice@desk.example>", subject="Fwd: Invoices missing", body=INLINE
        )
        assert desk.ticket(result.ticket)["requester"] == "alice@desk.example"
    finally:
        desk.close()


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Invoices missing", INLINE),  # not a forward's subject
        ("Fwd: Invoices missing", INLINE.replace("dave@acme.example", "bob@desk.example")),
    ],
)
def test_no_customer_ticket_without_a_forward_of_a_customers_mail(
    desk: Desk, subject: str, body: str
) -> None:
    result = desk.send(sender="Alice <alice@desk.example>", subject=subject, body=body)
    assert desk.ticket(result.ticket)["requester"] == "alice@desk.example"
