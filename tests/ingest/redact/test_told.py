"""Passwords told in sentences with no password keyword, in several languages, next to the
sentences of the same shape that name a setting, a version, a host or a reference."""

from __future__ import annotations

import pytest

from ingest.redact import redact_html, redact_text


def _assert_removed(text: str, *values: str) -> None:
    result = redact_text(text)
    for value in values:
        assert value not in result.text, result.text
    assert set(result.counts()) == {"password"}, result.counts()


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("Hi, I reset it to Tq8#vLm2 this morning.", ["Tq8#vLm2"]),
        ("I have set it to Blue-Ferret-19 now", ["Blue-Ferret-19"]),
        ("I changed it from Autumn2019 to Zx9!pQrs, still locked out", ["Autumn2019", "Zx9!pQrs"]),
        ("we changed my password from oldPass77 to newPass88.", ["oldPass77", "newPass88"]),
        ("I updated it to 'Ram0na&Co' yesterday", ["Ram0na&Co"]),
        ("so I set it as gZr5TkPw and tried again", ["gZr5TkPw"]),
        ("The new one is pumpkin lagoon ribbon harvest.", ["pumpkin lagoon ribbon harvest"]),
        ("now it's cedar-mosaic-thimble but it still fails", ["cedar-mosaic-thimble"]),
        ("It's now orchid.pylon.marmot, can you check?", ["orchid.pylon.marmot"]),
        ("Please log in with supportdesk and Kq3vR9zLw to see it.", ["Kq3vR9zLw"]),
        ("you can sign in with admin / Pa55-Ward-x", ["Pa55-Ward-x"]),
        ("je l'ai modifié en Chouette42! hier", ["Chouette42!"]),
        ("Je l’ai changé de Loup1234 à Renard5678 ce matin.", ["Loup1234", "Renard5678"]),
        ("Lo cambié de Gato2020 a Perro2021 ayer.", ["Gato2020", "Perro2021"]),
        ("la restablecí a tortuga lámpara cebolla pero sigue igual", ["tortuga lámpara cebolla"]),
        ("l'ho cambiata da Sole2023 a Luna2024# stamattina", ["Sole2023", "Luna2024#"]),
        ("Ontem redefini-a para Caju!8812 mas nada.", ["Caju!8812"]),
        ("ik heb het gewijzigd naar Fiets88!Rood maar het werkt niet", ["Fiets88!Rood"]),
        ("ik heb het naar Molen44Wind veranderd.", ["Molen44Wind"]),
        ("Ich habe es jetzt auf Tannenbaum77! gesetzt", ["Tannenbaum77!"]),
        ("Ich habe es auf Tannenbaum77! zurückgesetzt.", ["Tannenbaum77!"]),
        ("ich hab es von Alt2020x auf Neu2021y geändert", ["Alt2020x", "Neu2021y"]),
        ("Jag bytte det till Kanelbulle9 igår.", ["Kanelbulle9"]),
        ("Jeg ændrede den fra Hygge2020 til Smørrebrød21!", ["Hygge2020", "Smørrebrød21!"]),
        ("Jeg har endret det til Fjell&Fjord7.", ["Fjell&Fjord7"]),
        ("Zmieniłam hasło na Pierogi!2024 wczoraj.", ["Pierogi!2024"]),
        ("Změnil jsem ho z Knedlik11 na Pivo2222x.", ["Knedlik11", "Pivo2222x"]),
    ],
)
def test_passwords_told_in_a_sentence(text: str, values: list[str]) -> None:
    if not values:
        assert not redact_text(text).found
        return
    _assert_removed(text, *values)


@pytest.mark.parametrize(
    "text",
    [
        "I set it to 30 seconds and changed it to 512MB.",
        "I set it to read only mode for now.",
        "We switched it to PostgreSQL last week.",
        "I updated it to v2.3.1, then changed it from 1.4.2 to 1.4.3.",
        "I changed it from monthly to yearly billing.",
        "I set it to en_US.UTF-8 and the timezone to UTC+2.",
        "I set it to mail.example.com and changed it to config.local.yaml.",
        "I changed it to ORD-2291837 as you asked.",
        "now it's showing error messages everywhere.",
        "now it's working again, thanks!",
        "The new one is much faster.",
        "the new one is the same as the old one.",
        "I reset it to factory defaults.",
        "you can log in with Google and Microsoft accounts.",
        "Ich habe es auf morgen verschoben.",
        "je l'ai mis à jour hier.",
        "ik heb het naar de klant gestuurd.",
        "Jag satte det till standard läge.",
        "I set it to https://example.com/login and saved.",
        "I changed it to anna.schmidt@example.com yesterday.",
    ],
)
def test_sentences_of_the_same_shape_that_name_no_password_stay(text: str) -> None:
    result = redact_text(text)
    assert result.text == text, result.text


