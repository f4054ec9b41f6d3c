"""Files in outgoing mail: attached while they fit `attach_max_bytes`, linked beyond it, and
a message that mail programs read back with every file intact."""

from __future__ import annotations

import email
import hashlib
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import Any

from notify.attachments import AttachmentOptions, Attachments, FilePart, unresolved
from notify.message import MailHeaders, compose
from notify.render import Renderer
from store.attachment_links import verify
from tests.notify.samples import CONTEXTS

NOW = datetime(2024, 6, 3, 10, 0, tzinfo=UTC)
KEY = "s3cret-key-for-links"
FILES = {
    "a.png": b"\x89PNG" + b"a" * 600,
    "b.pdf": b"%PDF" + b"b" * 600,
    "c.txt": b"c" * 300,
}


def _item(index: int, name: str, content_type: str) -> dict[str, Any]:
    data = FILES[name]
    digest = hashlib.sha256(data).hexdigest()
    return {
        "id": index,
        "filename": name,
        "content_type": content_type,
        "size": len(data),
        "sha256": digest,
    }


ITEMS = [
    _item(1, "a.png", "image/png"),
    _item(2, "b.pdf", "application/pdf"),
    _item(3, "c.txt", "text/plain"),
]
BY_DIGEST = {hashlib.sha256(d).hexdigest(): d for d in FILES.values()}


def _attachments(limit: int) -> Attachments:
    def read(digest: str) -> bytes:
        if digest not in BY_DIGEST:
            raise FileNotFoundError(digest)
        return BY_DIGEST[digest]

    options = AttachmentOptions(
        secret_key=KEY,
        base_url="https://desk.example/",
        attach_max_bytes=limit,
        link_lifetime=timedelta(days=3),
    )
    return Attachments(read, options)


def test_everything_within_the_limit_is_attached() -> None:
    context, parts = _attachments(10_000).resolve({"attachments": ITEMS}, NOW)
    assert [p.filename for p in parts] == ["a.png", "b.pdf", "c.txt"]
    assert all(item["attached"] and item["link"] is None for item in context["attachments"])


def test_files_past_the_limit_get_signed_links_that_expire() -> None:
    context, parts = _attachments(1000).resolve({"attachments": ITEMS}, NOW)
    assert [p.filename for p in parts] == ["a.png", "c.txt"]  # b.pdf would pass the limit
    shown = {item["filename"]: item for item in context["attachments"]}
    link = shown["b.pdf"]["link"]
    assert link.startswith("https://desk.example/attachments/2.")
    signed = link.rsplit("/", 1)[1]
    assert verify(KEY, signed, NOW + timedelta(days=3) - timedelta(seconds=1)) == 2
    assert verify(KEY, signed, NOW + timedelta(days=3)) is None
    assert shown["b.pdf"]["link_expires"] == "2024-06-06T10:00:00Z"


def test_a_limit_of_zero_links_everything_and_a_missing_file_is_unavailable() -> None:
    context, parts = _attachments(0).resolve({"attachments": ITEMS}, NOW)
    assert parts == () and all(i["link"] for i in context["attachments"])
    gone = {**ITEMS[0], "sha256": "0" * 64}
    context, parts = _attachments(10_000).resolve({"attachments": [gone]}, NOW)
    assert parts == ()
    assert context["attachments"][0]["attached"] is False
    assert context["attachments"][0]["link"] is None
    assert unresolved({"attachments": ITEMS})["attachments"][0]["attached"] is False


def test_mail_with_files_reads_back_as_text_html_and_each_file() -> None:
    renderer = Renderer(desk_name="Acme Support")
    context, parts = _attachments(10_000).resolve(
        {**CONTEXTS["staff_reply"], "attachments": ITEMS}, NOW
    )
    odd = FilePart("Prüfbericht «final».pdf", "application/pdf;evil", b"%PDF-odd")
    headers = MailHeaders(9, "staff_reply", "jürgen@customer.example", "<p.9@desk.example>", False)
    mail = compose(
        renderer.render("staff_reply", context),
        headers,
        context,
        from_address="support@desk.example",
        desk_name="Acme Support",
        secret_key="s3cret",
        now=NOW,
        files=(*parts, odd),
    )
    assert all(len(line) <= 998 for line in mail.data.split(b"\r\n"))
    message = email.message_from_bytes(mail.data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message.get_content_type() == "multipart/mixed"
    assert message["From"].addresses[0].display_name == "Alice Agent (Acme Support)"
    body = message.get_body(("plain",))
    assert body is not None and "We restarted the exporter" in body.get_content()
    files = {
        str(p.get_filename()): (p.get_content_type(), p.get_content())
        for p in message.iter_attachments()
    }
    assert files == {
        "a.png": ("image/png", FILES["a.png"]),
        "b.pdf": ("application/pdf", FILES["b.pdf"]),
        "c.txt": ("text/plain", FILES["c.txt"].decode()),
        "Prüfbericht «final».pdf": ("application/octet-stream", b"%PDF-odd"),
    }
