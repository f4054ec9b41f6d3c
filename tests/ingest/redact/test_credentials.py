"""Credentials: passwords in prose (EN/DE/FR/ES), provider keys, tokens, keys, codes.

Key-shaped test values are assembled at run time so that no scanner mistakes this file
for a leak.
"""

from __future__ import annotations

import random
import string

import pytest

from ingest.redact.redactor import redact_text

_RNG = random.Random(1234)
B62 = string.ascii_letters + string.digits


def rand(size: int, alphabet: str = B62) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(size))


def only(text: str) -> dict[str, int]:
    return redact_text(text).counts()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my password is hunter2", "my password is [password removed]"),
        ("My password is 'correct horse'", "My password is '[password removed]'"),
        ("pw: x8Jk!k", "pw: [password removed]"),
        ("pwd=Tr0ub4dor&3", "pwd=[password removed]"),
        ("Password: Sommer", "Password: [password removed]"),
        (
            "The password for the admin account is Xyz123!",
            "The password for the admin account is [password removed]",
        ),
        ("I changed the password to Winter2024.", "I changed the password to [password removed]."),
        ("Mein Passwort ist Geheim123", "Mein Passwort ist [password removed]"),
        ("Passwort: Sommer2024!", "Passwort: [password removed]"),
        ("das Kennwort lautet: abc-123-xyz", "das Kennwort lautet: [password removed]"),
        ("mon mot de passe est azerty123", "mon mot de passe est [password removed]"),
        ("Mot de passe : Soleil!2023", "Mot de passe : [password removed]"),
        ("mdp: chat*noir9", "mdp: [password removed]"),
        ("mi contraseña es Hola1234", "mi contraseña es [password removed]"),
        ("Contraseña: perro-azul-77", "Contraseña: [password removed]"),
        ("la clave es Madrid#2020", "la clave es [password removed]"),
        ("login: bob / hunter2", "login: bob / [password removed]"),
        ("user/pass: bob/hunter2", "user/pass: bob/[password removed]"),
        (
            "Benutzer: anna.schmidt | Passwort: Fruehling24",
            "Benutzer: anna.schmidt | Passwort: [password removed]",
        ),
        ("credentials: admin:S3cure!pass", "credentials: admin:[password removed]"),
        ("DB_PASSWORD=Tr0ub4dor&3", "DB_PASSWORD=[password removed]"),
        ('{"password": "p4ssw0rd!"}', '{"password": "[password removed]"}'),
        ("password: 'with spaces inside'", "password: '[password removed]'"),
        ("<password>hunter22</password>", "<password>[password removed]</password>"),
        ("userPassword: Sommer2024", "userPassword: [password removed]"),
        ("Passphrase: correct-horse-battery-staple", "Passphrase: [password removed]"),
        ("PIN: 4821", "PIN: [pin removed]"),
        ("password Sommer2024! doesn't work", "password [password removed] doesn't work"),
    ],
)
def test_passwords_in_prose_and_config(text: str, expected: str) -> None:
    result = redact_text(text)
    assert result.text == expected
    assert set(result.counts()) <= {"password"}


@pytest.mark.parametrize(
    "text",
    [
        "Please send me a password reset link.",
        "I forgot my password, can you help?",
        "My password is expired since Monday.",
        "Password: reset",
        "Passwort vergessen",
        "Password reset: https://example.com/reset?x=1",
        "Le mot de passe est incorrect.",
        "La contraseña es incorrecta",
        "The password policy requires 12 characters.",
        "The password was changed on 2024-01-05.",
        "password: ********",
        "Login: https://app.example.com/login",
        "Login: 10:30 today",
        "User: Bob / Accounting",
        "Our passwords are rotated every 90 days.",
        "I'll pass on that, thanks.",
        "password-protected PDF attached",
    ],
)
def test_words_about_passwords_are_kept(text: str) -> None:
    result = redact_text(text)
    assert result.text == text


