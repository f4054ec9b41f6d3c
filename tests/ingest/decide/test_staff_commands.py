"""Mail commands read from the top of a staff reply: names, words, colons, invalid lines."""

from __future__ import annotations

import pytest

from ingest.decide.staff_commands import (
    VALID_FORMS,
    StaffCommands,
    read_staff_commands,
    status_word,
)
from ingest.redact.redactor import redact_text
from store.redacted import RedactedText

CATEGORIES = ("account", "billing", "technical", "feature_request", "general")


def _read(text: str) -> StaffCommands:
    return read_staff_commands(_redacted(text), CATEGORIES)


def _redacted(text: str) -> RedactedText:
    return redact_text(text).text


@pytest.mark.parametrize(
    ("line", "status"),
    [
        ("#status resolved", "resolved"),
        ("#status: resolved", "resolved"),
        ("#status:resolved", "resolved"),
        ("#Status Waiting on customer", "waiting_on_customer"),
        ("#STATUS waiting-on-customer", "waiting_on_customer"),
        ("#status waiting_on_customer", "waiting_on_customer"),
        ("#status In progress", "in_progress"),
        ("#status open", "open"),
        ("#status escalated", "escalated"),
        ("#status Closed.", "closed"),
        ("#resolve", "resolved"),
        ("#close", "closed"),
    ],
)
def test_statuses_by_name_and_by_words(line: str, status: str) -> None:
    commands = _read(f"{line}\n\nThanks, all done.\n")
    assert commands.status == status
    assert commands.invalid == ()
    assert commands.body == "Thanks, all done."


def test_every_command_is_read_and_removed() -> None:
    commands = _read(
        "#priority: Critical\n#assign bob\n#category Billing\n#visibility private\n"
        "#cc dave@acme.example, Erin <erin@globex.example>\n#internal\n\nNote for us.\n"
    )
    assert commands.priority == "urgent"
    assert commands.assign == "bob"
    assert commands.category == "billing"
    assert commands.visibility == "private"
    assert commands.cc == ("dave@acme.example", "erin@globex.example")
    assert commands.internal is True
    assert commands.body == "Note for us."
    assert len(commands.lines) == 6


def test_unassign_takes_no_value() -> None:
    assert _read("#unassign\nok\n").unassign is True
    commands = _read("#unassign bob\nok\n")
    assert commands.unassign is False
    assert commands.invalid == (("#unassign bob", "#unassign takes no value"),)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("#status done", "no such status"),
        ("#status", "#status needs a value"),
        ("#priority asap", "no such priority"),
        ("#category hardware", "no such category"),
        ("#visibility secret", "no such visibility"),
        ("#cc nobody", "#cc needs an email address"),
        ("#frobnicate now", "unknown command #frobnicate"),
        ("#close please", "#close takes no value"),
    ],
)
def test_invalid_lines_are_reported_and_still_removed(line: str, problem: str) -> None:
    commands = _read(f"{line}\nThe answer.\n")
    ((read, why),) = commands.invalid
    assert read == line
    assert why.startswith(problem)
    assert commands.body == "The answer."
    assert commands.status is None and commands.priority is None


def test_only_lines_at_the_top_are_commands() -> None:
    commands = _read("Hello,\n#status resolved\n")
    assert commands.status is None and commands.lines == ()
    assert commands.body.startswith("Hello,")


def test_a_heading_or_a_number_is_not_a_command() -> None:
    assert _read("# Steps\n1. restart\n").lines == ()
    assert _read("#1 priority is the export\n").lines == ()


def test_status_words() -> None:
    assert status_word("Waiting on customer") == "waiting_on_customer"
    assert status_word("pending") == "waiting_on_customer"
    assert status_word("done") is None


def test_the_valid_forms_name_every_command() -> None:
    text = " ".join(VALID_FORMS)
    for name in ("status", "priority", "assign", "unassign", "category", "visibility", "cc"):
        assert f"#{name}" in text
    for name in ("internal", "resolve", "close"):
        assert f"#{name}" in text
