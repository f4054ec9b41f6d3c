"""`compose` writes the message bytes itself: they must read exactly like the message the
email package builds (EmailMessage, policy SMTP), header by header and part by part, and
stay 7-bit with short lines, whatever the text, names and thread look like."""

from __future__ import annotations

import email
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest

from notify.message import (
    MailHeaders,
    _fold_words,
    _header,
    _ids_header,
    _references,
    compose,
    tagged_subject,
    ticket_number,
)
from notify.render import KINDS, RenderedMail, Renderer
from store.reply_tokens import reply_address
from tests.notify.samples import CONTEXTS

NOW = datetime(2024, 6, 3, 10, 0, tzinfo=UTC)
FROM = "support@desk.example"
LONG_ID = "<" + "x" * 120 + "@mail.customer.example>"
THREAD = tuple(f"<thread{n}.{n * 7919:x}@mail.customer.example>" for n in range(25))


def reference_compose(
    rendered: RenderedMail,
    headers: MailHeaders,
    context: Mapping[str, Any],
    *,
    from_address: str,
    desk_name: str,
    secret_key: str,
    now: datetime,
) -> bytes:
    """The message as `EmailMessage` builds it (what `compose` did before it wrote bytes)."""
    number = ticket_number(context)
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = tagged_subject(rendered.subject, number)
    shown = str(context.get("from_name") or desk_name)  # a relayed reply: "Name (Desk)"
    message["From"] = Address(display_name=shown, addr_spec=from_address)
    message["To"] = headers.recipient
    if headers.cc:
        message["Cc"] = ", ".join(headers.cc)
    if number is not None:
        support = str(context["ticket"].get("support_address") or from_address)
        message["Reply-To"] = reply_address(secret_key, support, number, headers.recipient)
    elif context.get("support_address"):
        message["Reply-To"] = str(context["support_address"])
    message["Date"] = format_datetime(now)
    message["Message-ID"] = headers.message_id
    in_reply_to = context.get("in_reply_to") or None
    references = _references(headers.message_id, headers.references, in_reply_to)
    if references:
        message["In-Reply-To"] = str(in_reply_to or references[-1])
        message["References"] = " ".join(references)
    if headers.automatic:
        message["Auto-Submitted"] = "auto-replied" if in_reply_to else "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
    message["X-Loop"] = from_address
    if number is not None:
        message["X-Postdesk-Ticket"] = number
    message["X-Postdesk-Kind"] = headers.kind
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    message["Content-Language"] = rendered.language
    return message.as_bytes(policy=policy.SMTP)


def _read(data: bytes) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """(headers as (name, value) in order, parts as (type, charset, decoded content))."""
    parsed = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    # .strip(): the email package may fold a whole value onto a continuation line
    # ("Subject:\r\n text"), which reads back with a leading space
    fields = [(name, str(value).strip()) for name, value in parsed.items()]
    fields = [(n, v) for n, v in fields if n != "Content-Type"]  # the boundary is random
    parts = [
        (part.get_content_type(), str(part.get_content_charset()), part.get_content())
        for part in parsed.iter_parts()
    ]
    assert all(isinstance(part, EmailMessage) for part in parsed.iter_parts())
    assert parsed.get_content_type() == "multipart/alternative"
    return fields, parts


def _both(
    rendered: RenderedMail,
    headers: MailHeaders,
    context: Mapping[str, Any],
    desk_name: str = "Acme Support Désk",
    now: datetime = NOW,
) -> tuple[bytes, bytes]:
    options: dict[str, Any] = {
        "from_address": FROM,
        "desk_name": desk_name,
        "secret_key": "s3cret",
        "now": now,
    }
    ours = compose(rendered, headers, context, **options)
    return ours.data, reference_compose(rendered, headers, context, **options)


def _assert_same_message(ours: bytes, reference: bytes) -> None:
    ours_fields, ours_parts = _read(ours)
    reference_fields, reference_parts = _read(reference)
    assert ours_fields == reference_fields
    assert ours_parts == reference_parts
    ours.decode("ascii")
    lines = ours.split(b"\r\n")
    assert b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)
    assert all(len(line) <= 998 for line in lines)
    assert all(len(line) <= 78 or LONG_ID.encode() in line for line in lines)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(desk_name="Acme Support")


