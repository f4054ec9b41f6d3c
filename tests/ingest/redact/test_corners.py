"""Secrets in the corners: names, file names, Message-IDs, UTF-16 text, CSV columns."""

from __future__ import annotations

import codecs
import random

import pytest

from ingest.redact.csv_columns import column_kind, redact_table
from ingest.redact.headers import redact_filename, redact_name, safe_message_id
from ingest.redact.textfile import decode_text, encode_text

CARD = "4111 1111 1111 1111"
PASSWORD = "Xk9#mPq2vLr"
KEY = "desk-secret"


def test_a_display_name_holding_a_card_is_redacted() -> None:
    result = redact_name(CARD)
    assert "4111" not in result.text.replace("ending 1111", "") and result.counts() == {"card": 1}
    assert redact_name("Carol Customer").text == "Carol Customer"


def test_a_file_name_keeps_its_extension_when_the_stem_held_the_secret() -> None:
    assert redact_filename(f"card {CARD}.pdf").text == "card [card ending 1111 removed].pdf"
    assert redact_filename(f"password={PASSWORD}.txt").text == "password=[password removed].txt"
    assert redact_filename("report 2026.pdf").text == "report 2026.pdf"


@pytest.mark.parametrize(
    "message_id",
    ["<password=hunter2@x.example>", "<4111111111111111@acme.example>",
     "<ghp_R8aZ3kLmN0pQ7sT2vX5yB9cD1eF4gH6jK8mP@x.example>"],
)  # fmt: skip
def test_a_message_id_holding_a_secret_gets_a_stable_keyed_stand_in(message_id: str) -> None:
    stand_in = safe_message_id(message_id, KEY)
    assert stand_in is not None and stand_in != message_id
    assert stand_in.startswith("<redacted.") and stand_in.endswith("@postdesk.invalid>")
    assert safe_message_id(message_id, KEY) == stand_in  # the same every time: threads hold
    assert safe_message_id(message_id, "another key") != stand_in  # keyed, not a bare hash


def test_ordinary_message_ids_are_kept_exactly() -> None:
    for mid in ["<CAF=abc+123@mail.gmail.com>", "<20261123.1234@acme.example>", None, ""]:
        assert safe_message_id(mid, KEY) == mid


@pytest.mark.parametrize(
    ("codec", "bom"),
    [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
     ("utf-16-le", b""), ("utf-16-be", b""), ("utf-32-le", codecs.BOM_UTF32_LE),
     ("utf-32-be", b""), ("utf-8", codecs.BOM_UTF8), ("cp1252", b"")],
)  # fmt: skip
def test_text_files_are_read_and_written_back_in_their_encoding(codec: str, bom: bytes) -> None:
    text = f"Grüße\nmy password is {PASSWORD}\n"
    data = bom + text.encode(codec)
    charset = "windows-1252" if codec == "cp1252" else None
    decoded, encoding = decode_text(data, charset)
    assert decoded == text
    assert encode_text(decoded, encoding) == data
    written = encode_text(decoded.replace(PASSWORD, "[password removed]"), encoding)
    assert written.startswith(bom) and PASSWORD.encode(codec) not in written


def test_a_declared_utf16_charset_without_a_mark_is_big_endian() -> None:
    decoded, encoding = decode_text("日本語のパスワード".encode("utf-16-be"), "utf-16")
    assert decoded == "日本語のパスワード" and encoding.codec == "utf-16-be"


def test_csv_columns_named_like_secrets_are_emptied_whole() -> None:
    table = (
        "id;User;Passwort;Kartennummer;CVV;API_Key;notes\r\n"
        f"1;carol;hunter2;{CARD};737;abc123;my password is {PASSWORD}\r\n"
        "2;bob;;;;;fine\r\n"
    )
    result = redact_table(table, "export.csv")
    for secret in ("hunter2", "4111", "737", "abc123", PASSWORD):
        assert secret not in result.text
    assert result.text.splitlines()[2] == "2;bob;;;;;fine"  # empty cells stay empty
    assert "1;carol;[password removed];[card removed];[card security code removed]" in result.text
    assert result.counts() == {"api_key": 1, "card": 1, "card_cvv": 1, "password": 2}
    assert all(result.text[f.start : f.end].startswith("[") for f in result.findings)


def test_tsv_and_other_languages_and_look_alikes() -> None:
    assert "s3cr" not in redact_table("name\tmot de passe\nann\ts3cr\n", "a.tsv").text
    for header, kind in [("password", "password"), ("db_password", "password"),
                         ("Api Key", "api_key"), ("apikey", "api_key"), ("PIN", "password"),
                         ("Credit Card Number", "card"), ("Contraseña", "password")]:  # fmt: skip
        assert column_kind(header) == kind, header
    for header in ["Password Hint", "Card Type", "token count", "pass/fail", "CC", "email"]:
        assert column_kind(header) is None, header


def test_a_table_the_csv_module_cannot_read_falls_back_to_text() -> None:
    result = redact_table(f'password,"x\nmy password is {PASSWORD}\n', "bad.csv")
    assert PASSWORD not in result.text


def test_message_ids_made_by_mail_software_keep_their_long_random_numbers() -> None:
    """Python's make_msgid writes 64 random bits in decimal: one in ten such numbers passes
    the Luhn check, and none is a card. They keep their id (and so their threading)."""
    rng = random.Random(20)
    ids = [
        f"<{rng.randrange(10**11, 10**12)}.{rng.randrange(1, 99999)}."
        f"{rng.getrandbits(64)}@host{n}.example>"
        for n in range(2000)
    ]
    assert [i for i in ids if safe_message_id(i, "key") != i] == []
    # a card typed into an id is still caught, grouped or as 16 digits
    assert safe_message_id("<4111111111111111@x.example>", "key") != "<4111111111111111@x.example>"
    assert safe_message_id("<4111-1111-1111-1111@x>", "key") != "<4111-1111-1111-1111@x>"
