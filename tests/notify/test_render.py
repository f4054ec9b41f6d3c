"""Every template renders with realistic data, and every mail carries the headers it owes."""

from __future__ import annotations

import email
import importlib.machinery
import importlib.util
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

import notify.render
from notify.errors import TemplateProblem
from notify.message import MailHeaders, compose, tagged_subject
from notify.render import KINDS, PARTS, Renderer, builtin_templates_dir
from store.reply_tokens import reply_address
from tests.notify.samples import CONTEXTS

NOW = datetime(2024, 6, 3, 10, 0, tzinfo=UTC)
FROM = "support@desk.example"
THREAD = ("<CAF=abc123@mail.customer.example>", "<postdesk.1@desk.example>")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(desk_name="Acme Support")


def _mail(renderer: Renderer, kind: str, **overrides: Any) -> EmailMessage:
    context = {**CONTEXTS[kind], **overrides}
    rendered = renderer.render(kind, context)
    headers = MailHeaders(
        row_id=42,
        kind=kind,
        recipient="jürgen@customer.example" if kind != "digest" else "ops@desk.example",
        message_id="<postdesk.42@desk.example>",
        automatic=kind != "staff_reply",
        cc=("watcher@customer.example",),
        bcc=("audit@desk.example",),
        references=(*THREAD, "<postdesk.42@desk.example>"),
    )
    out = compose(
        rendered,
        headers,
        context,
        from_address=FROM,
        desk_name="Acme Support Désk",
        secret_key="s3cret",
        now=NOW,
    )
    assert out.recipients == (headers.recipient, "watcher@customer.example", "audit@desk.example")
    parsed = email.message_from_bytes(out.data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_every_kind_has_its_three_templates() -> None:
    root = builtin_templates_dir()
    assert set(CONTEXTS) == set(KINDS)
    for kind in KINDS:
        for part in PARTS:
            assert (root / f"{kind}.{part}.j2").is_file(), f"{kind}.{part}.j2 missing"


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_renders_with_realistic_data(renderer: Renderer, kind: str) -> None:
    rendered = renderer.render(kind, CONTEXTS[kind])
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.html.lstrip().startswith("<!DOCTYPE html>")
    assert "Acme Support" in rendered.html
    if "ticket" in CONTEXTS[kind]:
        for part in (rendered.text, rendered.html):
            assert "SUP-1042" in part
        # user-supplied text is escaped in HTML, left alone in text
        assert "<urgent>" not in rendered.html
    assert "{{" not in rendered.text and "{%" not in rendered.html


@pytest.mark.parametrize("kind", KINDS)
def test_each_mail_carries_the_headers(renderer: Renderer, kind: str) -> None:
    msg = _mail(renderer, kind)
    context = CONTEXTS[kind]
    subject = str(msg["Subject"])
    assert msg["Message-ID"] == "<postdesk.42@desk.example>"
    assert msg["X-Loop"] == FROM
    assert msg["Date"].datetime == NOW
    shown = "Alice Agent (Acme Support)" if kind == "staff_reply" else "Acme Support Désk"
    assert msg["From"].addresses[0].display_name == shown
    assert msg["To"].addresses[0].addr_spec == "jürgen@customer.example" or kind == "digest"
    assert "Bcc" not in msg and "audit@desk.example" not in msg.as_string()
    assert msg.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in msg.iter_parts()]
    assert types == ["text/plain", "text/html"]
    if "ticket" in context:
        assert subject.count("[SUP-1042]") == 1
        expected = reply_address(
            "s3cret", "support@desk.example", "SUP-1042", msg["To"].addresses[0].addr_spec
        )
        assert str(msg["Reply-To"]) == expected
        assert msg["X-Postdesk-Ticket"] == "SUP-1042"
    references = str(msg["References"]).split()
    assert "<postdesk.42@desk.example>" not in references
    assert references[:2] == list(THREAD)
    in_reply_to = context.get("in_reply_to")
    assert msg["In-Reply-To"] == (in_reply_to or THREAD[-1])
    if kind == "staff_reply":
        assert "Auto-Submitted" not in msg
    else:
        assert msg["Auto-Submitted"] == ("auto-replied" if in_reply_to else "auto-generated")
        assert msg["X-Auto-Response-Suppress"] == "All"


