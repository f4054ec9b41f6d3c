"""The language of mail to a customer: organisation, Content-Language, the text, the desk's
default; kept on the ticket for every later mail about it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.classify.language import detect_language
from ingest.decide.language import choose_language
from ingest.model import Outcome
from notify.render import Renderer
from tests.helpers import example_config, mail
from tests.ingest.desk import Desk

GERMAN = (
    "Guten Tag,\n\nseit heute Morgen funktioniert der Export der Anrufliste nicht mehr. "
    "Wenn ich auf den Knopf klicke, passiert einfach gar nichts. Können Sie mir bitte "
    "helfen?\n\nViele Grüße\nCarol\n"
)
FRENCH = (
    "Bonjour,\n\ndepuis ce matin, l'export de l'historique des appels ne fonctionne plus. "
    "Pouvez-vous regarder ce qui se passe ?\n\nCordialement,\nErin\n"
)
ENGLISH = "Hello,\n\nthe export button does nothing since this morning.\n\nCarol\n"


@pytest.fixture
def desk(tmp_path: Path, sqlite_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, sqlite_url)
    yield d
    d.close()


def _organisations(**languages: str) -> list[dict[str, Any]]:
    organisations: list[dict[str, Any]] = example_config()["organisations"]
    for org in organisations:
        if org["name"] in languages:
            org["language"] = languages[org["name"]]
    return organisations


def _in(language: str, **fields: Any) -> bytes:
    """A mail whose Content-Language is `language` (`EmailMessage.set_content` drops any
    Content-* header given before it, so it goes in front)."""
    return f"Content-Language: {language}\n".encode() + mail(**fields)


def _confirmation_text(desk: Desk, language: str = "en") -> str:
    [row] = desk.outbox("confirmation")
    return Renderer(desk_name="Acme", language=language).render("confirmation", row.context).text


def test_a_german_customer_by_content_language_gets_german_mail(desk: Desk) -> None:
    result = desk.ingest(_in("de-DE", body=ENGLISH))
    assert result.outcome is Outcome.CREATED
    [row] = desk.outbox("confirmation")
    assert row.context["ticket"]["language"] == "de"
    assert desk.ticket(str(result.ticket))["language"] == "de"  # tickets show --json
    text = _confirmation_text(desk)
    assert text.startswith("Guten Tag,\n\nvielen Dank für Ihre Nachricht")
    assert "Priorität:" in text


def test_a_german_customer_by_the_text_gets_german_mail(desk: Desk) -> None:
    desk.send(subject="Export der Anrufliste geht nicht", body=GERMAN)
    assert desk.outbox("confirmation")[0].context["ticket"]["language"] == "de"
    assert "vielen Dank für Ihre Nachricht" in _confirmation_text(desk)


def test_later_mail_on_the_ticket_keeps_its_language(desk: Desk) -> None:
    created = desk.send(body=GERMAN)
    desk.ingest(_in("en", subject=f"Re: [{created.ticket}]", body="#mute\n"))
    [row] = desk.outbox("mute_notice")
    assert row.context["ticket"]["language"] == "de"
    rendered = Renderer(desk_name="Acme").render("mute_notice", row.context)
    assert "ab sofort erhalten Sie keine E-Mails mehr" in rendered.text


def test_the_organisations_language_wins(tmp_path: Path, sqlite_url: str) -> None:
    desk = Desk(tmp_path, sqlite_url, organisations=_organisations(Acme="fr"))
    try:
        desk.ingest(_in("de", body=GERMAN))
        assert desk.outbox("confirmation")[0].context["ticket"]["language"] == "fr"
        assert _confirmation_text(desk).startswith("Bonjour,\n\nMerci d'avoir contacté")
        # another organisation's people: from their mail
        desk.send(sender="erin@globex.example", body=FRENCH, subject="Export")
        rows = desk.outbox("confirmation")
        assert [r.context["ticket"]["language"] for r in rows] == ["fr", "fr"]
    finally:
        desk.close()


def test_without_a_clue_the_desks_language_is_used(tmp_path: Path, sqlite_url: str) -> None:
    desk = Desk(tmp_path, sqlite_url, desk={"language": "es"})
    try:
        desk.send(body="Server down!\n")  # too short to tell
        assert desk.outbox("confirmation")[0].context["ticket"]["language"] == "es"
        assert _confirmation_text(desk, "es").startswith("Hola:\n\nGracias")
        desk.send(body=ENGLISH + ENGLISH)
        assert desk.outbox("confirmation")[1].context["ticket"]["language"] == "en"
    finally:
        desk.close()


def test_a_stranger_is_answered_in_their_language(desk: Desk) -> None:
    result = desk.send(sender="stranger@nowhere.example", body=GERMAN)
    assert result.outcome is Outcome.REJECTED
    [row] = desk.outbox("unknown_sender")
    assert row.context["language"] == "de"
    text = Renderer(desk_name="Acme").render("unknown_sender", row.context).text
    assert "Ihre E-Mail-Adresse bei uns nicht registriert" in " ".join(text.split())


def test_detection_needs_enough_text_and_a_language_the_desk_writes() -> None:
    assert detect_language(GERMAN) == "de"
    assert detect_language(FRENCH) == "fr"
    assert detect_language("Hola, no puedo acceder a mi cuenta desde ayer. ¿Me pueden ayudar?")
    assert detect_language("Danke!") is None
    assert (
        detect_language("[password removed] [api key removed] https://x.example/a/b 12345") is None
    )
    italian = (
        "Buongiorno, da stamattina l'esportazione delle chiamate non funziona più. Potete aiutarmi?"
    )
    assert detect_language(italian) is None
    russian = "Здравствуйте, у меня с сегодняшнего утра не работает экспорт звонков, помогите"
    assert detect_language(russian) is None  # not a script the desk writes
    assert detect_language(GERMAN) == detect_language(GERMAN)  # seeded: the same every time


def test_the_order_of_the_clues() -> None:
    def choose(org: str | None, header: str | None, text: str) -> str:
        return choose_language(
            organisation_language=org,
            content_language=header,
            detected=detect_language(text),
            default="nl",
        )

    assert choose("fr", "de", GERMAN) == "fr"
    assert choose(None, "de", FRENCH) == "de"
    assert choose(None, "it", FRENCH) == "fr"  # a header the desk cannot write is skipped
    assert choose(None, None, FRENCH) == "fr"
    assert choose(None, None, "ok") == "nl"


def test_plain_function_words_decide_without_the_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mail that names its language plainly by its function words is judged in
    microseconds; the detector is asked only where they do not (and never overrules a
    language the desk does not write)."""
    from ingest.classify import language

    def no_detector() -> object:
        raise AssertionError("the detector was asked")

    monkeypatch.setattr(language, "_detector", no_detector)
    assert detect_language(GERMAN) == "de"
    english = (
        "Hello, since this morning the call recordings are not exported anymore and the "
        "export job stays pending. Could you please check this for us? Thanks, Carol"
    )
    assert detect_language(english) == "en"
    italian = "Buongiorno, non riesco più ad accedere al portale della azienda, grazie per questo"
    assert language._by_function_words(italian) is None  # Italian leads: left to the detector
