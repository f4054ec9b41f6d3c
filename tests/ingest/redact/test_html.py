"""HTML bodies, the result type, and which attachments count as text."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from ingest.redact.redactor import (
    CARD_KINDS,
    CREDENTIAL_KINDS,
    REDACTION_KINDS,
    Finding,
    Redaction,
    is_text_like,
    redact_html,
    redact_text,
)


class _Events(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Events:
    events = _Events()
    events.feed(html)
    events.close()
    return events


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            "<p>Card: <b>4242</b> 4242 4242 4242</p>",
            "<p>Card: <b>[card ending 4242 removed]</b></p>",
        ),
        (
            "<table><tr><td>Password:</td><td>hunter&amp;2x</td></tr></table>",
            "<table><tr><td>Password:</td><td>[password removed]</td></tr></table>",
        ),
        (
            '<a href="https://bob:s3cr3t@example.com/x">link</a>',
            '<a href="https://bob:[url password removed]@example.com/x">link</a>',
        ),
        (
            "<div>my password is <span>hunter2</span></div>",
            "<div>my password is <span>[password removed]</span></div>",
        ),
        ("<p>Passwort:&nbsp;Sommer2024!</p>", "<p>Passwort:&nbsp;[password removed]</p>"),
        ("<!-- password: hunter22 --><p>hi</p>", "<!-- password: [password removed] --><p>hi</p>"),
    ],
)
def test_html_secrets_are_removed_and_markup_kept(html: str, expected: str) -> None:
    result = redact_html(html)
    assert result.text == expected
    before, after = parse(html), parse(result.text)
    assert before.tags == after.tags
    for f in result.findings:
        assert result.text[f.start : f.end].startswith("[") and result.text[
            f.start : f.end
        ].endswith("removed]")


def test_html_without_secrets_is_unchanged() -> None:
    html = (
        '<p class="x">Ticket SUP-1042 &amp; invoice INV-2024-00042, 2024-01-05</p>'
        '<br><img src="a.png">'
    )
    result = redact_html(html)
    assert result.text == html
    assert not result.found


def test_html_markers_are_escaped_text() -> None:
    result = redact_html("<p>pw: &lt;b&gt;x9!</p>")
    assert "<b>" not in result.text
    assert parse(result.text).tags == ["p", "/p"]


def test_broken_html_does_not_hang_or_raise() -> None:
    for html in [
        '<a href="unclosed',
        "<!-- open",
        "<p>password: hunter2",
        "<<<>>>",
        "<script>if (a<b) x='pw: abc123'",
    ]:
        result = redact_html(html)
        assert isinstance(result, Redaction)
    assert redact_html("<p>password: hunter2").text == "<p>password: [password removed]"


def test_redaction_result_api() -> None:
    result = redact_text("pw: hunter22 and 4242424242424242 and pw: other333")
    assert result.found
    assert result.counts() == {"card": 1, "password": 2}
    assert list(result.counts()) == sorted(result.counts())
    assert all(isinstance(f, Finding) for f in result.findings)
    assert [f.start for f in result.findings] == sorted(f.start for f in result.findings)
    empty = redact_text("nothing here")
    assert not empty.found
    assert empty.counts() == {}
    assert redact_text("").text == ""


def test_kind_sets() -> None:
    assert {
        "card",
        "card_cvv",
        "card_expiry",
        "password",
        "api_key",
        "private_key",
        "jwt",
        "bearer_token",
        "url_credentials",
        "connection_string",
        "otp_code",
        "recovery_code",
    } == REDACTION_KINDS
    assert CREDENTIAL_KINDS == REDACTION_KINDS - CARD_KINDS
    assert "card" not in CREDENTIAL_KINDS


@pytest.mark.parametrize(
    ("filename", "content_type", "expected"),
    [
        ("notes.txt", None, True),
        ("debug.LOG", "application/octet-stream", True),
        ("export.csv", None, True),
        ("data.json", None, True),
        ("feed.xml", None, True),
        ("config.yaml", None, True),
        ("settings.yml", None, True),
        ("app.ini", None, True),
        (".env", None, True),
        ("prod.env", None, True),
        (".env.local", None, True),
        ("C:\\Users\\bob\\server.key", None, True),
        (None, "text/plain; charset=utf-8", True),
        (None, "TEXT/HTML", True),
        (None, "application/json", True),
        (None, "application/vnd.api+json", True),
        ("report.pdf", "application/pdf", False),
        ("photo.jpg", "image/jpeg", False),
        ("archive.zip", None, False),
        (None, None, False),
        ("README", None, False),
    ],
)
def test_is_text_like(filename: str | None, content_type: str | None, expected: bool) -> None:
    assert is_text_like(filename, content_type) is expected