def test_raw_mail_is_7bit_with_encoded_words_and_short_lines(renderer: Renderer) -> None:
    rendered = renderer.render("unknown_sender", CONTEXTS["unknown_sender"])
    headers = MailHeaders(
        1, "unknown_sender", "stranger@else.example", "<postdesk.1@d.example>", True
    )
    out = compose(
        rendered,
        headers,
        CONTEXTS["unknown_sender"],
        from_address=FROM,
        desk_name="Désk",
        secret_key="k",
        now=NOW,
    )
    out.data.decode("ascii")  # everything encoded: any relay and any client reads it
    assert all(len(line) <= 998 for line in out.data.split(b"\r\n"))
    assert b"=?utf-8?" in out.data
    parsed = email.message_from_bytes(out.data, policy=policy.default)
    assert str(parsed["Subject"]) == "Re: Ärger mit der Rechnung"
    assert str(parsed["Reply-To"]) == "support@desk.example"
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert "References" in parsed and parsed["In-Reply-To"] == "<stranger@else.example>"


def test_subject_tag_is_never_doubled() -> None:
    assert tagged_subject("Re: [SUP-1042] help", "SUP-1042") == "Re: [SUP-1042] help"
    assert tagged_subject("re: [sup-1042] help", "SUP-1042") == "re: [sup-1042] help"
    assert tagged_subject("help", "SUP-1042") == "[SUP-1042] help"
    assert tagged_subject("help", None) == "help"


def test_confirmation_lists_secrets_attachments_fields_and_mute(renderer: Renderer) -> None:
    msg = _mail(renderer, "confirmation")
    plain, rich = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and rich is not None
    text, html = plain.get_content(), rich.get_content()
    for needle in (
        "  - a password",
        "  - 2 API keys",
        "revoke it and replace it",
        "setup.exe",
        "blocked file type",
        '"Priority: asap": unknown value',
        "#mute",
        "4 hours",
        "Status:      Open",
        "Priority:    High",
        "First response due: Mon 03 Jun 2024 13:00 UTC",
        "Müller & Söhne GmbH",
    ):
        assert needle in text, needle
    assert "Müller &amp; Söhne GmbH" in html and "<strong>#mute</strong>" in html
    assert "&lt;urgent&gt;" in html


def test_a_missing_context_key_fails_loudly(renderer: Renderer) -> None:
    broken = {k: v for k, v in CONTEXTS["confirmation"].items() if k != "sla"}
    with pytest.raises(TemplateProblem, match=r"confirmation.*sla"):
        renderer.render("confirmation", broken)
    with pytest.raises(TemplateProblem, match="not found"):
        renderer.render("no_such_kind", {})


def test_a_template_typo_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "mute_notice.txt.j2").write_text("{{ tickt.number }}\n")
    with pytest.raises(TemplateProblem, match="tickt"):
        Renderer(desk_name="D", templates_dir=tmp_path).render(
            "mute_notice", CONTEXTS["mute_notice"]
        )


def test_override_directory_wins_and_the_rest_falls_back(tmp_path: Path) -> None:
    (tmp_path / "mute_notice.subject.j2").write_text("Custom {{ ticket.number }} {{ desk_name }}\n")
    (tmp_path / "_customer_footer.txt.j2").write_text("-- custom footer\n")
    rendered = Renderer(desk_name="Acme", templates_dir=tmp_path).render(
        "waiting_reminder", CONTEXTS["waiting_reminder"]
    )
    assert "-- custom footer" in rendered.text
    mute = Renderer(desk_name="Acme", templates_dir=tmp_path).render(
        "mute_notice", CONTEXTS["mute_notice"]
    )
    assert mute.subject == "Custom SUP-1042 Acme"
    assert "#unmute" in mute.text  # built-in text template still used
    with pytest.raises(TemplateProblem, match="not a directory"):
        Renderer(desk_name="Acme", templates_dir=tmp_path / "missing")


def test_templates_are_found_inside_an_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site-packages" / "postdesk"
    (package / "templates").mkdir(parents=True)
    spec = importlib.machinery.ModuleSpec("postdesk", None, is_package=True)
    spec.submodule_search_locations = [str(package)]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    assert builtin_templates_dir() == package / "templates"
    (package / "templates").rmdir()
    assert builtin_templates_dir() == notify.render.REPO_TEMPLATES
