"""Decoys for the redaction evaluation set: numbers and identifiers that must be kept.

`MAKERS` maps each decoy kind to a value maker; the phrasings it is written in are in
redact_evalset_decoy_phrases. Many sit next to words a detector listens for ("code",
"key", "token", "password") without being secrets: "error code 0x80070005", "postal code",
"my password is not working", "the reset link expired".
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from redact_evalset_decoy_phrases import NO_VALUE_PHRASES, PHRASES
from redact_evalset_values import HEX, UPPER_DIGITS, b64, luhn_number, rand, uuid

Maker = Callable[[random.Random], str]
D = string.digits


def _iban(rng: random.Random) -> str:
    country, size = rng.choice([("DE", 18), ("FR", 23), ("ES", 20), ("NL", 14), ("IT", 23)])
    if country == "NL":
        bban = rand(rng, string.ascii_uppercase, 4) + rand(rng, D, 10)
    elif country == "IT":
        bban = rng.choice(string.ascii_uppercase) + rand(rng, D, 10) + rand(rng, UPPER_DIGITS, 12)
    else:
        bban = rand(rng, D, size)
    moved = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in moved)
    check = f"{98 - int(numeric) % 97:02d}"
    iban = country + check + bban
    if rng.random() < 0.7:
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


def _phone(rng: random.Random) -> str:
    return rng.choice(
        [
            f"+49 30 {rand(rng, D, 4)} {rand(rng, D, 4)}",
            f"+33 1 {rand(rng, D, 2)} {rand(rng, D, 2)} {rand(rng, D, 2)} {rand(rng, D, 2)}",
            f"(555) {rand(rng, D, 3)}-{rand(rng, D, 4)}",
            f"+1-202-555-{rand(rng, D, 4)}",
            f"0{rand(rng, '1234567', 3)} {rand(rng, D, 7)}",
            f"+34 91 {rand(rng, D, 3)} {rand(rng, D, 2)} {rand(rng, D, 2)}",
            f"+46 8 {rand(rng, D, 3)} {rand(rng, D, 3)} {rand(rng, D, 2)}",
            f"+48 22 {rand(rng, D, 3)} {rand(rng, D, 2)} {rand(rng, D, 2)}",
        ]
    )


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(2019, 2026), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        [f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{m}/{d}/{y}", f"{d}/{m:02d}/{y}"]
    )


def _masked(rng: random.Random) -> str:
    last = rand(rng, D, 4)
    return rng.choice(
        [f"**** {last}", f"**** **** **** {last}", f"XXXX-XXXX-XXXX-{last}", f"ending in {last}"]
    )


def _luhn_noncard(rng: random.Random) -> str:
    number = luhn_number(rng, rng.choice(["8", "9", "0", "71", "18"]), 16)
    return number if rng.random() < 0.6 else " ".join(number[i : i + 4] for i in range(0, 16, 4))


def _isbn(rng: random.Random) -> str:
    body = "978" + rand(rng, D, 9)
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body))
    full = body + str((10 - total % 10) % 10)
    return f"{full[:3]}-{full[3]}-{full[4:8]}-{full[8:12]}-{full[12]}"


def _imei(rng: random.Random) -> str:
    return luhn_number(rng, "35" + rand(rng, D, 6), 15)


def _ean(rng: random.Random) -> str:
    body = rng.choice(["40", "50", "73", "84"]) + rand(rng, D, 10)
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _vat(rng: random.Random) -> str:
    return rng.choice(
        [
            f"DE{rand(rng, D, 9)}",
            f"FR{rand(rng, D, 11)}",
            f"ESB{rand(rng, D, 8)}",
            f"NL{rand(rng, D, 9)}B01",
            f"IT{rand(rng, D, 11)}",
            f"SE{rand(rng, D, 10)}01",
        ]
    )


def _plate(rng: random.Random) -> str:
    u = string.ascii_uppercase
    return rng.choice(
        [
            f"B-{rand(rng, u, 2)} {rand(rng, D, 4)}",
            f"{rand(rng, u, 2)}-{rand(rng, D, 3)}-{rand(rng, u, 2)}",
            f"{rand(rng, D, 4)} {rand(rng, u, 3)}",
            f"{rand(rng, u, 3)} {rand(rng, D, 3)}",
        ]
    )


def _price(rng: random.Random) -> str:
    amount = f"{rng.randint(5, 4999)}.{rng.randint(0, 99):02d}"
    return rng.choice(
        [f"EUR {amount}", f"${amount}", f"{amount.replace('.', ',')} €", f"£{amount}"]
    )


_SIMPLE: dict[str, Maker] = {
    "ticket": lambda r: (
        rng_choice(r, ["#", "Ticket#", "TCK-", "INC"]) + rand(r, D, rng_int(r, 5, 12))
    ),
    "order": lambda r: rng_choice(r, ["", "ORD-", "A", "#"]) + rand(r, D, rng_int(r, 6, 10)),
    "invoice": lambda r: (
        rng_choice(r, ["INV-", "RE-", "F", "2024-"]) + rand(r, D, rng_int(r, 5, 8))
    ),
    "tracking": lambda r: rng_choice(
        r,
        [
            "1Z" + rand(r, UPPER_DIGITS, 16),
            "JD" + rand(r, D, 18),
            rand(r, D, 12),
            "LX" + rand(r, D, 9) + "DE",
        ],
    ),
    "iban": _iban,
    "phone": _phone,
    "date": _date,
    "price": _price,
    "version": lambda r: f"{r.randint(1, 14)}.{r.randint(0, 30)}.{r.randint(0, 99)}",
    "uuid_id": uuid,
    "git_hash": lambda r: rand(r, HEX, r.choice([7, 12, 40])),
    "sha256": lambda r: rand(r, HEX, 64),
    "masked_card": _masked,
    "luhn_noncard": _luhn_noncard,
    "postal_code": lambda r: rng_choice(
        r,
        [
            rand(r, D, 5),
            f"{rand(r, D, 2)}-{rand(r, D, 3)}",
            f"{rand(r, D, 3)} {rand(r, D, 2)}",
            f"{rand(r, D, 4)} AB",
        ],
    ),
    "isbn": _isbn,
    "ipv4": lambda r: (
        f"{r.choice([10, 172, 192, 203, 81])}.{r.randint(0, 255)}."
        f"{r.randint(0, 255)}.{r.randint(1, 254)}"
    ),
    "ipv6": lambda r: (
        "2001:db8:" + ":".join(rand(r, HEX, 4) for _ in range(3)) + "::" + rand(r, HEX, 3)
    ),
    "mac": lambda r: ":".join(rand(r, HEX, 2) for _ in range(6)).upper(),
    "timestamp": lambda r: (
        f"{_date_iso(r)}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:"
        f"{r.randint(0, 59):02d}.{rand(r, D, 3)}Z"
    ),
    "booking_ref": lambda r: rand(r, "ABCDEFGHJKLMNPQRSTUVWXYZ", 6),
    "serial": lambda r: (
        rng_choice(r, ["SN", "S/N ", "C02"]) + rand(r, UPPER_DIGITS, rng_int(r, 8, 12))
    ),
    "license_plate": _plate,
    "vat_id": _vat,
    "sku": lambda r: (
        f"{rand(r, string.ascii_uppercase, 3)}-{rand(r, D, 4)}-{rand(r, UPPER_DIGITS, 2)}"
    ),
    "imei": _imei,
    "ean": _ean,
    "customer_number": lambda r: rng_choice(r, ["KD-", "CUST-", "C"]) + rand(r, D, 7),
    "error_code": lambda r: rng_choice(
        r,
        [
            "0x8007" + rand(r, "0123456789ABCDEF", 4),
            "E" + rand(r, D, 4),
            "ERR_" + rand(r, string.ascii_uppercase, 6),
        ],
    ),
    "md5": lambda r: rand(r, HEX, 32),
    "bic": lambda r: (
        rand(r, string.ascii_uppercase, 6) + rand(r, UPPER_DIGITS, 2) + rng_choice(r, ["", "XXX"])
    ),
    "image_ref": lambda r: rng_choice(
        r,
        [
            f"cid:image00{r.randint(1, 9)}.png@01D{rand(r, '0123456789ABCDEF', 5)}."
            f"{rand(r, '0123456789ABCDEF', 8)}",
            f"data:image/png;base64,{b64(r, 60)}",
        ],
    ),
    "promo_code": lambda r: (
        rng_choice(r, ["SUMMER", "WELCOME", "BLACKFRIDAY", "SPRING"]) + rand(r, D, 2)
    ),
    "request_id": lambda r: "req_" + rand(r, HEX, 24),
}


def _date_iso(rng: random.Random) -> str:
    return f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def rng_choice(rng: random.Random, options: list[str]) -> str:
    """One of `options` (a helper so the lambdas above read short)."""
    return rng.choice(options)


def rng_int(rng: random.Random, low: int, high: int) -> int:
    """A number in [low, high]."""
    return rng.randint(low, high)


MAKERS: dict[str, Maker] = dict(_SIMPLE)
DECOY_KINDS: tuple[str, ...] = (*sorted(MAKERS), "password_phrase")


def make_decoy(rng: random.Random, kind: str) -> tuple[str, str]:
    """A decoy of `kind`: (phrase template with {v}, value); password_phrase has no {v}."""
    if kind == "password_phrase":
        return "{v}", rng.choice(NO_VALUE_PHRASES)
    return rng.choice(PHRASES[kind]), MAKERS[kind](rng)


__all__ = ["DECOY_KINDS", "MAKERS", "make_decoy"]
