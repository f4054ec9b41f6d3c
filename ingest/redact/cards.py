"""Payment card numbers, and the security code and expiry date written next to them.

A card is 13-19 digits, contiguous or in the usual groups (4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4)
joined by one kind of separator, with a known network prefix and a valid Luhn check digit.
Customers also group irregularly (4-4-2-6), mix spaces and dashes, and mail clients wrap a
number over a line break or a quote marker ("4111 1111 1111" / "> 1111"): a group of four
digits may be followed by other groups of two or more digits, joined by any of those.
Digit runs that follow "order", "invoice", "tracking" ... are references, not cards; so are
IBANs and numbers of the 8 series (no network there but RuPay) without a card word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate

from ingest.redact.card_extras import card_extras
from ingest.redact.card_runs import digit_runs
from ingest.redact.model import Span
from ingest.redact.views import TextViews

_SEPS = " .\\-\u00a0\u202f\r\n>"
_SPLIT = re.compile(rf"([{_SEPS}]+)")
_EDGE_GROUPS = 32  # a line of hundreds of number groups is a table: look at its ends only
_LONG_RUN = 2 * _EDGE_GROUPS + 8  # more separators: split off only the groups at both ends
_REFERENCE_BEFORE = re.compile(
    r"(?<![a-z])(?:order|invoice|tracking|ticket|reference|ref|case|shipment|parcel|serial|imei|iban|"
    r"account|ean|gtin|isbn|upc|bestellung|bestell|rechnung|auftrag|sendung|kunden|vertrag|"
    r"commande|facture|suivi|colis|pedido|factura|seguimiento|envío|envio|referencia)"
    r"[^\n\d]{0,16}\Z"
)
_CARD_WORD_BEFORE = re.compile(
    r"(?:card|karte|carte|tarjeta|visa|master|amex|\bcc|\bpan)[^\n\d]{0,24}\Z"
)
# Numbers of cards that pay nothing, and barcodes: never a payment card, card word or not.
_NOT_PAYMENT_BEFORE = re.compile(
    r"(?:loyalty|member(?:ship)?\s?card|gift\s?card|rewards?\s?card|fidélité|fidelidad|"
    r"kundenkarte|payback|library|barcode|bar\s?code|\bean\b|\bgtin|\bupc)[^\n\d]{0,24}\Z"
)
_IBAN_BEFORE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d\d(?:[ ]?[A-Z0-9]{4}){0,2}[ ]?\Z")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def network(digits: str) -> str | None:
    """The card network whose prefix and length fit `digits`, or None."""
    n = len(digits)
    p2, p3, p4, p6 = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4":
        return "visa" if n in (13, 16, 19) else None
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37):
        return "amex" if n == 15 else None
    if (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925) and n >= 16:
        return "discover"
    if 3528 <= p4 <= 3589 and n >= 16:
        return "jcb"
    if (p2 == 36 or 300 <= p3 <= 305 or p2 in (38, 39)) and n >= 14:
        return "diners"
    if p2 == 62 and n >= 16:
        return "unionpay"
    if 2200 <= p4 <= 2204 and n >= 16:
        return "mir"
    if (p2 in (50, 56, 57, 58, 67) or p4 == 6304) and n >= 13:
        return "maestro"
    if (p2 in (60, 81, 82) or p3 == 508) and n == 16:
        return "rupay"
    return None


def is_card_number(digits: str) -> bool:
    """True for 13-19 digits with a known network prefix and a valid Luhn check digit."""
    return 13 <= len(digits) <= 19 and network(digits) is not None and _luhn_ok(digits)


def _windows(groups: list[str], seps: list[str], i: int) -> list[int]:
    """Last group indexes of plausible card layouts starting at group i, longest first."""
    first = len(groups[i])
    if 13 <= first <= 19:
        return [i]
    if first != 4 or i + 2 >= len(groups):
        return _loose_windows(groups, seps, i)
    sep = seps[i]
    if "\n" in sep and _loose_sep(sep) < 0:
        return []
    ends: list[int] = []
    if len(groups[i + 1]) == 6 and seps[i + 1] == sep and len(groups[i + 2]) in (4, 5):
        ends.append(i + 2)
    total, j = 0, i
    while j < len(groups) and total < 19 and (j == i or seps[j - 1] == sep):
        size = len(groups[j])
        if size > 4 or total + size > 19:
            break
        total += size
        if total >= 13:
            ends.append(j)
        if size < 4:
            break
        j += 1
    ends.sort(reverse=True)
    return ends + [end for end in _loose_windows(groups, seps, i) if end not in ends]


_MAX_LOOSE_GROUPS = 6


def _loose_sep(sep: str) -> int:
    """0 for a separator of a loosely grouped card (" ", "-", " - ", a no-break space), 1 for
    a line break with quote markers around it ("\n", " \r\n> > "), -1 for any other."""
    if "\n" in sep:
        rest = sep.replace("\r", "").replace(" ", "").replace(">", "")
        return 1 if rest == "\n" and len(sep) <= 12 else -1
    if sep in (" ", "-", " - ", "\u00a0", "\u202f"):
        return 0
    return -1


def _loose_windows(groups: list[str], seps: list[str], i: int) -> list[int]:
    """Last group indexes of irregular layouts from group i (4-4-2-6, mixed separators, a
    line break with quote markers), 16 digits first, then longest first.

    The first group has four digits or more (or is the first of a line break); later groups
    have two to six, or start a wrapped line, and the last may be one digit after fifteen or
    more (a 16-19 digit Maestro written in fours); at most six groups and two breaks."""
    first = len(groups[i])
    if first < 4 or first >= 13:
        return []
    total, breaks, ends = first, 0, []
    for j in range(i + 1, min(len(groups), i + _MAX_LOOSE_GROUPS)):
        kind = _loose_sep(seps[j - 1])
        size = len(groups[j])
        tail = size == 1 and total >= 15  # "6304 0262 2991 9782 8": a last digit alone
        if kind < 0 or (kind == 0 and not (2 <= size <= 6 or tail)) or total + size > 19:
            break
        breaks += kind
        if breaks > 2:
            break
        total += size
        if total >= 13 and (first == 4 or breaks):
            ends.append(j)
        if size == 1:
            break
    return sorted(ends, key=lambda j: (_digits_to(groups, i, j) != 16, -j))


def _digits_to(groups: list[str], i: int, j: int) -> int:
    return sum(len(groups[k]) for k in range(i, j + 1))


def _is_reference(low: str, start: int) -> bool:
    before = low[max(0, start - 40) : start]
    if _NOT_PAYMENT_BEFORE.search(before):
        return True
    return _REFERENCE_BEFORE.search(before) is not None and not _CARD_WORD_BEFORE.search(before)


def _card_word_before(low: str, start: int) -> bool:
    return _CARD_WORD_BEFORE.search(low, max(0, start - 40), start) is not None


def _in_iban(text: str, start: int) -> bool:
    """True when the digits at `start` continue an IBAN ("DE89 3704 ...", "GB29 NWBK 6016 ...")."""
    return _IBAN_BEFORE.search(text, max(0, start - 16), start) is not None


def _attached(text: str, start: int, end: int) -> bool:
    """True when the digits are part of a longer word or id (also glued by a dash, as in
    `ffff-2222-...-ffff` message ids and UUIDs)."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if before == "-" and start >= 2 and text[start - 2].isalnum():
        return True
    if after == "-" and end + 1 < len(text) and text[end + 1].isalnum():
        return True
    return before.isalnum() or before in "+_/#" or after.isalnum() or after == "_"


