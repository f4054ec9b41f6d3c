"""The security code (CVV) and expiry date that customers write with a card number.

Three rules, from how people paste a card:

* Right after the card, on its line: the expiry and the code with or without labels
  (`4111 1111 1111 1111 12/27 123`, `... for the renewal (1/32)`, `..., exp 04-32, CID 2306`).
  An unlabelled month/year there is the expiry unless it is part of a longer date
  (`3/25/2024`, `26.07.2020`).
* A labelled value anywhere within _NEAR characters of a card, before or after it, over line
  breaks and in any language the labels name (`Prüfnummer`, `cryptogramme`, `código de
  seguridad`, `data ważności`, `giltigt till`, `CVC-kod` ...). An unlabelled month/year right
  before a labelled code (`(11/25) / cvv2=973`) is the expiry too.
* A code after a label that only names a card's security code (`CVV 049`, `cvv2=692`,
  `Kartenprüfnummer 123`) is removed without a card nearby: the customer may have written the
  card in another mail.

The labelled values are searched in the merged windows around the cards, and the codes
without a card in a window around each of a few anchor words ("cvv", "cvc" ...) that the
keyword scan finds with the other keywords, so each character is read a bounded number of
times however many cards the text holds, and a text without a card or such a word costs
nothing here.
"""

from __future__ import annotations

import re

from ingest.redact.model import Span
from ingest.redact.windows import merged

_CVV_NAMES = (
    r"cvv2?|cvc2?|cvn2?|cav2|csc|card\s*(?:security\s*|verification\s*)?code|"
    r"card\s*verification\s*(?:value|number)|kartenprüfnummer|prüfnummer|prüfziffer|"
    r"cryptogramme(?:\s*visuel)?|codice\s*di\s*sicurezza|código\s*de\s*seguridad|"
    r"código\s*de\s*segurança|código\s*de\s*verificación|beveiligingscode|veiligheidscode|"
    r"säkerhetskod|kod\s*zabezpieczający|sicherheitscode|code\s*de\s*sécurité|"
    r"security\s*(?:code|number|digits)"
)
# Labels that name a card's security code and nothing else: their code is removed anywhere.
_STRONG = re.compile(
    rf"(?:{_CVV_NAMES})(?:[\s\-]?(?:code|kod|kode|nummer|number|nr|no|n°|#))?"
    r"\W{0,4}(?:is|ist|est|es|è|é|är|jest|was|lautet|would\s+be|reads)?\W{0,3}"
    r"(\d{3,4})(?![\d/]|[.\-,]\d)"
)
# Where a code may be labelled with no card nearby: the names of a card's code alone.
_STRONG_ANCHORS = ("cvv", "cvc", "cryptogramme", "prüf", "kartenprüf")
# Labels that name a card's code only next to a card ("CID", "the digits on the back").
_WEAK = re.compile(
    r"(?:cid|(?:the\s+)?(?:last\s+)?(?:(?:\d|three|four)\s+)?(?:code|number|digits)"
    r"\s+(?:on|at)\s+the\s+back(?:\s+of\s+(?:the|my)"
    r"\s+card)?|verification\s*(?:code|value|number)|code\s*cvv|kod\s*cv[vc])"
    r"\W{0,4}(?:is|ist|est|es|è|é|är|jest|was|lautet)?\W{0,3}(\d{3,4})(?![\d/]|[.\-,]\d)"
)
_EXP_NAMES = (
    r"exp(?:iry|ires|iration|iring|ired|\.)?(?:\s*(?:date|on|in|at|end\s*of))?|"
    r"valid\s*(?:thru|through|until|till|to)|good\s*thru|mm\s*/\s*(?:yy|aa|jj)|"
    r"scadenza|scade|data\s*di\s*scadenza|vervaldatum|geldig\s*tot|"
    r"(?:data\s*de\s*)?validade|vencimento|giltig[t]?\s*till|utgångsdatum|"
    r"gültig\s*bis|ablauf(?:datum)?|läuft\s*ab|date\s*d'expiration|date\s*d'exp|expire\s*le|"
    r"fin\s*de\s*validité|fecha\s*de\s*(?:caducidad|vencimiento)|caducidad|vence|caduca|vto|"
    r"data\s*ważności|ważna\s*do|udløb(?:sdato)?|utløpsdato|voimassa"
)
_EXPIRY = r"(?:0?[1-9]|1[0-2])\s{0,2}[/\-.]\s{0,2}(?:20)?\d\d(?!\d|\s?[/\-.]\s?\d)"
# A label starts at most _BEFORE characters before its anchor, and its value ends at most
# _AFTER characters after it.
_BEFORE, _AFTER = 30, 80
_LABELLED_EXP = re.compile(
    rf"(?:{_EXP_NAMES})\W{{0,4}}(?:on|am|le|el|in|is|ist|est|es|è|é|är|jest|was)?"
    rf"\W{{0,3}}({_EXPIRY})"
)
# Right after a card: separators, then an optional label, then the value.
_NEXT_CVV = re.compile(
    rf"[\s,;|/()]{{0,6}}(?:(?:{_CVV_NAMES}|cid)\W{{0,4}})?(\d{{3,4}})(?![\d/]|[.\-,]\d)", re.I
)
_NEXT_EXP = re.compile(rf"[\s,;|/()]{{0,6}}(?:(?:{_EXP_NAMES})\W{{0,4}})?({_EXPIRY})", re.I)
# On the card's line, a little further: an unlabelled month/year, not part of a longer date.
_SLASH_EXPIRY = r"(?:0?[1-9]|1[0-2])\s{0,2}[/\-]\s{0,2}(?:20)?\d\d(?!\d|\s?[/\-.]\s?\d)"
_LINE_EXP = re.compile(rf"(?<![\d/.:\-])({_SLASH_EXPIRY})(?![:\d])")
# An unlabelled month/year right before a labelled code: "(11/25) / cvv2=973".
_EXP_BEFORE = re.compile(rf"(?<![\d/.:\-])({_EXPIRY})\)?[\s,;|/]{{0,6}}\Z")
_LINE = 80
_NEAR = 400
_LABELS = {"card_cvv": "card security code", "card_expiry": "card expiry"}


