"""The fast scans of the redactor find exactly what the plain regexes they replace find.

Keyword, camelCase and digit-run candidates are searched on byte views of the text (see
ingest/redact_views.py) and confirmed on the text; these tests hold each fast scan to the
straightforward regex over the whole text that it replaced (and the keyword search to the
spans the old search found), on hand-picked tricky inputs and on generated ones, so no
positive and no negative can change.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.redact.card_runs import _CANDIDATE, digit_runs
from ingest.redact.cards import (
    _attached,
    _cards_in,
    _group_starts,
    _is_reference,
    _windows,
    is_card_number,
)
from ingest.redact.keywords import (
    _PREFIXES,
    _SHORTER,
    _WORD_ITSELF,
    _WORDS,
    ANCHORS,
    _camel_hits,
    _trie_pattern,
    find_keyword_secrets,
)
from ingest.redact.model import Span
from ingest.redact.redactor import redact_text
from ingest.redact.views import TextViews, lower_same_length

# The regexes the scans replaced, as they were.
_KEYWORD = re.compile(_trie_pattern(set(_PREFIXES) | set(_WORDS)))
_TRIGGER = re.compile(rf"[^a-z0-9](?:{_KEYWORD.pattern})")
_WORD_AT = re.compile(rf"(?:{_trie_pattern(_WORDS)})(?![a-z])")
_CAMEL = re.compile(
    r"(?:P(?:ass(?:word|wort|wd|phrase))|PASS(?:WORD|WD)|S(?:ecret|ECRET)|T(?:oken|OKEN)|"
    r"K(?:ey|EY|ennwort)|A(?:pi[Kk]ey|PIKEY))(?![a-z])"
)

_TRICKY = [
    "api key: x",
    "api.key",
    "api-key",
    "apikey=1",
    "apiKey",
    "key key- key-abc key-" + "0123456789abcdef" * 2 + " key_x key.x",
    "sk-" + "aB3xY9zQw2LmN8pQ7rT5uV" + " sk -x sk_live_" + "aB3xY9zQw2LmN8pQ7rT5" + " sk",
    "api key: aB3+xY9zQw2LmN8pQ7rT5 api.key=aB3+xY9zQw2LmN8pQ7rT5",
    "sk- sk_live_ sk",
    "mot de passe",
    "mot.de.passe",
    "-access key-",
    "user name user.name",
    "pass phrasex",
    "passworts passed keyboard",
    "Schlüssel SCHLÜSSEL schlüssel",
    "clé CLÉ clef",
    "hasło HASŁO",
    "código CÓDIGO",
    "contraseña CONTRASEÑA",
    "\u0130 İpassword \u212aey K\u212aEY",
    "€ password € 4242 4242 4242 4242 €",
    "ŠŒŽŸ šœžÿ ’“”–—… passWORD",
    "Σ ΣΑΣ password σς",
    "dbPassword clientSecret accessToken apiKey ApiKey APIKEY 2Token xPASSWD",
    "https://hooks.slack.com/x ya29.x glpat-x",
    "4242\u202f4242\u202f4242\u202f4242",
    "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢ ４２４２ ４２４２ ４２４２ ４２４２",
    "?4242424242424242? ?4242 4242 4242 4242",
    "1 4242 4242 4242 4242 2",
    "2fa 1234567890123 2fa",
    "",
]

_FRAGMENTS = [
    *sorted(set(_PREFIXES) | set(_WORDS)),
    *(word.upper() for word in sorted(_WORDS)),
    *("Password", "Passwort", "PASSWD", "Secret", "TOKEN", "Key", "KEY", "Kennwort", "ApiKey"),
    *(" ", " ", "\n", ": ", "=", "-", ".", "_", "/", "?", "\u00a0", "\u202f", "x", "db", "s"),
    *(" is ", ": Sommer2024!", " hunter22", "=aB3+xY9zQw2LmN8pQ7rT5", " 482913", "-" + "ab12" * 8),
    *("4242", "4242 4242 4242 4242", "378282246310005", "12", "0", "٤٢", "４", "€", "İ", "\u212a"),
    *("ü", "Ü", "é", "ß", "ẞ", "Σ", "ł", "’", "😀"),
]
_TEXTS = st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join)
_DIGITS = st.lists(
    st.sampled_from(["4", "2", "0", "1", " ", "-", ".", "\u00a0", "\u202f", "?", "€", "x", "٤"]),
    max_size=80,
).map("".join)


def _reference_keyword_secrets(text: str) -> list[Span]:
    """The keyword search as it was: the boundary regex over " " + low, then the handlers."""
    low = lower_same_length(text)
    spans: list[Span] = []
    for m in _TRIGGER.finditer(" " + low):
        start, end = m.start(), m.end() - 1
        prefix = _PREFIXES.get(low[start:end])
        found = prefix(text, low, start, end) if prefix is not None else []
        if found:
            spans.extend(found)
            continue
        if prefix is not None or (end < len(low) and "a" <= low[end] <= "z"):
            word = _WORD_AT.match(low, start)
            if word is None:
                continue
            end = word.end()
        spans.extend(_WORDS[low[start:end]](text, low, start, end))
    for m in _CAMEL.finditer(text):
        start, end = m.span()
        if start and (text[start - 1].islower() or text[start - 1].isdigit()):
            spans.extend(_WORDS[low[start:end]](text, low, start, end))
    return spans


def _reference_runs(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _CANDIDATE.finditer(text) if sum(c.isdigit() for c in m[0]) >= 13]


@pytest.mark.parametrize("text", _TRICKY)
def test_keyword_scan_finds_what_the_boundary_regex_finds(text: str) -> None:
    assert find_keyword_secrets(TextViews.of(text)) == _reference_keyword_secrets(text)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(_TEXTS)
def test_keyword_scan_on_generated_text(text: str) -> None:
    assert find_keyword_secrets(TextViews.of(text)) == _reference_keyword_secrets(text)


@pytest.mark.parametrize("text", _TRICKY)
def test_camel_scan_finds_what_the_camel_regex_finds(text: str) -> None:
    expected = [m.span() for m in _CAMEL.finditer(text)]
    assert list(_camel_hits(TextViews.of(text))) == expected


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_TEXTS)
def test_camel_scan_on_generated_text(text: str) -> None:
    expected = [m.span() for m in _CAMEL.finditer(text)]
    assert list(_camel_hits(TextViews.of(text))) == expected


@pytest.mark.parametrize("text", _TRICKY)
def test_digit_runs_are_the_runs_of_the_digit_regex(text: str) -> None:
    assert digit_runs(TextViews.of(text)) == _reference_runs(text)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_DIGITS)
def test_digit_runs_on_generated_text(text: str) -> None:
    assert digit_runs(TextViews.of(text)) == _reference_runs(text)


def test_word_after_a_keyword_is_the_word_the_regex_finds() -> None:
    for keyword in sorted(_SHORTER):
        for after in ("", " ", "x", "1", ":"):
            low = keyword + after
            longest = _KEYWORD.match(low)
            if longest is None or longest.end() != len(keyword):
                continue  # the scan would have found the longer keyword instead
            m = _WORD_AT.match(low)
            letter = "a" <= after[:1] <= "z"
            got = (_SHORTER if letter else _WORD_ITSELF)[keyword]
            expected = m[0] if m else None
            if letter and expected is None and keyword in ANCHORS:
                expected = keyword  # an anchor counts before a letter too
            assert got == expected, low


@pytest.mark.parametrize("text", _TRICKY)
def test_lowered_view_is_str_lower(text: str) -> None:
    views = TextViews.of(text)
    assert views.low == lower_same_length(text)
    assert len(views.encoded) == len(views.low_encoded) == len(text)
    for ch, byte, low_byte in zip(text, views.encoded, views.low_encoded, strict=True):
        if ch.isascii():
            assert byte == ord(ch)
        else:
            assert byte >= 0x80 or byte == ord("?")
            assert byte != 0xA0 or ch == "\u00a0"
        assert chr(low_byte) == lower_same_length(ch) or low_byte >= 0x80 or low_byte == ord("?")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=60))
def test_lowered_view_on_any_text(text: str) -> None:
    assert TextViews.of(text).low == lower_same_length(text)


def _reference_cards_in(text: str, low: str, run_start: int, run: str) -> list[Span]:
    """The card search over a run as it was: every group split off, offsets one by one."""
    spans: list[Span] = []
    parts = re.split(r"([ .\-\u00a0\u202f]+)", run)
    groups, seps = parts[0::2], parts[1::2]
    if groups and not groups[-1]:
        groups.pop()
    offsets, pos = [], run_start
    for k, group in enumerate(groups):
        offsets.append(pos)
        pos += len(group) + (len(seps[k]) if k < len(seps) else 0)
    resume = 0
    for i in _group_starts(len(groups)):
        if i < resume or groups[i][0] not in "2345678":
            continue
        for j in _windows(groups, seps, i):
            digits = "".join(groups[i : j + 1])
            if not is_card_number(digits):
                continue
            start, end = offsets[i], offsets[j] + len(groups[j])
            if not _attached(text, start, end) and not _is_reference(low, start):
                spans.append(Span.of(start, end, "card", f"card ending {digits[-4:]}"))
            resume = j + 1
            break
    return spans


_GROUP = st.sampled_from(
    ["4242", "4242", "5555", "4444", "378282246310005", "4222222222222", "1", "12"]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(_GROUP, min_size=1, max_size=160),
    st.sampled_from([" ", "-", ".", "  ", "\u00a0", " - "]),
    st.booleans(),
    st.sampled_from(["", "Card: ", "order "]),
)
def test_long_runs_look_at_the_same_groups(
    groups: list[str], sep: str, trailing: bool, before: str
) -> None:
    run = sep.join(groups) + (sep if trailing else "")
    text = before + run + " exp 12/26 cvv 123"
    low = lower_same_length(text)
    start = len(before)
    assert _cards_in(text, low, start, run) == _reference_cards_in(text, low, start, run)


def test_cards_at_both_ends_of_a_table_are_removed() -> None:
    table = " ".join(["99"] * 40 + ["4242 4242 4242 4242"] + ["99"] * 40)
    text = "4242 4242 4242 4242 " + table + " 5555 5555 5555 4444"
    result = redact_text(text)
    assert result.text.startswith("[card ending 4242 removed] 99 99")
    assert result.text.endswith("99 99 [card ending 4444 removed]")
    assert result.counts() == {"card": 2}  # the middle of a long table is not looked at


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4242\u202f4242\u202f4242\u202f4242", "[card ending 4242 removed]"),
        ("€4242 4242 4242 4242 €", "€[card ending 4242 removed] €"),
        ("Preis: 4242 4242 4242 4242 ? danke", "Preis: [card ending 4242 removed] ? danke"),
        ("Passwort: Sommer2024! 😀", "Passwort: [password removed] 😀"),
        ("mot de passe : Soleil!2023 ’", "mot de passe : [password removed] ’"),
        ("HASŁO: Zaq12wsx!", "HASŁO: [password removed]"),
        ("\u0130 password: hunter22", "\u0130 password: [password removed]"),
    ],
)
def test_text_outside_latin1_is_redacted_the_same(text: str, expected: str) -> None:
    assert redact_text(text).text == expected