def test_a_passphrase_split_by_no_break_spaces_in_html_is_removed() -> None:
    html = "<p>I reset it to walrus&nbsp;meadow&nbsp;trumpet&nbsp;basil.</p>"
    result = redact_html(html)
    assert "walrus" not in result.text and "trumpet" not in result.text, result.text


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("It says wrong password but I'm sure it's Pq7mZx2Lw (I checked caps lock)", ["Pq7mZx2Lw"]),
        ("password rejected, though I typed Brise&Mer44 very carefully", ["Brise&Mer44"]),
        ("the temporary password you sent me was Kx!882qLm", ["Kx!882qLm"]),
        ("the password support gave us is Rt5-Ww9-Zq1", ["Rt5-Ww9-Zq1"]),
        ("password was changed to Lemon*Tree3 yesterday", ["Lemon*Tree3"]),
        ("my password should be Pluto2024x but it fails", ["Pluto2024x"]),
        ("New password - Sunrise@88", ["Sunrise@88"]),
        ("I even tried the old password (Spring2023!) again", ["Spring2023!"]),
        ("my password, Garten#77, stopped working", ["Garten#77"]),
        ("it's the same password as before: Zeta!4455", ["Zeta!4455"]),
        ("passphrase: correct horse battery staple", ["correct horse battery staple"]),
        ("creds are deploy/Xk29!pQ", ["Xk29!pQ"]),
        ("credentials: ops / m4ple-Syrup", ["m4ple-Syrup"]),
        ("parola d'ordine: Gatto!2024", ["Gatto!2024"]),
        ("palavra-passe: Sardinha#77", ["Sardinha#77"]),
        ("adgangskoden er Hygge!2020", ["Hygge!2020"]),
        ("salasana on Kissa2020x", ["Kissa2020x"]),
        ("heslo je Pivo2020x", ["Pivo2020x"]),
        ("şifrem: Kedi2020x", ["Kedi2020x"]),
    ],
)
def test_passwords_after_a_keyword_in_more_phrasings(text: str, values: list[str]) -> None:
    _assert_removed(text, *values)


@pytest.mark.parametrize(
    "text",
    [
        "my password is wrong, I tried Chrome and Firefox",
        "the password reset link expired For reference: request_id=req_12ab34cd56ef",
        "Forgot password: nothing happens when I click.",
        "my password, as I said, does not work.",
        "password (see my previous mail) is not accepted.",
        "We switched it to Windows11 last week.",
        "I updated it to Node18 and the new one is iPhone15 Pro.",
        "je l'ai mis à jour hier soir.",
        "Please log in with anna@example.com and let me know.",
        "account is locked: please help",
        "Logga in med det lösenord som skickats till dig",
    ],
)
def test_password_words_without_a_password_stay(text: str) -> None:
    result = redact_text(text)
    assert result.text == text, result.text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("> the new password is\n> Abc123!xyz\n", "Abc123!xyz"),
        ("> I reset it to\n> Violet8362#\n", "Violet8362#"),
        ("Password:\n\nKx9!mmQ2\n", "Kx9!mmQ2"),
    ],
)
def test_a_password_on_the_next_line_or_after_quote_markers(text: str, value: str) -> None:
    _assert_removed(text, value)


@pytest.mark.parametrize(
    "text",
    [
        "password isn't accepted",
        "my password is\nwrong again",
        "Password:\n\nHello team, I cannot log in",
    ],
)
def test_the_next_line_after_a_password_word_stays_when_it_is_prose(text: str) -> None:
    assert redact_text(text).text == text


@pytest.mark.parametrize(
    ("html", "value"),
    [
        ("<table><tr><td>Password</td><td>Kx9!mmQ2</td></tr></table>", "Kx9!mmQ2"),
        ("<p><b>Password:</b> Kx9!mmQ2</p>", "Kx9!mmQ2"),
        ("<div>I reset it to <span>Violet</span>8362#</div>", "8362"),
        ("<p>Mot de passe&nbsp;: Soleil2024!</p>", "Soleil2024"),
        ("<p>my password is&nbsp;<code>Hunter!22</code></p>", "Hunter!22"),
    ],
)
def test_passwords_in_html(html: str, value: str) -> None:
    assert value not in redact_html(html).text
