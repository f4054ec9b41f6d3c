"""Threading: reply token, subject tag in every common form, In-Reply-To/References."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.decide.thread import subject_tag
from ingest.model import Outcome
from store.reply_tokens import reply_address
from tests.ingest.desk import Desk


@pytest.fixture
def desk(tmp_path: Path, sqlite_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, sqlite_url)
    yield d
    d.close()


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("[SUP-1042] Export broken", "SUP-1042"),
        ("Re: [SUP-1042] Export broken", "SUP-1042"),
        ("RE: AW: [#SUP-1042] Export", "SUP-1042"),
        ("Re: re: [sup-1042] export", "SUP-1042"),
        ("SV: SUP-1042 export", "SUP-1042"),
        ("Fwd: WG: TR: SUP-1042: export", "SUP-1042"),
        ("AW[2]: SUP-1042", "SUP-1042"),
        ("Antw: Re: [ SUP-1042 ]", "SUP-1042"),
        ("Question about SUP-1042 and more", None),
        ("Export broken", None),
        ("[SUPPORT-1042]", None),
        ("Re: XSUP-1042", None),
    ],
)
def test_subject_tag_forms(subject: str, number: str | None) -> None:
    assert subject_tag(subject, "SUP") == number


def test_reply_with_tag_in_any_form_becomes_a_comment(desk: Desk) -> None:
    created = desk.send()
    for subject in (
        f"Re: [{created.ticket}] Cannot export",
        f"AW: [#{created.ticket.lower()}] x",
        f"Re: Fwd: {created.ticket} still broken",
    ):
        result = desk.send(subject=subject, body="Still broken.\n")
        assert result.outcome is Outcome.COMMENTED, subject
        assert result.ticket == created.ticket
        assert "matched by subject tag" in result.reason
    assert len(desk.ticket(created.ticket)["comments"]) == 4


def test_reply_token_threads_even_with_an_edited_subject(desk: Desk) -> None:
    created = desk.send()
    token = reply_address(
        desk.app.settings.desk.secret_key,
        "support@desk.example",
        created.ticket,
        "carol@acme.example",
    )
    result = desk.send((token,), to=token, subject="totally new subject", body="Update.\n")
    assert result.outcome is Outcome.COMMENTED
    assert result.ticket == created.ticket
    assert "reply token" in result.reason


def test_reply_token_is_matched_case_insensitively(desk: Desk) -> None:
    created = desk.send()
    token = reply_address(
        desk.app.settings.desk.secret_key,
        "support@desk.example",
        created.ticket,
        "carol@acme.example",
    ).upper()
    result = desk.send(to=token, subject="no tag", body="Update.\n")
    assert result.ticket == created.ticket


def test_forged_token_falls_back_to_normal_rules(desk: Desk) -> None:
    created = desk.send()
    forged = f"support+{created.ticket.lower()}.aaaaaaaaaa@desk.example"
    result = desk.send((forged,), to=forged, subject="no tag here", body="Hi.\n")
    assert result.outcome is Outcome.CREATED
    assert result.ticket != created.ticket


def test_token_issued_to_someone_else_does_not_attribute(desk: Desk) -> None:
    created = desk.send()
    token = reply_address(
        desk.app.settings.desk.secret_key,
        "support@desk.example",
        created.ticket,
        "carol@acme.example",
    )
    result = desk.send(
        (token,), sender="dave@acme.example", to=token, subject="fresh", body="Hi.\n"
    )
    assert result.outcome is Outcome.CREATED


def test_in_reply_to_our_notification_threads(desk: Desk) -> None:
    created = desk.send()
    ours = desk.outbox("confirmation")[0].message_id
    assert ours
    result = desk.send(
        subject="Re: your mail", body="Thanks.\n", headers={"In-Reply-To": ours, "References": ours}
    )
    assert result.outcome is Outcome.COMMENTED
    assert result.ticket == created.ticket
    assert "References" in result.reason


def test_references_to_a_received_message_thread(desk: Desk) -> None:
    created = desk.send(message_id="<first@acme.example>")
    result = desk.send(
        sender="dave@acme.example",
        subject="Re: Cannot export",
        body="Same for me.\n",
        headers={"References": "<first@acme.example>"},
    )
    assert result.outcome is Outcome.COMMENTED
    assert result.ticket == created.ticket


def test_comment_shows_only_the_new_text(desk: Desk) -> None:
    created = desk.send()
    body = (
        "Here is the log you wanted.\n\nOn Mon, 23 Nov 2026 at 09:00, Support "
        "<support@desk.example> wrote:\n> We received your request.\n> Thanks\n"
    )
    desk.send(subject=f"Re: [{created.ticket}]", body=body)
    comment = desk.ticket(created.ticket)["comments"][1]
    assert comment["body"] == "Here is the log you wanted."