def card_extras(text: str, low: str, cards: list[tuple[int, int]]) -> list[Span]:
    """CVV and expiry spans for the cards at `cards` ((start, end), in order); the codes
    after a label that names a card's security code anywhere are found from the keyword
    scan's anchors (cvv_label_anchor)."""
    spans: list[Span] = []
    for _, end in cards:
        spans.extend(_after_card(text, end))
    near = merged((max(0, start - _NEAR), end + _NEAR) for start, end in cards)
    scans = ((_LABELLED_EXP, "card_expiry"), (_STRONG, "card_cvv"), (_WEAK, "card_cvv"))
    for regex, kind in scans if near else ():
        for label_start, span in _labelled(low, regex, kind, near):
            spans.append(span)
            if kind == "card_cvv":
                spans.extend(_expiry_before(text, label_start))
    return spans


def cvv_label_anchor(text: str, low: str, start: int, end: int) -> list[Span]:
    """The code after a label that names a card's security code, around its anchor word at
    low[start:end] (found by the keyword scan, see CVV_ANCHORS), with or without a card."""
    del end
    window = [(max(0, start - _BEFORE), start + _AFTER)]
    spans: list[Span] = []
    for label_start, span in _labelled(low, _STRONG, "card_cvv", window):
        spans.append(span)
        spans.extend(_expiry_before(text, label_start))
    return spans


CVV_ANCHORS = dict.fromkeys(_STRONG_ANCHORS, cvv_label_anchor)
"""Anchor words of the labels that name a card's security code and nothing else, found by
the keyword scan at the start of a word ("kartenprüf" for the label that holds "prüf")."""


def _expiry_before(text: str, label_start: int) -> list[Span]:
    """An unlabelled month/year right before a code's label: "(11/25) / cvv2=973"."""
    m = _EXP_BEFORE.search(text, max(0, label_start - 30), label_start)
    return [Span.of(m.start(1), m.end(1), "card_expiry", _LABELS["card_expiry"])] if m else []


def _after_card(text: str, end: int) -> list[Span]:
    """Expiry and code written right after a card on its line, labelled or not."""
    spans: list[Span] = []
    line_end = text.find("\n", end, end + _LINE)
    limit = end + _LINE if line_end < 0 else line_end
    pos, taken = end, set()
    for _ in range(2):
        for kind, regex in (("card_expiry", _NEXT_EXP), ("card_cvv", _NEXT_CVV)):
            m = regex.match(text, pos, limit) if kind not in taken else None
            if m:
                spans.append(Span.of(m.start(1), m.end(1), kind, _LABELS[kind]))
                taken.add(kind)
                pos = m.end()
    if "card_expiry" not in taken:
        m = _LINE_EXP.search(text, end, limit)
        if m:
            spans.append(Span.of(m.start(1), m.end(1), "card_expiry", _LABELS["card_expiry"]))
            c = _NEXT_CVV.match(text, m.end(), limit) if "card_cvv" not in taken else None
            if c:
                spans.append(Span.of(c.start(1), c.end(1), "card_cvv", _LABELS["card_cvv"]))
    return spans


def _labelled(
    low: str, regex: re.Pattern[str], kind: str, windows: list[tuple[int, int]]
) -> list[tuple[int, Span]]:
    """Values after a label of `kind` in the windows of the lower-cased text, with where
    each label starts; a label inside a word is dropped."""
    spans = []
    for lo, hi in windows:
        for m in regex.finditer(low, lo, hi):
            if m.start() and low[m.start() - 1].isalpha():
                continue
            spans.append((m.start(), Span.of(m.start(1), m.end(1), kind, _LABELS[kind])))
    return spans
