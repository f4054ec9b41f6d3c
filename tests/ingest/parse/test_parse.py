"""ingest.parse.message on hand-written fixtures: headers, charsets, HTML, attachments, forwards."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.model import Address
from ingest.parse.html import html_to_text, sanitise_html
from ingest.parse.message import UnparseableMessage, normalise_message_id, parse_message

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "parse"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_plain_headers_are_decoded_and_normalised() -> None:
    parsed = parse_message(load("plain.eml"))
    assert parsed.message_id == "<CAF+Local.Part@mail.example.com>"
    assert parsed.subject == "Überprüfung der Rechnung für Mai"
    assert parsed.sender == Address("Alice Müller", "alice.mueller@example.com")
    assert parsed.to == (
        Address("Support, Desk", "support@desk.example"),
        Address("", "billing@desk.example"),
    )
    assert parsed.cc == (Address("Bob", "bob@example.org"),)
    assert parsed.reply_to == (Address("Alice", "alice.private@example.net"),)
    assert parsed.delivered_to == ("support@desk.example", "billing@desk.example")
    assert parsed.in_reply_to == "<first@desk.example>"
    assert parsed.references == ("<first@desk.example>", "<second@desk.example>")
    assert parsed.date == datetime(2025, 3, 4, 9, 11, 12, tzinfo=UTC)
    assert parsed.text == "Hallo,\ndie Rechnung für Mai ist falsch.\nGrüße\nAlice"
    assert parsed.html is None
    assert parsed.attachments == ()
    assert parsed.defects == ()
    assert parsed.authentication_results == (
        "mx.desk.example; dkim=pass header.d=example.com; dmarc=pass header.from=example.com",
        "other.example; spf=fail smtp.mailfrom=example.com",
    )
    assert isinstance(parsed.message, Message)
    assert parsed.message["Return-Path"] == "<alice@example.com>"


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
def test_crlf_and_cr_only_mail_parse_like_lf(newline: bytes) -> None:
    lf = parse_message(load("plain.eml"))
    other = parse_message(load("plain.eml").replace(b"\n", newline))
    assert other.text == lf.text
    assert "\r" not in other.text
    assert (other.subject, other.sender, other.date) == (lf.subject, lf.sender, lf.date)


def test_alternative_prefers_plain_keeps_sanitised_html_and_collects_attachments() -> None:
    parsed = parse_message(load("alternative.eml"))
    assert parsed.text == "The export page shows an error, see the screenshot."
    html = parsed.html or ""
    assert "<b>error</b>" in html
    assert 'src="cid:shot1@example.com"' in html
    for active in ("<script", "<style", "onload", "onclick", "<iframe", "<object", "javascript:"):
        assert active not in html.lower()
    by_name = {a.filename: a for a in parsed.attachments}
    assert set(by_name) == {
        "image-1.png",
        "export_märz.csv",
        "Rechnung März – final.pdf",
        "evil .exe",
    }
    image = by_name["image-1.png"]
    assert (image.inline, image.content_id, image.content_type) == (
        True,
        "shot1@example.com",
        "image/png",
    )
    assert image.payload == b"\x89PNG\r\n\x1a\n"
    assert by_name["export_märz.csv"].payload == b"id,name\n1,a\n"
    assert by_name["export_märz.csv"].inline is False
    assert by_name["Rechnung März – final.pdf"].content_type == "application/pdf"
    assert by_name["Rechnung März – final.pdf"].payload == b"%PDF-1.4\n"


def test_html_only_mail_becomes_readable_text() -> None:
    parsed = parse_message(load("html_only.eml"))
    assert parsed.text.startswith("Hi team,\n\nI still cannot log in.")
    assert "The error says «invalid token»." in parsed.text
    assert "Details are on the status page.\n" in parsed.text  # links read as their text
    assert "- Browser: Firefox\n- Since: Monday" in parsed.text
    assert "Thanks,\nDave" in parsed.text
    assert "> Please try again." in parsed.text
    assert "> > Older text" in parsed.text
    for noise in ("preheader", "Mail title", "**", "<", ".x{}"):
        assert noise not in parsed.text
    assert parsed.html is not None
    assert "https://status.example.com/incident/42" in parsed.html  # the address stays here
    assert "<title>" not in parsed.html


def test_forwarded_mail_is_shown_in_text_and_its_attachments_stay_inside() -> None:
    parsed = parse_message(load("forwarded.eml"))
    assert parsed.text == (
        "Please look at the mail below from our accountant.\n\n"
        "---------- Forwarded message ----------\n"
        "From: Frank Accountant <frank@accounting.example>\n"
        "Date: Thu, 06 Mar 2025 17:00:00 +0100\n"
        "Subject: Invoice question – March\n"
        "To: Erin <erin@example.com>\n\n"
        "Invoice 4711 was charged twice."
    )
    # the attached mail is one attachment; its own PDF is inside it, as a mail client shows
    [eml] = parsed.attachments
    assert (eml.filename, eml.content_type) == ("Invoice question.eml", "message/rfc822")
    inner = parse_message(eml.payload)
    assert [(a.filename, a.content_type) for a in inner.attachments] == [
        ("invoice-4711.pdf", "application/pdf")
    ]
    assert parsed.message_id == "<fwd.outer@example.com>"


def test_base64_encoded_forward_is_decoded_before_reading() -> None:
    inner = b"From: x@example.com\nSubject: inner\n\nInner text\n"
    raw = (
        b"From: y@example.com\nSubject: outer\nContent-Type: message/rfc822\n"
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(inner)
    )
    parsed = parse_message(raw)
    assert parsed.text == "Inner text"  # nothing of its own: the attached mail is its content
    assert [a.filename for a in parsed.attachments] == ["inner.eml"]
    assert any("transfer encoding 'base64'" in d for d in parsed.defects)


def test_uuencoded_file_in_body_becomes_attachment() -> None:
    parsed = parse_message(load("uuencoded.eml"))
    assert [(a.filename, a.payload) for a in parsed.attachments] == [
        ("hello.txt", b"hello world\n")
    ]
    assert "begin 644" not in parsed.text
    assert parsed.text.endswith("(See attached file: hello.txt)\n\nRegards")


def test_unreadable_from_falls_back_to_sender_and_notes_what_was_broken() -> None:
    parsed = parse_message(load("broken_from.eml"))
    assert parsed.sender == Address("Gina Relay", "gina@relay.example")
    assert parsed.text == "Body of a multipart without a boundary."
    assert parsed.date is None
    assert parsed.message_id == "<bare-id@example.org>"
    notes = " | ".join(parsed.defects)
    for expected in ("taken from Sender", "Date: unreadable", "without parts read as text"):
        assert expected in notes


def test_eight_bit_headers_and_body_without_charset() -> None:
    parsed = parse_message(load("eight_bit_headers.eml"))
    assert parsed.subject == "Drücker überhitzt – bitte helfen"
    assert parsed.sender == Address("Jürgen Groß", "juergen@example.de")
    assert parsed.text == "Der Drucker im Büro ist heiß."
    assert "Subject: raw 8-bit bytes in a header" in parsed.defects


def test_mislabelled_and_unknown_charsets_fall_back_with_notes() -> None:
    parsed = parse_message(load("mislabelled_charsets.eml"))
    assert parsed.text.split("\n\n") == [
        "Teil eins: Grüße",
        "Teil zwei: ärger",
        "Teil drei: café €5",
        "Teil vier: Straße",
        "Teil fünf: été",
    ]
    notes = " | ".join(parsed.defects)
    for label in ("'uft-8'", "'unicode-1-1-utf-7'", "'x-unknown'", "'utf-8' is wrong", "bogus"):
        assert label in notes


def test_rfc2047_character_split_across_encoded_words() -> None:
    euro = "€".encode()
    first = base64.b64encode(b"Preis 5" + euro[:1]).decode()
    second = base64.b64encode(euro[1:]).decode()
    raw = f"From: a@example.com\nSubject: =?utf-8?B?{first}?=\n =?utf-8?B?{second}?=\n\nx\n"
    assert parse_message(raw.encode()).subject == "Preis 5€"


def test_attachment_payload_survives_byte_for_byte() -> None:
    data = os.urandom(150_000)
    mail = EmailMessage()
    mail["From"] = "a@example.com"
    mail["Subject"] = "dump"
    mail.set_content("see attached")
    mail.add_attachment(data, maintype="application", subtype="zip", filename="dump.zip")
    parsed = parse_message(mail.as_bytes())
    assert parsed.text == "see attached"
    assert [(a.filename, a.content_type, a.payload) for a in parsed.attachments] == [
        ("dump.zip", "application/zip", data)
    ]


def test_deep_nesting_is_bounded() -> None:
    depth = 3000
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth)
    )
    raw = b"From: deep@example.com\nSubject: deep\n" + head + b"\nbottom\n"
    parsed = parse_message(raw)
    assert parsed.sender == Address("", "deep@example.com")
    assert any("nested too deeply" in d for d in parsed.defects)


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + b"password=hunter2", "Outlook"),
        (b"", "empty"),
        (b"  \r\n\r\n", "empty"),
        (load("headers_only.eml"), "no readable sender"),
        (b"\x00\x01\x02\x03 hunter2 \x00" * 50, "binary data"),
    ],
)
def test_unusable_input_is_unparseable_and_says_why_without_content(
    raw: bytes, reason: str
) -> None:
    with pytest.raises(UnparseableMessage) as caught:
        parse_message(raw)
    assert reason in str(caught.value)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("<Local.Part@Mail.EXAMPLE.com>", "<Local.Part@mail.example.com>"),
        ("  <a@b.example> (comment here)", "<a@b.example>"),
        ("(c) <x\r\n y@Z.example>", "<xy@z.example>"),
        ("bare@Example.ORG", "<bare@example.org>"),
        ("<no-at-sign>", "<no-at-sign>"),
        ("<>", None),
        ("   ", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_message_id(value: str | None, expected: str | None) -> None:
    assert normalise_message_id(value) == expected


def test_html_to_text_and_sanitiser_directly() -> None:
    html = '<p>a&amp;b</p><p><a href="https://x.example/">https://x.example/</a></p><hr><br>'
    assert html_to_text(html) == "a&b\n\nhttps://x.example/\n\n--------------------"
    links = (
        'before<html><body>Click <a href="https://t.example/r?x=1">here</a> to read'
        '<p><a href="https://t.example/r?x=2"><img src="cid:logo"></a></p>'
        "<table><tr><td><a href='https://t.example/1'>Profile</a></td>"
        "<td><a href='https://t.example/2'>Inbox</a></td></tr></table></body></html>after"
    )
    # links read as their text, an image link as nothing; <html> and <body> break no line
    assert html_to_text(links) == "beforeClick here to read\n\nProfile Inbox\n\nafter"
    assert sanitise_html('<img src="x" onerror="alert(1)"><a href="javascript:x">y</a>') == (
        '<img src="x"><a rel="noopener noreferrer">y</a>'
    )


@settings(
    max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(body=st.binary(max_size=400), header=st.sampled_from(["Content-Type", "Subject", "From"]))
def test_arbitrary_bytes_never_raise_anything_but_unparseable(body: bytes, header: str) -> None:
    raw = b"From: f@example.com\n" + header.encode() + b": " + body[:80] + b"\n\n" + body
    try:
        parsed = parse_message(raw)
    except UnparseableMessage:
        return
    for text in (parsed.text, parsed.subject, *(a.filename for a in parsed.attachments)):
        text.encode("utf-8")  # no lone surrogates reach the store
        assert "\x00" not in text


def test_html_twin_of_plain_part_is_not_repeated_and_only_images_are_inline() -> None:
    raw = (
        b'From: a@example.com\nSubject: twin\nContent-Type: multipart/mixed; boundary="m"\n\n'
        b"--m\nContent-Type: text/plain\n\nSent from my phone\n"
        b"--m\nContent-Type: text/html\n\n<div>Sent from my <b>phone</b></div>\n"
        b"--m\nContent-Type: application/zip\nContent-ID: <z@x>\nContent-Transfer-Encoding: base64"
        b"\n\nUEsDBA==\n"
        b"--m\nContent-Type: image/gif\nContent-ID: <g@x>\nContent-Transfer-Encoding: base64"
        b"\n\nR0lGODlh\n--m--\n"
    )
    parsed = parse_message(raw)
    assert parsed.text == "Sent from my phone"
    assert [(a.filename, a.inline, a.content_id) for a in parsed.attachments] == [
        ("attachment-1.zip", False, "z@x"),
        ("image-2.gif", True, "g@x"),
    ]


def test_parts_after_an_early_closing_boundary_are_recovered() -> None:
    raw = (
        b'From: a@example.com\nSubject: clash\nContent-Type: multipart/mixed; boundary="b"\n\n'
        b'--b\nContent-Type: multipart/alternative; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nhello\n--b--\n\n"
        b'--b\nContent-Type: application/pdf; name="late.pdf"\n\n%PDF\n--b--\n'
    )
    parsed = parse_message(raw)
    assert parsed.text == "hello"
    assert [a.filename for a in parsed.attachments] == ["late.pdf"]
    assert "MIME: parts after the closing boundary recovered" in parsed.defects