def test_aws_access_key_and_secret() -> None:
    key_id = "AKIA" + rand(16, string.ascii_uppercase + string.digits)
    secret = rand(18) + "/" + rand(10) + "+" + rand(10)
    result = redact_text(f"aws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
    assert (
        result.text
        == "aws_access_key_id = [aws key removed]\naws_secret_access_key = [aws secret removed]\n"
        or (key_id not in result.text and secret not in result.text)
    )
    assert result.counts() == {"api_key": 2}


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("ghp_" + rand(36), "github token"),
        ("github_pat_" + rand(22) + "_" + rand(59), "github token"),
        ("glpat-" + rand(20), "gitlab token"),
        ("xoxb-" + rand(12, string.digits) + "-" + rand(24), "slack token"),
        ("sk_live_" + rand(24), "stripe key"),
        ("rk_test_" + rand(24), "stripe key"),
        ("whsec_" + rand(32), "webhook secret"),
        ("AIza" + rand(35), "google api key"),
        ("sk-proj-" + rand(48), "api key"),
        ("sk-" + rand(48), "api key"),
        ("SK" + rand(32, "0123456789abcdef"), "twilio key"),
        ("SG." + rand(22) + "." + rand(43), "sendgrid key"),
        ("npm_" + rand(36), "npm token"),
        ("hf_" + rand(34), "hugging face token"),
        ("abc8Q~" + rand(34, B62 + "_~.-"), "azure secret"),
        (
            "https://hooks.slack.com/services/T" + rand(8) + "/B" + rand(8) + "/" + rand(24),
            "slack webhook",
        ),
    ],
)
def test_provider_keys(value: str, label: str) -> None:
    result = redact_text(f"Here is the key we use {value} for production")
    assert value not in result.text
    assert f"[{label} removed]" in result.text
    assert result.counts() == {"api_key": 1}


@pytest.mark.parametrize(
    "text",
    [
        "API key: {v}",
        "api_key={v}",
        "X-Api-Key: {v}",
        'client_secret: "{v}"',
        '"clientSecret": "{v}"',
        "accessToken={v}",
        "Our token is {v}",
        "Mein API-Schlüssel: {v}",
        "clé API : {v}",
        "SECRET_KEY = '{v}'",
        "private-token: {v}",
    ],
)
def test_generic_values_after_keywords(text: str) -> None:
    value = rand(32)
    result = redact_text(text.format(v=value))
    assert value not in result.text
    assert result.counts() == {"api_key": 1}


@pytest.mark.parametrize(
    "text",
    [
        "key: SUP-1042",
        "The key takeaway is simple.",
        "token: expired",
        "secret: not telling",
        "Idempotency key for order 1042",
        "commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it",
        "request id 123e4567-e89b-12d3-a456-426614174000",
        "the token 3f786850e387550fdab836ed7e6dc881de23001b",
    ],
)
def test_ordinary_values_after_keywords_are_kept(text: str) -> None:
    assert redact_text(text).text == text


def test_authorization_header_and_bearer() -> None:
    token = rand(40)
    result = redact_text(f"Authorization: Bearer {token}\nAuthorization: Basic {rand(24)}=")
    assert token not in result.text
    assert result.text.startswith(
        "Authorization: Bearer [authorization removed]\nAuthorization: Basic ["
    )
    assert result.counts() == {"bearer_token": 2}
    curl = redact_text(f"curl -H 'x: y' then use bearer {token} again")
    assert curl.counts() == {"bearer_token": 1}
    assert redact_text("the bearer of this letter").text == "the bearer of this letter"


def test_jwt() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." + rand(43, B62 + "_-")
    result = redact_text(f"token={jwt}")
    assert result.text == "token=[jwt removed]"
    assert result.counts() == {"jwt": 1}


def test_pem_private_key_block() -> None:
    body = "\n".join(rand(64, B62 + "+/") for _ in range(5))
    begin, end = "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----"
    text = f"Key below:\n{begin}\n{body}\n{end}\nThanks"
    result = redact_text(text)
    assert result.text == "Key below:\n[private key removed]\nThanks"
    truncated = redact_text(f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n\nRegards")
    assert truncated.text == "[private key removed]\n\nRegards"
    escaped = redact_text(
        '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEv\\n-----END PRIVATE KEY-----\\n"}'
    )
    assert escaped.counts() == {"private_key": 1}
    assert "MIIEv" not in escaped.text


def test_public_key_and_certificate_are_kept() -> None:
    text = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    assert redact_text(text).text == text


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        (
            "https://bob:pa55word@example.com/x",
            "https://bob:[url password removed]@example.com/x",
            "url_credentials",
        ),
        (
            "ftp://user:s3cret@files.example.com",
            "ftp://user:[url password removed]@files.example.com",
            "url_credentials",
        ),
        (
            "postgres://app:S3cret@db:5432/app",
            "postgres://app:[database password removed]@db:5432/app",
            "connection_string",
        ),
        (
            "mongodb+srv://u:p%40ss@cluster0.example.net/db",
            "mongodb+srv://u:[database password removed]@cluster0.example.net/db",
            "connection_string",
        ),
        (
            "redis://:hunter2@cache:6379/0",
            "redis://:[database password removed]@cache:6379/0",
            "connection_string",
        ),
        (
            "jdbc:mysql://root:toor@localhost/db",
            "jdbc:mysql://root:[database password removed]@localhost/db",
            "connection_string",
        ),
        (
            "Server=tcp:x.database.windows.net;Database=db;User ID=app;Password=Secr3t!;",
            "Server=tcp:x.database.windows.net;Database=db;User ID=app;"
            "Password=[database password removed];",
            "connection_string",
        ),
    ],
)
def test_urls_and_connection_strings(text: str, expected: str, kind: str) -> None:
    result = redact_text(text)
    assert result.text == expected
    assert result.counts() == {kind: 1}