def find_cards(views: TextViews) -> list[Span]:
    """Spans of card numbers (and their CVV/expiry) in the text."""
    text, low = views.text, views.low
    spans: list[Span] = []
    for start, end in digit_runs(views):
        spans.extend(_cards_in(text, low, start, text[start:end]))
    cards = [(span.start, span.end) for span in spans]
    spans.extend(card_extras(text, low, cards))
    return spans


def _group_starts(count: int) -> Iterable[int]:
    """Group indexes where a card may start: all of them, or both ends of a very long run."""
    if count <= 2 * _EDGE_GROUPS:
        return range(count)
    return (*range(_EDGE_GROUPS), *range(count - _EDGE_GROUPS, count))


@dataclass(frozen=True, slots=True)
class _Groups:
    """Consecutive digit groups of a run: seps[k] follows groups[k]; groups[0] is at offset."""

    offset: int
    groups: list[str]
    seps: list[str]


def _cards_in(text: str, low: str, run_start: int, run: str) -> list[Span]:
    parts = _SPLIT.split(run, maxsplit=_LONG_RUN)
    if len(parts) <= 2 * _LONG_RUN or not _SPLIT.search(parts[-1]):
        groups, seps = parts[0::2], parts[1::2]
        if not groups[-1]:
            groups.pop()  # the run ended with separators
        return _cards_among(text, low, _Groups(run_start, groups, seps), _group_starts(len(groups)))
    # A table of numbers: only the groups at both ends are split off and looked at; a card
    # spans at most five groups, so the windows at the two ends never meet.
    head = _Groups(run_start, parts[0:-1:2], parts[1:-1:2])
    starts = range(_EDGE_GROUPS)
    return _cards_among(text, low, head, starts) + _cards_among(
        text, low, _last_groups(run_start, run), starts
    )


def _last_groups(run_start: int, run: str) -> _Groups:
    """The last _EDGE_GROUPS groups of a run, split off the reversed run (the rest of it is
    never split)."""
    parts = _SPLIT.split(run[::-1], maxsplit=_EDGE_GROUPS + 1)
    end = run_start + len(run)
    if not parts[0]:  # the run ended with separators
        end -= len(parts[1])
        parts = parts[2:]
    pieces = [part[::-1] for part in reversed(parts[: 2 * _EDGE_GROUPS - 1])]
    return _Groups(end - sum(map(len, pieces)), pieces[0::2], pieces[1::2])


def _cards_among(text: str, low: str, run: _Groups, starts: Iterable[int]) -> list[Span]:
    """Cards that begin at one of the `starts` (group indexes) of `run`."""
    groups, seps = run.groups, run.seps
    lengths = (len(group) + len(sep) for group, sep in zip(groups, seps, strict=False))
    offsets = list(accumulate(lengths, initial=run.offset))
    spans: list[Span] = []
    resume = 0
    for i in starts:
        if i < resume or len(groups[i]) < 4 or groups[i][0] not in "2345678":
            continue
        for j in _windows(groups, seps, i):
            digits = "".join(groups[i : j + 1])
            if not is_card_number(digits):
                continue
            start, end = offsets[i], offsets[j] + len(groups[j])
            if digits[0] == "8" and not _card_word_before(low, start):
                continue  # RuPay's 8 series: also account and loyalty numbers
            if (
                not _attached(text, start, end)
                and not _is_reference(low, start)
                and not _in_iban(text, start)
            ):
                spans.append(Span.of(start, end, "card", f"card ending {digits[-4:]}"))
            resume = j + 1
            break
    return spans
