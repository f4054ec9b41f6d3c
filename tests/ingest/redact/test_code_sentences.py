"""One-time codes named by how they came, showed or failed, pasted SMS, Nordic code words, and
lists of backup codes whose later items carry no digit; next to the numbers that stay."""

from __future__ import annotations

import pytest

from ingest.redact import redact_html, redact_text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("my authenticator app displays 481 920 but it is refused", "481 920"),
        ("Authy showed 55 12 90 and then nothing happened", "55 12 90"),
        ("I entered 662018 from the Google Authenticator app twice", "662018"),
        ("I typed in 7305 1188 from my phone, no luck", "7305 1188"),
        ("your system texted me 302 118 via SMS", "302 118"),
        ("support sent me a code 90-44-17 by email", "90-44-17"),
        ("<#> 774102 is your Acme login code. Do not share it.", "774102"),
        ("G-519 337 is your Google verification code", "519 337"),
        ("448291 ist dein Bestätigungscode", "448291"),
        ("880213 es tu código de acceso", "880213"),
        ("I just got the code 118 406, it does not work", "118 406"),
        ("j'ai reçu le code 55 90 12 hier soir", "55 90 12"),
        ("ho ricevuto il codice 903442 via SMS", "903442"),
        ("ontving de code 7719 2280 per sms", "7719 2280"),
        ("the code received by text is 402 117", "402 117"),
        ("Code 331 870 has expired already", "331 870"),
        ("the code 55190246 doesn't work", "55190246"),
        ("el código 661 023 no funciona", "661 023"),
        ("engångskoden är 552 901", "552 901"),
        ("Engangskoden er 71 22 93.", "71 22 93"),
        ("vahvistuskoodi: 410 228", "410 228"),
    ],
)
def test_one_time_codes_told_in_a_sentence(text: str, code: str) -> None:
    result = redact_text(text)
    assert code not in result.text, result.text
    assert set(result.counts()) == {"otp_code"}, result.counts()


@pytest.mark.parametrize(
    "text",
    [
        "Order 123456 is your reference for the refund.",
        "Call 555 1234 is the number of our office.",
        "error code 404040 expired",
        "I got the promo code 551122 from your newsletter.",
        "they sent me 123456 euros by mistake",
        "I typed 120000 in the amount field.",
        "The app shows 3 errors.",
        "Ticket 884422 is the one I opened last week.",
        "we used 250 000 from the budget",
        "postcode 10115 is your delivery area code",
    ],
)
def test_numbers_in_the_same_sentences_stay(text: str) -> None:
    result = redact_text(text)
    assert result.text == text, result.text


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        (
            "backup codes:\n- k2jd8s0qpl\n- mmvhsyqkaa\n- 3vq0p2l1ds\n- zzkfbpwnre\nThanks!",
            ["k2jd8s0qpl", "mmvhsyqkaa", "3vq0p2l1ds", "zzkfbpwnre"],
        ),
        (
            "Recovery codes (keep safe): QWER-TYUI-OPAS, ZXCV-BNMA-SDFG, 12AB-CD34-EF56.",
            ["QWER-TYUI-OPAS", "ZXCV-BNMA-SDFG", "12AB-CD34-EF56"],
        ),
        (
            "> back-upcodes:\n> HJKL-ASDF-QWER\n> POIU-LKJH-MNBV\n> 9X8Y-7Z6W-5V4U",
            ["HJKL-ASDF-QWER", "POIU-LKJH-MNBV", "9X8Y-7Z6W-5V4U"],
        ),
        (
            "Meine Backupcodes:\n1. 4821 9930\n2. 1177 0248\n3. 5560 8812",
            ["4821 9930", "1177 0248", "5560 8812"],
        ),
    ],
)
def test_whole_lists_of_recovery_codes_are_removed(text: str, codes: list[str]) -> None:
    result = redact_text(text)
    for code in codes:
        assert code not in result.text, result.text
    assert set(result.counts()) == {"recovery_code"}, result.counts()


def test_a_list_ends_where_the_shape_of_its_items_ends() -> None:
    text = "backup codes:\n- k2jd8s0qpl\n- mmvhsyqkaa\n- hello\nBest regards, Anna"
    result = redact_text(text)
    assert "- hello\nBest regards, Anna" in result.text, result.text


@pytest.mark.parametrize(
    "text",
    [
        "backup codes: ENABLED-DEFAULT",
        "recovery codes are useful, keep them somewhere safe.",
        "Backup-Codes: bitte neu erzeugen",
    ],
)
def test_words_after_recovery_code_words_stay(text: str) -> None:
    assert redact_text(text).text == text


def test_a_code_split_by_no_break_spaces_in_html_is_removed() -> None:
    result = redact_html("<p>G-90&nbsp;30&nbsp;66 is your Google verification code</p>")
    assert "90" not in result.text.replace("G-", ""), result.text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("I entered 552190 but it says invalid code", "552190"),
        ("The code I got by SMS, 445566, doesn't work", "445566"),
        ("got a text with 118 832 in it", "118 832"),
        ("tried the code 123456 three times", "123456"),
        ("one time passcode 778 899", "778 899"),
        ("le code à 6 chiffres 903 114 ne marche pas", "903 114"),
        ("Google Authenticator: 556 677", "556 677"),
    ],
)
def test_more_one_time_code_sentences(text: str, code: str) -> None:
    result = redact_text(text)
    assert code not in result.text, result.text
    assert set(result.counts()) == {"otp_code"}, result.counts()


@pytest.mark.parametrize(
    "text",
    [
        "I typed 120 000 in the amount field and the code field stayed empty.",
        "I received an SMS with 2 links.",
        "your system sent me a code 3 times by SMS",
        "The code 200 means OK.",
        "the text with the 2023 invoice attached",
    ],
)
def test_more_numbers_near_code_words_stay(text: str) -> None:
    result = redact_text(text)
    assert result.text == text, result.text


def test_a_code_after_quote_markers_on_the_next_line() -> None:
    result = redact_text("> your code is\n> 482 913\n")
    assert "482 913" not in result.text, result.text


def test_a_number_after_quote_markers_that_is_no_code_stays() -> None:
    text = "the code is\n> 404 in the log"
    assert redact_text(text).text == text


def test_backup_codes_in_an_html_list() -> None:
    html = "<p>Backup codes:</p><ul><li>k2jd8s0qpl</li><li>mmvhsyqkaa</li><li>3vq0p2l1ds</li></ul>"
    result = redact_html(html)
    for code in ("k2jd8s0qpl", "mmvhsyqkaa", "3vq0p2l1ds"):
        assert code not in result.text, result.text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("I got the code 48213 but it fails", "48213"),
        ("j'ai reçu le code 4821", "4821"),
        ("the authenticator shows 4821", "4821"),
        ("mTAN: 559301", "559301"),
        ("Einmalpasswort: 559301", "559301"),
    ],
)
def test_four_and_five_digit_codes_where_the_words_say_code(text: str, code: str) -> None:
    result = redact_text(text)
    assert code not in result.text, result.text


@pytest.mark.parametrize(
    "text", ["I got the code 2024 edition", "the authenticator shows 2023 dates"]
)
def test_years_after_code_words_stay(text: str) -> None:
    assert redact_text(text).text == text