ADDRESSING = [
    pytest.param("alice@customer.example", (), (), id="plain"),
    pytest.param(
        "jürgen@customer.example",
        ("watcher@customer.example", "Zoë Müller <zoe@x.example>", '"Smith, J" <j@x.example>'),
        THREAD[:3],
        id="non-ascii-and-display-names",
    ),
    pytest.param(
        "bob@customer.example",
        tuple(f"watcher{n}@customer.example" for n in range(6)),
        THREAD,
        id="long-cc-and-thread",
    ),
    pytest.param("carol@customer.example", (), (LONG_ID, *THREAD[:2]), id="unfoldable-id"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("recipient", "cc", "thread"), ADDRESSING)
def test_every_kind_reads_like_the_email_package_message(
    renderer: Renderer, kind: str, recipient: str, cc: tuple[str, ...], thread: tuple[str, ...]
) -> None:
    context = CONTEXTS[kind]
    headers = MailHeaders(
        42,
        kind,
        recipient,
        "<postdesk.42@desk.example>",
        kind != "staff_reply",
        cc,
        ("audit@desk.example",),
        thread,
    )
    ours, reference = _both(renderer.render(kind, context), headers, context)
    _assert_same_message(ours, reference)


TEXTS = [
    pytest.param("", id="empty"),
    pytest.param("no line end at the end", id="no-final-newline"),
    pytest.param("windows\r\nline\r\nends\r\n", id="crlf"),
    pytest.param("old mac\rline ends\r", id="cr"),
    pytest.param("trailing spaces   \nand tabs\t\t\nend \n", id="trailing-whitespace"),
    pytest.param(".\n..\n.leading dot\nFrom the start\n", id="dots-and-from"),
    pytest.param("x" * 300 + "\n" + "é" * 120 + "\n", id="long-lines"),
    pytest.param("equals = sign =3D and =?utf-8?q?x?= and\x0cform feed\n", id="qp-specials"),
    pytest.param("emoji 🎉 and ünïcödé, CJK 漢字\n\n\nblank lines above\n", id="unicode"),
]


@pytest.mark.parametrize("text", TEXTS)
def test_any_body_text_survives_quoted_printable(text: str) -> None:
    rendered = RenderedMail(subject="Body", text=text, html=f"<p>{text}</p>")
    headers = MailHeaders(7, "staff_reply", "a@b.example", "<postdesk.7@desk.example>", False)
    ours, reference = _both(rendered, headers, {})
    _assert_same_message(ours, reference)


SUBJECTS = [
    pytest.param("Short", id="short"),
    pytest.param("Ärger mit der Rechnung", id="non-ascii"),
    pytest.param(" ".join(["word"] * 40), id="long-ascii"),
    pytest.param(" ".join(["Größe"] * 30), id="long-non-ascii"),
    pytest.param("x" * 120, id="one-long-word"),
    pytest.param("=?utf-8?q?looks_encoded?= but is not", id="encoded-word-lookalike"),
    pytest.param("double  space and trailing ", id="odd-spacing"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("desk_name", ["Support", "Acme, Inc. (EU)", "Désk ✉"])
def test_any_subject_and_desk_name_read_the_same(subject: str, desk_name: str) -> None:
    rendered = RenderedMail(subject=subject, text="text\n", html="<p>html</p>\n")
    context = {"support_address": "help@desk.example", "in_reply_to": "<a@b.example>"}
    headers = MailHeaders(9, "unknown_sender", "x@y.example", "<postdesk.9@desk.example>", True)
    zone = timezone(timedelta(hours=2))
    ours, reference = _both(rendered, headers, context, desk_name, NOW.astimezone(zone))
    _assert_same_message(ours, reference)


def test_plain_headers_are_written_as_the_email_package_writes_them(renderer: Renderer) -> None:
    context = CONTEXTS["confirmation"]
    headers = MailHeaders(
        42, "confirmation", "alice@customer.example", "<postdesk.42@desk.example>", True
    )
    ours, reference = _both(renderer.render("confirmation", context), headers, context)
    assert ours.split(b"MIME-Version:")[0] == reference.split(b"MIME-Version:")[0]


@pytest.mark.parametrize("length", [66, 67, 68, 69, 70, 71, 140])
@pytest.mark.parametrize("words", [1, 3])
def test_headers_at_the_folding_length_are_folded_as_before(length: int, words: int) -> None:
    """Around 78 characters a plain header goes from one line (written at once) to folded:
    the shortcut for one line writes what folding word by word writes."""
    word = "x" * (length // words - 1)
    subject = " ".join([word] * words).ljust(length, "y")
    if words == 3:
        assert _header("Subject", subject) == _fold_words("Subject", subject.split(" "))
    ids = tuple(f"<{w}@d.example>" for w in subject.split(" "))
    assert _ids_header("References", ids) == _fold_words("References", ids)
    rendered = RenderedMail(subject=subject, text="text\n", html="<p>html</p>\n")
    headers = MailHeaders(9, "unknown_sender", "x@y.example", "<postdesk.9@desk.example>", True)
    _assert_same_message(*_both(rendered, headers, {"support_address": "help@desk.example"}))


def test_the_date_of_one_instant_is_written_in_the_zone_it_was_given() -> None:
    """The Date header is cached per instant: equal instants in two zones must not share it."""
    rendered = RenderedMail(subject="s", text="text\n", html="<p>html</p>\n")
    headers = MailHeaders(9, "unknown_sender", "x@y.example", "<postdesk.9@desk.example>", True)
    dates = []
    for now in (NOW, NOW.astimezone(timezone(timedelta(hours=2))), NOW, NOW + timedelta(1)):
        message = compose(
            rendered, headers, {}, from_address=FROM, desk_name="D", secret_key="k", now=now
        )
        dates.append(email.message_from_bytes(message.data)["Date"])
    assert dates == [
        "Mon, 03 Jun 2024 10:00:00 +0000",
        "Mon, 03 Jun 2024 12:00:00 +0200",
        "Mon, 03 Jun 2024 10:00:00 +0000",
        "Tue, 04 Jun 2024 10:00:00 +0000",
    ]
