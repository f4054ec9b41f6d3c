"""A generated, realistic support-mail backlog and the directory that goes with it.

`generate(count, seed)` builds `count` RFC 5322 messages in arrival order: new requests and
replies (half of the mail), multipart/alternative text + HTML (median about 6 KB), one in
ten with an attachment (pdf, png or log, up to 200 KB), occasional pasted secrets, a few
auto-replies, strangers and staff answers. Replies name their ticket by a subject tag
(`Re: [SUP-n] ...`) or by In-Reply-To/References only. Ticket numbers are predicted from the
order in which new requests arrive (a fresh database numbers tickets 1, 2, 3 ...).

`directory(seed)` returns the organisations (about 50, each with domains) and contacts
(about 500) in the shape of the configuration's `[[organisations]]` tables.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import charset as _charset
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

ORGANISATIONS = 50
CONTACTS_PER_ORG = 10
SUPPORT = ("support@desk.example", "billing@desk.example")
STAFF = ("alice@desk.example", "bob@desk.example")
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
_QP = _charset.Charset("utf-8")
_QP.body_encoding = _charset.QP


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_WORDS = _words(
    "account export call history transcript recording invoice plan dashboard report error "
    "timeout browser agent queue number routing voicemail billing seat licence "
    "integration webhook sync calendar contact import download upload button page screen "
    "settings permission role team user customer morning yesterday again still since "
    "update version release mobile app desktop login access password reset email "
    "notification"
)
_TOPICS = (
    "Cannot export call history",
    "Invoice shows the wrong amount",
    "Recordings missing since the update",
    "Users cannot sign in with MFA",
    "Transcripts are empty for some calls",
    "Request: bulk import of contacts",
    "Webhook deliveries failing with 500",
    "Question about our plan and seats",
    "Dashboard numbers do not match the report",
    "Voicemail notifications arrive late",
)
_FIRST = _words("anna ben carla david emma felix greta hugo iris jonas kim lena max nora omar")
_LAST = _words("meyer smith garcia rossi novak berg lund silva costa weber brown klein vogel")
_SECRETS = (
    "my password is Hunter2-Blue-Sky",
    "api key: sk_live_51HcQ2tLx9Vb3mKpR7sT0uWyZaBcDeFgH",
    "card 4242 4242 4242 4242 exp 04/28 cvv 123",
    "token ghp_1A2b3C4d5E6f7G8h9I0jK1lM2nO3pQ4rS5tU",
    "AKIAIOSFODNN7EXAMPLE with secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
)


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    email: str
    organisation: str


@dataclass
class _Thread:
    number: int
    subject: str
    requester: Contact
    message_ids: list[str]
    last_text: str


@dataclass
class Backlog:
    """The generated messages in arrival order and the outcomes they should have."""

    messages: list[bytes]
    expected: Counter[str] = field(default_factory=Counter)


def directory(seed: int = 1) -> tuple[list[dict[str, object]], list[Contact]]:
    """(`[[organisations]]` tables, every contact) of a generated customer base."""
    rng = random.Random(seed)
    tables: list[dict[str, object]] = []
    contacts: list[Contact] = []
    for index in range(ORGANISATIONS):
        name = f"Org {index:02d} {rng.choice(_LAST).title()}"
        domain = f"org{index:02d}.example"
        members = []
        for member in range(CONTACTS_PER_ORG):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            contact = Contact(
                f"{first.title()} {last.title()}", f"{first}.{last}{member}@{domain}", name
            )
            members.append(contact)
        contacts += members
        tables.append(
            {
                "name": name,
                "domains": [domain, f"eu.{domain}"],
                "contacts": [f"{c.name} <{c.email}>" for c in members],
                "partner_of": [],
            }
        )
    return tables, contacts


def _paragraphs(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(25, 60))]
        out.append(" ".join(words).capitalize() + ".")
    return out


def _html(paragraphs: list[str], quoted: str | None) -> str:
    style = 'style="font-family:Calibri,Arial,sans-serif;font-size:11pt;color:#1f1f1f;margin:0"'
    body = "".join(f'<div class="x_elementToProof"><p {style}>{p}</p></div>\n' for p in paragraphs)
    if quoted:
        lines = "<br>".join(quoted.splitlines())
        body += (
            f'<blockquote style="border-left:1px solid #ccc;padding-left:8px">{lines}</blockquote>'
        )
    head = '<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>'
    return f'<html>{head}<body dir="ltr">{body}</body></html>'


def _attachment(rng: random.Random, index: int) -> tuple[str, str, bytes]:
    size = int(min(200_000, rng.lognormvariate(10.3, 0.8)))
    kind = rng.choice(("pdf", "png", "log"))
    if kind == "log":
        lines = [
            f"2026-03-02T08:{i % 60:02d}:00Z INFO worker {i} {rng.choice(_WORDS)} ok"
            for i in range(size // 48 + 1)
        ]
        return f"app-{index}.log", "text/plain", "\n".join(lines).encode()[:size]
    payload = rng.randbytes(size)
    if kind == "pdf":
        return f"report-{index}.pdf", "application/pdf", b"%PDF-1.7\n" + payload
    return f"screenshot-{index}.png", "image/png", b"\x89PNG\r\n\x1a\n" + payload


def _attach(rng: random.Random, index: int) -> Message:
    filename, content_type, payload = _attachment(rng, index)
    part: Message
    if content_type == "text/plain":
        part = MIMEText(payload.decode(), "plain", "utf-8")
    elif content_type == "image/png":
        part = MIMEImage(payload, "png")
    else:
        part = MIMEApplication(payload, "pdf")
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def _message(
    rng: random.Random,
    index: int,
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    quoted: str | None,
    when: datetime,
    refs: list[str],
) -> tuple[Message, str]:
    body = text if quoted is None else text + "\n\n" + quoted
    alternative = MIMEMultipart("alternative")
    # MIMEText accepts a Charset object (quoted-printable here); typeshed says str only.
    alternative.attach(MIMEText(body, "plain", _QP))  # type: ignore[arg-type]
    html = _html(text.split("\n\n"), quoted)
    alternative.attach(MIMEText(html, "html", _QP))  # type: ignore[arg-type]
    msg: Message = alternative
    if rng.random() < 0.1:
        msg = MIMEMultipart("mixed")
        msg.attach(alternative)
        msg.attach(_attach(rng, index))
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    domain = sender.rpartition("@")[2].rstrip(">")
    message_id = f"<bench.{index}.{rng.getrandbits(40):x}@{domain}>"
    msg["Message-ID"] = message_id
    if refs:
        msg["In-Reply-To"] = refs[-1]
        msg["References"] = " ".join(refs[-10:])
    msg["X-Mailer"] = "Microsoft Outlook 16.0"
    return msg, message_id


def _text(rng: random.Random, name: str, paragraphs: int) -> str:
    parts = ["Hello support,", *_paragraphs(rng, paragraphs)]
    if rng.random() < 0.03:
        parts.insert(2, rng.choice(_SECRETS))
    parts.append(f"Best regards,\n{name}\nPhone +49 30 {rng.randint(1000000, 9999999)}")
    return "\n\n".join(parts)


def generate(count: int, seed: int = 1, first_number: int = 1) -> Backlog:
    """`count` messages in arrival order, and the outcome counts they should produce.

    `first_number` is the number a fresh database gives its first ticket.
    """
    rng = random.Random(seed)
    _tables, contacts = directory(seed)
    threads: list[_Thread] = []
    backlog = Backlog([])
    when = START
    for index in range(count):
        when += timedelta(seconds=rng.randint(5, 120))
        roll = rng.random()
        if roll < 0.01:
            backlog.messages.append(_auto_reply(rng, index, rng.choice(contacts), when))
            backlog.expected["ignored"] += 1
        elif roll < 0.5 or not threads:
            backlog.messages.append(
                _new_request(
                    rng,
                    index,
                    contacts=contacts,
                    threads=threads,
                    when=when,
                    backlog=backlog,
                    first=first_number,
                )
            )
        else:
            backlog.messages.append(_reply(rng, index, threads, when))
            backlog.expected["commented"] += 1
    return backlog


def _new_request(
    rng: random.Random,
    index: int,
    *,
    contacts: list[Contact],
    threads: list[_Thread],
    when: datetime,
    backlog: Backlog,
    first: int,
) -> bytes:
    stranger = rng.random() < 0.02
    if stranger:
        contact = Contact("Some One", f"someone{index}@elsewhere.example", "")
    else:
        contact = rng.choice(contacts)
    subject = rng.choice(_TOPICS) + ("" if rng.random() < 0.7 else f" ({rng.randint(2, 99)})")
    text = _text(rng, contact.name, rng.randint(3, 9))
    if rng.random() < 0.1:
        text = f"Priority: {rng.choice(('high', 'low', 'urgent'))}\n\n" + text
    to = SUPPORT[1] if rng.random() < 0.1 else SUPPORT[0]
    msg, message_id = _message(
        rng,
        index,
        sender=f"{contact.name} <{contact.email}>",
        to=to,
        subject=subject,
        text=text,
        quoted=None,
        when=when,
        refs=[],
    )
    if stranger:
        backlog.expected["rejected"] += 1
    else:
        backlog.expected["created"] += 1
        threads.append(_Thread(first + len(threads), subject, contact, [message_id], text))
    return msg.as_bytes()


def _reply(rng: random.Random, index: int, threads: list[_Thread], when: datetime) -> bytes:
    thread = threads[-1 - min(len(threads) - 1, int(rng.expovariate(1 / 40)))]
    staff = rng.random() < 0.05
    sender = (
        f"Alice <{STAFF[0]}>" if staff else (f"{thread.requester.name} <{thread.requester.email}>")
    )
    tagged = rng.random() < 0.5
    subject = f"Re: [SUP-{thread.number}] {thread.subject}" if tagged else f"Re: {thread.subject}"
    quoted = f"On {format_datetime(when - timedelta(hours=2))}, Support wrote:\n" + "\n".join(
        "> " + line for line in thread.last_text.splitlines()
    )
    text = _text(rng, "Alice" if staff else thread.requester.name, rng.randint(1, 4))
    refs = thread.message_ids if not tagged or rng.random() < 0.8 else []
    msg, message_id = _message(
        rng,
        index,
        sender=sender,
        to=SUPPORT[0],
        subject=subject,
        text=text,
        quoted=quoted,
        when=when,
        refs=refs,
    )
    thread.message_ids.append(message_id)
    thread.last_text = text
    return msg.as_bytes()


def _auto_reply(rng: random.Random, index: int, contact: Contact, when: datetime) -> bytes:
    msg, _ = _message(
        rng,
        index,
        sender=f"{contact.name} <{contact.email}>",
        to=SUPPORT[0],
        subject="Automatic reply: out of office",
        text="I am out of the office until Monday.",
        quoted=None,
        when=when,
        refs=[],
    )
    msg["Auto-Submitted"] = "auto-replied"
    return msg.as_bytes()
