"""Passwords, one-time codes and recovery codes as people write them in the languages of
the mails we get (DE FR ES IT NL PT SV PL DA NO FI CS TR): the same sentences in each."""

from __future__ import annotations

import pytest

from ingest.redact import redact_text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Mein Passwort ist Sonne2024! und geht nicht", "Sonne2024!"),
        ("Das neue Kennwort lautet: Blume#88", "Blume#88"),
        ("Ich habe mein Passwort auf Regen2024x geändert", "Regen2024x"),
        ("Zugangsdaten: admin / Wolke77!", "Wolke77!"),
        ("Mon mot de passe est Soleil2024!", "Soleil2024!"),
        ("Le nouveau mot de passe : Fleur#88", "Fleur#88"),
        ("J'ai changé mon mot de passe en Pluie2024x", "Pluie2024x"),
        ("Mi contraseña es Sol2024!x", "Sol2024!x"),
        ("La nueva contraseña: Flor#8812", "Flor#8812"),
        ("Cambié mi contraseña a Lluvia2024x", "Lluvia2024x"),
        ("La mia password è Sole2024!x", "Sole2024!x"),
        ("La nuova password: Fiore#8812", "Fiore#8812"),
        ("Ho cambiato la password in Pioggia2024x", "Pioggia2024x"),
        ("Mijn wachtwoord is Zon2024!x", "Zon2024!x"),
        ("Het nieuwe wachtwoord: Bloem#8812", "Bloem#8812"),
        ("Ik heb mijn wachtwoord veranderd in Regen2024x", "Regen2024x"),
        ("A minha senha é Sol2024!x", "Sol2024!x"),
        ("A nova senha: Flor#8812", "Flor#8812"),
        ("Mudei a senha para Chuva2024x", "Chuva2024x"),
        ("Mitt lösenord är Sol2024!x", "Sol2024!x"),
        ("Det nya lösenordet: Blomma#8812", "Blomma#8812"),
        ("Jag ändrade lösenordet till Regn2024x", "Regn2024x"),
        ("Moje hasło to Slonce2024!x", "Slonce2024!x"),
        ("Nowe hasło: Kwiat#8812", "Kwiat#8812"),
        ("Zmieniłem hasło na Deszcz2024x", "Deszcz2024x"),
        ("Min adgangskode er Sol2024!x", "Sol2024!x"),
        ("Den nye adgangskode: Blomst#8812", "Blomst#8812"),
        ("Jeg har ændret adgangskoden til Regn2024x", "Regn2024x"),
        ("Mitt passord er Sol2024!x", "Sol2024!x"),
        ("Nytt passord: Blomst#8812", "Blomst#8812"),
        ("Jeg endret passordet til Regn2024x", "Regn2024x"),
        ("Salasanani on Aurinko2024!x", "Aurinko2024!x"),
        ("Uusi salasana: Kukka#8812", "Kukka#8812"),
        ("Moje heslo je Slunce2024!x", "Slunce2024!x"),
        ("Nové heslo: Kvetina#8812", "Kvetina#8812"),
        ("Změnil jsem heslo na Dest2024x", "Dest2024x"),
        ("Şifrem Gunes2024!x", "Gunes2024!x"),
        ("Yeni şifre: Cicek#8812", "Cicek#8812"),
        ("Şifremi Yagmur2024x olarak değiştirdim", "Yagmur2024x"),
    ],
)
def test_passwords_in_many_languages(text: str, value: str) -> None:
    result = redact_text(text)
    assert value not in result.text, result.text
    assert set(result.counts()) == {"password"}, result.counts()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Der Bestätigungscode war 482 913", "482 913"),
        ("Mein Code aus der SMS: 559301", "559301"),
        ("Le code de vérification reçu est 482913", "482913"),
        ("code reçu : 55 93 01", "55 93 01"),
        ("El código que me llegó es 482913", "482913"),
        ("código de verificación: 559 301", "559 301"),
        ("Il codice di verifica è 482913", "482913"),
        ("il codice che ho ricevuto è 559301", "559301"),
        ("De verificatiecode is 482913", "482913"),
        ("de code die ik kreeg was 559301", "559301"),
        ("O código de verificação é 482913", "482913"),
        ("o código que recebi foi 559301", "559301"),
        ("Verifieringskoden är 482913", "482913"),
        ("koden jag fick var 559301", "559301"),
        ("Kod weryfikacyjny to 482913", "482913"),
        ("kod, który dostałem, to 559301", "559301"),
        ("Bekræftelseskoden er 482913", "482913"),
        ("Engangskoden er 482913", "482913"),
        ("Vahvistuskoodi on 482913", "482913"),
        ("Ověřovací kód je 482913", "482913"),
        ("Doğrulama kodu: 482913", "482913"),
    ],
)
def test_one_time_codes_in_many_languages(text: str, code: str) -> None:
    result = redact_text(text)
    assert code not in result.text, result.text
    assert set(result.counts()) == {"otp_code"}, result.counts()


@pytest.mark.parametrize(
    "text",
    [
        "Wiederherstellungscodes: 1a2b3c4d, 5e6f7g8h, 9i0j1k2l",
        "Codes de secours : 1a2b3c4d 5e6f7g8h 9i0j1k2l",
        "Códigos de recuperación: 1a2b3c4d, 5e6f7g8h, 9i0j1k2l",
        "Codici di backup: 1a2b3c4d, 5e6f7g8h, 9i0j1k2l",
        "Herstelcodes: 1a2b3c4d, 5e6f7g8h, 9i0j1k2l",
        "Códigos de backup: 1a2b3c4d, 5e6f7g8h, 9i0j1k2l",
        "Reservkoder: 1a2b3c4d, 5e6f7g8h, 9i0j1k2l",
        "Kody zapasowe: 1a2b3c4d, 5e6f7g8h, 9i0j1k2l",
        "Gendannelseskoder: 1a2b3c4d, 5e6f7g8h, 9i0j1k2l",
        "Reservekoder: 1a2b3c4d, 5e6f7g8h, 9i0j1k2l",
        "Varakoodit: 1a2b3c4d, 5e6f7g8h, 9i0j1k2l",
        "Záložní kódy: 1a2b3c4d, 5e6f7g8h, 9i0j1k2l",
        "Yedek kodlar: 1a2b3c4d, 5e6f7g8h, 9i0j1k2l",
    ],
)
def test_recovery_codes_in_many_languages(text: str) -> None:
    result = redact_text(text)
    for code in ("1a2b3c4d", "5e6f7g8h", "9i0j1k2l"):
        assert code not in result.text, result.text
    assert set(result.counts()) == {"recovery_code"}, result.counts()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Heslo jsem změnil na Dest2024x", "Dest2024x"),
        ("Passordet mitt er nå Sol2024!x", "Sol2024!x"),
        ("Adgangskoden er nu Sol2024!x", "Sol2024!x"),
        ("Yeni şifrem Gunes2024!x oldu", "Gunes2024!x"),
    ],
)
def test_passwords_with_possessives_and_now(text: str, value: str) -> None:
    assert value not in redact_text(text).text
