"""Mail in the customer's language: every customer template in every language, the choice of
language per row, the English fallback, kinds and dates in words, wrapping and separators."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notify import locale
from notify.render import CUSTOMER_KINDS, KINDS, PARTS, Renderer, builtin_templates_dir
from notify.wrap import WIDTH, wrap_text
from store.languages import LANGUAGES, language_code
from tests.notify.samples import CONTEXTS

OTHER_LANGUAGES = tuple(lang for lang in LANGUAGES if lang != "en")
# Words each language's customer mails carry (at least one of them), and English ones that a
# translated mail must not: a left-over English sentence shows up as one of these.
MARKERS = {
    "en": ("Hello,", "status: Waiting on customer"),
    "de": ("Guten Tag,", "Priorität: Hoch"),
    "fr": ("Bonjour,", "priorité : Haute"),
    "es": ("Hola:", "prioridad: Alta"),
    "nl": ("Goedendag,", "prioriteit: Hoog"),
}
ENGLISH = re.compile(
    r"\b(Hello|thank you|Thank you|Please|please|Reply to this mail|We have|we have|"
    r"your request|Your message|ticket has|Priority: |Opened|Requester)\b"
)
PARTIALS = ("_ticket.txt.j2", "_ticket.html.j2", "_customer_footer.txt.j2")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(desk_name="Acme Support")


def _in(language: str, kind: str, **changes: Any) -> dict[str, Any]:
    return {**CONTEXTS[kind], "language": language, **changes}


def test_every_language_has_every_customer_template() -> None:
    root = builtin_templates_dir()
    for language in OTHER_LANGUAGES:
        missing = [
            f"{language}/{kind}.{part}.j2"
            for kind in sorted(CUSTOMER_KINDS)
            for part in PARTS
            if not (root / language / f"{kind}.{part}.j2").is_file()
        ]
        missing += [f"{language}/{p}" for p in PARTIALS if not (root / language / p).is_file()]
        assert missing == []
    assert set(KINDS) >= CUSTOMER_KINDS


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(CUSTOMER_KINDS))
def test_each_customer_kind_renders_in_each_language(
    renderer: Renderer, language: str, kind: str
) -> None:
    rendered = renderer.render(kind, _in(language, kind))
    assert renderer.language_for(kind, _in(language, kind)) == language == rendered.language
    assert rendered.subject and "{{" not in rendered.text + rendered.subject
    assert any(marker in rendered.text for marker in MARKERS[language]), rendered.text
    assert f'<html lang="{language}">' in rendered.html
    # what the desk wrote, without the customer's and the agent's own words
    ours = rendered.text.replace(str(CONTEXTS[kind].get("comment", {}).get("body", "")), "")
    ours = ours.replace(str(CONTEXTS[kind].get("summary", "")), "").replace("Priority: asap", "")
    for other, markers in MARKERS.items():
        if other != language:
            assert not any(m in ours for m in markers), (other, ours)
    if language != "en":
        assert ENGLISH.findall(ours) == [], ours
        assert ENGLISH.findall(rendered.subject) == []
    lines = rendered.text.split("\n")
    assert all(len(line) <= WIDTH for line in lines), [x for x in lines if len(x) > WIDTH]
    assert "-- " in lines and "--" not in lines  # the signature separator, dash dash space
    assert "\n\n\n" not in rendered.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_confirmation_with_every_optional_part_and_a_watcher(
    renderer: Renderer, language: str
) -> None:
    notes = {
        **CONTEXTS["confirmation"]["notes"],
        "credential_exposed": False,
        "redactions": {"card": 2, "password": 1},
    }
    for role in ("requester", "watcher"):
        context = _in(language, "confirmation", recipient_role=role, notes=notes)
        rendered = renderer.render("confirmation", context)
        assert locale.counted("card", 2, language) in rendered.text
        assert locale.counted("password", 1, language) in rendered.text
        assert locale.duration("4 hours", language) in rendered.text
        assert ("jürgen@customer.example" in rendered.text.split("\n\n")[1]) == (role == "watcher")


def test_the_language_comes_from_the_row_then_the_ticket_then_the_default() -> None:
    plain = Renderer(desk_name="D")
    spanish = Renderer(desk_name="D", language="es")
    ticket = {**CONTEXTS["confirmation"]["ticket"], "language": "de"}
    with_ticket = {**CONTEXTS["confirmation"], "ticket": ticket}
    assert plain.language_for("confirmation", with_ticket) == "de"
    assert plain.language_for("confirmation", {**with_ticket, "language": "fr"}) == "fr"
    assert plain.language_for("confirmation", CONTEXTS["confirmation"]) == "en"
    assert spanish.language_for("confirmation", CONTEXTS["confirmation"]) == "es"
    assert spanish.language_for("unknown_sender", CONTEXTS["unknown_sender"]) == "es"
    # rows queued before languages (no key at all) and bad values fall back safely
    assert plain.language_for("confirmation", {**with_ticket, "language": "../x"}) == "en"
    assert plain.language_for("confirmation", {**with_ticket, "language": None}) == "de"


def test_staff_mail_stays_english_unless_a_staff_language_is_set() -> None:
    ticket = {**CONTEXTS["new_ticket_notice"]["ticket"], "language": "de"}
    context = {**CONTEXTS["new_ticket_notice"], "ticket": ticket}
    assert Renderer(desk_name="D").language_for("new_ticket_notice", context) == "en"
    german_staff = Renderer(desk_name="D", staff_language="de")
    # no German staff templates are shipped: the whole mail falls back to English
    assert german_staff.language_for("new_ticket_notice", context) == "en"
    assert "New ticket SUP-1042" in german_staff.render("new_ticket_notice", context).text
    assert german_staff.language_for("staff_reply", context) == "de"  # customer mail


def test_a_kind_missing_in_a_language_is_written_in_english_and_overrides_win(
    tmp_path: Path,
) -> None:
    (tmp_path / "nl").mkdir()
    (tmp_path / "nl" / "mute_notice.subject.j2").write_text("Eigen {{ ticket.number }}\n")
    (tmp_path / "de").mkdir()
    (tmp_path / "de" / "new_ticket_notice.txt.j2").write_text("Neues Ticket {{ ticket.number }}\n")
    renderer = Renderer(desk_name="D", templates_dir=tmp_path, staff_language="de")
    mute = renderer.render("mute_notice", _in("nl", "mute_notice"))
    assert mute.subject == "Eigen SUP-1042"
    assert "U ontvangt geen e-mails meer" in mute.text  # the rest: built-in Dutch
    # a translated text template alone makes the kind German; its other parts come from
    # English (and the German includes where they exist)
    notice = renderer.render("new_ticket_notice", CONTEXTS["new_ticket_notice"])
    assert notice.text == "Neues Ticket SUP-1042\n"
    assert notice.subject.startswith("[SUP-1042] New ticket")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ("a password", "an API key", "2 card numbers", "3 one-time codes")),
        ("de", ("ein Passwort", "ein API-Schlüssel", "2 Kartennummern", "3 Einmalcodes")),
        ("fr", ("un mot de passe", "une clé d'API", "2 numéros de carte bancaire", "3 codes")),
        ("es", ("una contraseña", "una clave de API", "2 números de tarjeta", "3 códigos")),
        ("nl", ("een wachtwoord", "een API-sleutel", "2 kaartnummers", "3 eenmalige codes")),
    ],
)
def test_removed_secrets_are_counted_in_words(language: str, expected: tuple[str, ...]) -> None:
    said = (
        locale.counted("password", 1, language),
        locale.counted("api_key", 1, language),
        locale.counted("card", 2, language),
        locale.counted("otp_code", 3, language),
    )
    assert all(s.startswith(e) for s, e in zip(said, expected, strict=True)), said
    assert locale.counted("new_kind", 2, language) == "New kind: 2"


def test_dates_durations_and_labels_in_each_language(renderer: Renderer) -> None:
    from datetime import UTC, datetime

    moment = datetime(2024, 6, 4, 14, 5, tzinfo=UTC)
    assert locale.date_time(moment, "en") == "Tue 04 Jun 2024 14:05 UTC"
    assert locale.date_time(moment, "de") == "Di. 04.06.2024, 14:05 UTC"
    assert locale.date_time(moment, "fr") == "mar. 4 juin 2024, 14:05 UTC"
    assert locale.date_time(moment, "es") == "mar. 4 jun. 2024, 14:05 UTC"
    assert locale.date_time(moment, "nl") == "di 4 jun 2024 14:05 UTC"
    assert locale.duration("24 hours", "de") == "24 Stunden"
    assert locale.duration("1 day", "fr") == "1 jour"
    assert locale.duration("1.5 hours", "nl") == "1,5 uur"
    assert locale.duration("soon", "es") == "soon"
    assert locale.label("waiting_on_customer", "es") == "Pendiente de su respuesta"
    assert locale.label("my_category", "de") == "My category"
    assert locale.reason("blocked file type .exe", "de") == "Dateityp .exe ist nicht erlaubt"
    assert locale.reason("something new", "fr") == "something new"
    assert locale.reason("contains a password", "nl") == "bevat een wachtwoord"
    assert (
        locale.reason("contains a password, an API key and a payment card number", "de")
        == "enthält ein Passwort, einen API-Schlüssel und eine Kartennummer"
    )
    assert locale.reason("contains a secret", "es") == "contains a secret"


def test_language_tags_are_read_leniently() -> None:
    assert language_code("de-CH") == "de"
    assert language_code("FR_fr") == "fr"
    assert language_code("it, nl;q=0.8") == "nl"
    assert language_code("it") is None
    assert language_code("") is None and language_code(None) is None


@given(
    st.lists(
        st.text(
            alphabet=st.characters(
                blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters=">"
            )
        )
        .filter(bool)
        .map(lambda w: w[:40]),
        max_size=60,
    ),
    st.sampled_from(["", "  ", "  - ", "> ", "> > ", "1. "]),
)
def test_wrapping_never_breaks_a_word_and_keeps_lines_short(words: list[str], lead: str) -> None:
    line = lead + " ".join(words)
    wrapped = wrap_text(f"Hello,\n\n{line}\n-- \nDesk")
    lines = wrapped.split("\n")
    assert lines[:2] == ["Hello,", ""] and lines[-2:] == ["-- ", "Desk"]
    assert all(len(x) <= WIDTH for x in lines)
    quote_marks = lead.count(">") * (len(lines) - 5)  # each continuation line repeats them
    assert wrapped.split().count(">") == lead.count(">") + quote_marks
    words_after = [w for w in wrapped.split() if w != ">"]
    assert words_after == [w for w in f"Hello,\n\n{line}\n-- \nDesk".split() if w != ">"]


def test_a_word_longer_than_a_line_stays_whole() -> None:
    link = "https://files.example/" + "a" * 90
    wrapped = wrap_text(f"Please download it from {link} today.")
    assert wrapped.split("\n") == ["Please download it from", link, "today."]


@pytest.mark.parametrize("kind", KINDS)
def test_every_mail_is_wrapped_and_signs_with_dash_dash_space(
    renderer: Renderer, kind: str
) -> None:
    text = renderer.render(kind, CONTEXTS[kind]).text
    lines = text.split("\n")
    assert all(len(line) <= WIDTH for line in lines), [x for x in lines if len(x) > WIDTH]
    assert "--" not in lines
    if "_staff_footer" in (builtin_templates_dir() / f"{kind}.txt.j2").read_text():
        assert "-- " in lines
