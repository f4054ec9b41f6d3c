"""Payment cards: numbers in common formats, CVV and expiry next to them, and look-alikes."""

from __future__ import annotations

import pytest

from ingest.redact.cards import is_card_number, network
from ingest.redact.redactor import redact_text

VISA = "4242424242424242"
AMEX = "378282246310005"
MASTERCARD = "5555555555554444"
DISCOVER = "6011111111111117"
DINERS = "30569309025904"
JCB = "3530111333300000"
MC_2SERIES = "2223003122003222"
VISA_13 = "4222222222222"


@pytest.mark.parametrize(
    ("number", "name"),
    [
        (VISA, "visa"),
        (AMEX, "amex"),
        (MASTERCARD, "mastercard"),
        (DISCOVER, "discover"),
        (DINERS, "diners"),
        (JCB, "jcb"),
        (MC_2SERIES, "mastercard"),
        (VISA_13, "visa"),
    ],
)
def test_known_networks_are_recognised(number: str, name: str) -> None:
    assert network(number) == name
    assert is_card_number(number)


@pytest.mark.parametrize(
    "text",
    [
        f"Card: {VISA}",
        "Card: 4242 4242 4242 4242",
        "Karte 4242-4242-4242-4242 bitte belasten",
        "carte 4242.4242.4242.4242 merci",
        "tarjeta 4242\u00a04242\u00a04242\u00a04242",
        "Amex 3782 822463 10005 please",
        f"({MASTERCARD})",
        f"number:{DISCOVER}.",
    ],
)
def test_card_formats_are_removed(text: str) -> None:
    result = redact_text(text)
    assert result.counts() == {"card": 1}
    assert not any(ch.isdigit() for ch in result.text.replace("ending", "").split("[card")[0][-6:])
    digits = "".join(ch for ch in text if ch.isdigit())
    assert digits not in "".join(ch for ch in result.text if ch.isdigit())


def test_marker_names_the_last_four_digits() -> None:
    result = redact_text("Please charge 4242 4242 4242 4242 today")
    assert result.text == "Please charge [card ending 4242 removed] today"
    finding = result.findings[0]
    assert result.text[finding.start : finding.end] == "[card ending 4242 removed]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Card 4242 4242 4242 4242 exp 09/27 CVV 123.",
            "Card [card ending 4242 removed] exp [card expiry removed] CVV "
            "[card security code removed].",
        ),
        (
            "4242424242424242 12/26 321",
            "[card ending 4242 removed] [card expiry removed] [card security code removed]",
        ),
        (
            "Kreditkarte 5555 5555 5555 4444, gültig bis 03/2028, Prüfnummer 987",
            "Kreditkarte [card ending 4444 removed], gültig bis [card expiry removed], "
            "Prüfnummer [card security code removed]",
        ),
        (
            "carte 4242 4242 4242 4242 (Visa), date d'expiration 11/25, cryptogramme 456",
            "carte [card ending 4242 removed] (Visa), date d'expiration [card expiry removed], "
            "cryptogramme [card security code removed]",
        ),
        (
            "tarjeta 378282246310005 vence 01/29 código de seguridad 1234",
            "tarjeta [card ending 0005 removed] vence [card expiry removed] código de seguridad "
            "[card security code removed]",
        ),
    ],
)
def test_cvv_and_expiry_next_to_a_card_are_removed(text: str, expected: str) -> None:
    assert redact_text(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "4242 4242 4242 4241",  # Luhn fails
        "1234 5678 9012 3456",  # no network, Luhn fails
        "Call +49 151 2345 6789 or +1 (555) 123-4567",
        "Order number 4111111111111111 was shipped",
        "Rechnung Nr. 4242424242424242",
        "Tracking: 4242424242424242",
        "Meeting on 2024-01-05 10:30 until 2024-01-06 11:45",
        "IBAN DE89 3704 0044 0532 0130 00",
        "uuid 12345678-1234-1234-1234-123456789012",
        "build 20240105103045123",
        "timestamp 1700000000000",
        "hash abc4242424242424242def",
        "the plan expires 12/26, security questions 1-3",  # no card next to them
    ],
)
def test_look_alikes_are_kept(text: str) -> None:
    result = redact_text(text)
    assert result.text == text
    assert not result.found


def test_card_word_beats_reference_word() -> None:
    text = "Order 1234, card number 4242424242424242"
    assert redact_text(text).counts() == {"card": 1}


def test_card_inside_a_longer_digit_sequence() -> None:
    result = redact_text("ref 1234 4242 4242 4242 4242 thanks")
    assert result.counts() == {"card": 1}
    assert result.text == "ref 1234 [card ending 4242 removed] thanks"
