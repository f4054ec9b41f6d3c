"""Batches: the analysing pre-stage in other processes, and a batch with a failing message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from ingest.analyse import Analysis, AnalysisOptions, analyse
from ingest.model import Outcome, RawMessage
from ingest.prestage import PreStage
from store import directory
from tests.helpers import mail
from tests.ingest.desk import Desk


@pytest.fixture
def desk(tmp_path: Path, sqlite_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, sqlite_url)
    yield d
    d.close()


def _raws(desk: Desk) -> list[RawMessage]:
    first = "<batch.1@acme.example>"
    messages = [
        mail(message_id=first, body="My password is Tr0ub4dor&3, the export fails.\n"),
        mail(
            sender="Erin <erin@globex.example>",
            subject="Invoice",
            message_id="<batch.2@globex.example>",
            body="Invoice 2026-114 is wrong.\n",
        ),
        mail(
            subject="Re: Cannot export call history",
            message_id="<batch.3@acme.example>",
            headers={"In-Reply-To": first},
            body="Still broken.\n",
        ),
        b"\x00\x01 not a mail",
    ]
    return [RawMessage(data=m, source="cli", received_at=desk.clock.now) for m in messages]


def test_prestage_gives_what_analyse_gives_in_order(desk: Desk) -> None:
    options = AnalysisOptions.of(desk.app.pipeline.options)
    raws = _raws(desk)
    expected = [analyse(raw, options) for raw in raws]
    with PreStage(options, workers=2) as prestage:
        batches = list(prestage.ahead([raws[:3], raws[3:], raws]))
    assert [batch for batch, _ in batches] == [raws[:3], raws[3:], raws]
    assert [a for _, analyses in batches for a in analyses] == [*expected, *expected]
    first = expected[0]
    assert isinstance(first, Analysis) and first.content is not None
    assert "Tr0ub4dor&3" not in first.content.full_text, "the pre-stage hands back redacted text"
    assert first.parsed is not None and first.parsed.message is None, "no email tree crosses over"
    assert expected[3].parsed is None and expected[3].problem.startswith("unparseable")


def test_batch_with_analyses_decides_like_one_by_one(desk: Desk) -> None:
    raws = _raws(desk)
    options = AnalysisOptions.of(desk.app.pipeline.options)
    analyses = [analyse(raw, options) for raw in raws[:2]]  # the rest: analysed in process
    results = desk.app.intake.ingest_batch(raws, analyses)
    assert [r.outcome for r in results] == [
        Outcome.CREATED,
        Outcome.CREATED,
        Outcome.COMMENTED,
        Outcome.QUARANTINED,
    ]
    assert results[2].ticket == results[0].ticket


def test_failing_message_rolls_back_only_itself_and_leaves_no_stale_cache(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch is decided again with a savepoint each; the failing mail is quarantined, and
    a contact created inside its rolled-back savepoint is not remembered by the caches."""
    from ingest.decide import create as ticket_create

    real_create = ticket_create.tickets.create_ticket

    def create_or_fail(session, new):  # type: ignore[no-untyped-def]
        if "Boom" in new.subject:
            raise RuntimeError("injected fault")
        return real_create(session, new)

    monkeypatch.setattr(ticket_create.tickets, "create_ticket", create_or_fail)
    newcomer = "newcomer@acme.example"  # not a contact yet: created before the fault
    raws = [
        RawMessage(data=mail(sender=newcomer, subject="Boom", message_id="<b1@acme.example>")),
        RawMessage(data=mail(sender=newcomer, subject="Fine", message_id="<b2@acme.example>")),
        RawMessage(data=mail(subject="Also fine", message_id="<b3@acme.example>")),
    ]
    results = desk.app.intake.ingest_batch(raws)
    assert [r.outcome for r in results] == [
        Outcome.QUARANTINED,
        Outcome.CREATED,
        Outcome.CREATED,
    ]
    assert "RuntimeError" in results[0].reason
    assert len(desk.app.quarantine.list()) == 1
    assert desk.ticket(results[1].ticket or "")["requester"] == newcomer
    with desk.app.db.transaction() as session:
        assert directory.find_contact(session, newcomer) is not None


def test_rows_deferred_in_a_batch_are_seen_by_later_messages_and_committed(desk: Desk) -> None:
    """Outbox rows wait for the batch's commit, yet a later message of the same batch sees
    them: a stranger writing twice is told once."""
    stranger = "someone@elsewhere.example"
    raws = [
        RawMessage(data=mail(sender=stranger, subject=f"Help {i}", message_id=f"<s{i}@x.example>"))
        for i in range(2)
    ]
    results = desk.app.intake.ingest_batch(
        [*raws, RawMessage(data=mail(message_id="<ok@acme.example>"))]
    )
    assert [r.outcome for r in results] == [Outcome.REJECTED, Outcome.REJECTED, Outcome.CREATED]
    assert "told how to get access" in results[0].reason
    assert "already told within 24 hours" in results[1].reason
    assert [r.recipient for r in desk.outbox("unknown_sender")] == [stranger]
    assert {r.kind for r in desk.outbox()} >= {"confirmation", "new_ticket_notice"}
    with desk.app.db.transaction() as session:
        count = session.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
    assert count >= 1, "the created ticket's audit event was written at commit"


def test_records_written_at_commit_are_seen_by_later_messages_of_the_batch(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Decision records, comments and subscribers wait for the batch's commit (on both
    databases); later messages of the same batch still thread to them, see them as
    duplicates, and count them against the flood limit."""
    desk = Desk(tmp_path, db_url, ingest={"sender_rate_limit": "4/10m"})
    first = mail(message_id="<a@acme.example>", subject="First")
    messages = [
        first,
        mail(message_id="<b@acme.example>", subject="Second", cc="dave@acme.example"),
        mail(
            message_id="<c@acme.example>",
            subject="a reply without a tag",
            headers={"In-Reply-To": "<a@acme.example>"},
        ),
        first,
        mail(message_id="<d@acme.example>", subject="Fourth"),
        mail(message_id="<e@acme.example>", subject="Fifth"),
    ]
    raws = [RawMessage(data=m, source="cli", received_at=desk.clock.now) for m in messages]
    results = desk.app.intake.ingest_batch(raws)
    assert "a batch of" not in caplog.text, "the batch was decided in one go, writing behind"
    assert [r.outcome for r in results] == [
        Outcome.CREATED,
        Outcome.CREATED,
        Outcome.COMMENTED,
        Outcome.DUPLICATE,
        Outcome.CREATED,
        Outcome.HELD,
    ]
    assert results[2].ticket == results[3].ticket == results[0].ticket
    shown = desk.ticket(results[0].ticket or "")
    assert [m["outcome"] for m in shown["messages"]] == ["created", "commented"]
    assert len(shown["comments"]) == 2
    second = desk.ticket(results[1].ticket or "")
    assert second["watchers"] == ["dave@acme.example"]
    desk.close()