def test_azure_storage_connection_string() -> None:
    key = rand(86) + "=="
    result = redact_text(
        f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={key};EndpointSuffix=core.windows.net"
    )
    assert key not in result.text
    assert result.counts() == {"connection_string": 1}


@pytest.mark.parametrize(
    "text",
    [
        "http://example.com:8080/path",
        "ssh://git@github.com:22/repo.git",
        "mailto:bob@example.com",
        "see https://docs.example.com/a:b@c for details",
    ],
)
def test_urls_without_password_are_kept(text: str) -> None:
    assert redact_text(text).text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Your verification code is 482913.", "Your verification code is [one-time code removed]."),
        ("2FA code: 123 456", "2FA code: [one-time code removed]"),
        ("OTP 558812", "OTP [one-time code removed]"),
        ("Bestätigungscode: 123456", "Bestätigungscode: [one-time code removed]"),
        ("Der Sicherheitscode lautet 99812", "Der Sicherheitscode lautet [one-time code removed]"),
        ("code de vérification : 654321", "code de vérification : [one-time code removed]"),
        ("código de verificación 778812", "código de verificación [one-time code removed]"),
        ("TAN: 123456", "TAN: [one-time code removed]"),
    ],
)
def test_one_time_codes(text: str, expected: str) -> None:
    result = redact_text(text)
    assert result.text == expected
    assert result.counts() == {"otp_code": 1}


@pytest.mark.parametrize(
    "text",
    [
        "recovery codes: a1b2c-3d4e5 f6g7h-8i9j0 k1l2m-3n4o5",
        "Here are my backup codes:\n1234 5678\n9012 3456\n",
        "Wiederherstellungscodes: 7d9f2a1c, 3e8b0f4d",
        "codes de récupération : 8f3a-2b1c 9d4e-5f6a",
        "códigos de recuperación: 11aa22bb 33cc44dd",
    ],
)
def test_recovery_codes(text: str) -> None:
    result = redact_text(text)
    assert result.counts() == {"recovery_code": 1}
    assert "[recovery codes removed]" in result.text


@pytest.mark.parametrize(
    "text",
    [
        "error code 1234 on export",
        "postal code 10115",
        "Two-factor authentication is enabled since 2023.",
        "promo code SAVE2024",
        "the recovery code feature is missing",
        "source code 2024 edition",
    ],
)
def test_codes_that_are_not_secrets_are_kept(text: str) -> None:
    assert redact_text(text).text == text


def test_everyday_identifiers_survive() -> None:
    text = (
        "Ticket SUP-1042 / [SUP-1043], invoice INV-2024-00042, order 1234567890, "
        "tracking 1Z999AA10123456784, call +49 30 12345678 or (555) 123-4567, "
        "on 2024-01-05 at 10:30 (05.01.2024, 1/5/24), price €1,234.56 or $99.00, "
        "IP 192.168.1.10 and 2001:db8::1, version 2.3.4-rc1, "
        "uuid 123e4567-e89b-12d3-a456-426614174000, "
        "commit 3f786850e387550fdab836ed7e6dc881de23001b."
    )
    result = redact_text(text)
    assert result.text == text
    assert not result.found


def test_findings_carry_no_values() -> None:
    secret = "Sommer2024!"
    result = redact_text(f"Passwort: {secret}")
    assert secret not in repr(result.findings)
    assert secret not in result.text
    assert result.found


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("my password is banana", "banana"),
        ("My password is banana.", "banana"),
        ("Passwort ist Sommer", "Sommer"),
        ("mon mot de passe est soleil", "soleil"),
        ("mi contraseña es manzana, gracias", "manzana"),
    ],
)
def test_plain_word_password_that_ends_the_clause_is_removed(text: str, word: str) -> None:
    result = redact_text(text)
    assert result.counts() == {"password": 1}
    assert word not in result.text


@pytest.mark.parametrize(
    "text",
    [
        "the password is wrong",
        "my password is not working",
        "my password is expired",
        "my password is correct but login fails",
        "the password is case sensitive",
        "Das Passwort ist falsch.",
        "le mot de passe est bloqué",
    ],
)
def test_words_describing_a_password_stay(text: str) -> None:
    assert redact_text(text).text == text
