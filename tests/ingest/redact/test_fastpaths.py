"""The redactor's shortcuts give what the long way gives, where a wrong shortcut would differ.

Long digit blocks are found through 13 bytes of them (`card_runs._long_blocks`), the
keyword scan skips zero bytes no form can follow (`redact_keywords._first_chars`), and
Western text is encoded as Latin-1 and patched (`redact_views.TextViews._western`). Each
test here holds one to the plain way on the inputs where it could go wrong.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.redact.card_runs import _RUN_VIEW, _long_blocks, digit_runs
from ingest.redact.keywords import _SCANNED, _TRIGGER, keyword_words
from ingest.redact.views import _LOWER, TextViews, lower_same_length

# What _long_blocks replaced.
_RUN = re.compile(rb"0[0 ]{12}(?<!0[\x00-\xff]{13})[0 ]*+")

_BLOCKS = [
    "-" * 20,  # separators alone: no digit to start at
    " " * 40 + "x",
    "x" + " " * 14 + "1",  # 15 characters, but only one from the digit
    " " * 13 + "4242424242424",  # separators first: the run starts at the digit
    "." * 12 + "4242424242424",
    "4242424242424",  # at both ends of the text
    "x4242424242424x",
    "424242424242",  # 12 digits
    "4242 4242 4242 ",  # 13 characters from the digit, 12 digits
    "4242 4242 4242 4",
    "12 - 34 x 1 2 3 4 5 6 7 8 9 0 1 2 3",
    "1" + " " * 12 + "x" + "2" * 13 + "-" * 30 + "3",
    "x 1234 5678 9012 x 4242 4242 4242 4242 x 1 x",
    "\u00a0" * 7 + "4242\u00a04242\u00a04242\u00a04242" + "\u00a0" * 7,
]


@pytest.mark.parametrize("text", _BLOCKS)
def test_long_blocks_are_the_runs_of_the_regex(text: str) -> None:
    view = TextViews.of(text).encoded.translate(_RUN_VIEW)
    assert list(_long_blocks(view)) == [m.span() for m in _RUN.finditer(view)]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(["0", "0000", " ", "    ", "x", "0 " * 7]), max_size=30))
def test_long_blocks_on_generated_views(parts: list[str]) -> None:
    view = "".join(parts).encode()
    assert list(_long_blocks(view)) == [m.span() for m in _RUN.finditer(view)]


def test_separator_lines_hold_no_run() -> None:
    text = "-" * 80 + "\n" + " " * 30 + "4242 4242 4242 4242" + " " * 30
    start = text.index("4242")
    assert digit_runs(TextViews.of(text)) == [(start, len(text))]


def test_every_keyword_passes_the_first_character_test() -> None:
    """A form whose first character the lookahead left out would never be found."""
    for keyword, form in sorted(_SCANNED.items()):
        words = keyword_words(TextViews.of(" " + keyword + " "))
        hit = _TRIGGER.search(words)
        assert hit is not None and hit.start() == 1, keyword
        assert words[hit.start() + 1 : hit.end()] == form.encode("latin-1"), keyword


def test_no_keyword_after_a_digit_or_another_boundary() -> None:
    text = "1password x_password 2fa .. ,token"
    starts = [m.start() for m in _TRIGGER.finditer(keyword_words(TextViews.of(text)))]
    assert starts == [text.index(word) for word in ("password 2", "2fa", "token")]


def _codec_views(text: str) -> tuple[str, bytes, bytes]:
    """The views as the Windows-1252 codec makes them (or the fallback for other text)."""
    try:
        encoded = text.encode("cp1252")
    except UnicodeEncodeError:
        low = lower_same_length(text)
        return low, text.encode("latin-1", "replace"), low.encode("latin-1", "replace")
    low_encoded = encoded.translate(_LOWER["cp1252"])
    return low_encoded.decode("cp1252"), encoded, low_encoded


_WESTERN = [
    "4242 € 4242?",
    "?€?",
    "ŠŒŽŸ šœžÿ ’“”–—… PASSWORD?",
    "€ and a C1 control \x80 or \x9f",  # not Windows-1252: the codec fails, so must this
    "€ and \x81",
    "€ and İ",  # outside Windows-1252 too
    "€ 😀 \udc80",
    "?" * 3000 + "€",  # more "?" than patching allows
    "€" * 5000,
    "x" * 100_000 + "’" * 400,
]


@pytest.mark.parametrize("text", _WESTERN)
def test_western_views_are_the_codec_views(text: str) -> None:
    views = TextViews.of(text)
    assert (views.low, views.encoded, views.low_encoded) == _codec_views(text)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(
    st.lists(st.sampled_from(["a", "A", "?", "€", "Š", "Ÿ", "’", "\x80", "é", "😀"]), max_size=30)
)
def test_western_views_on_generated_text(parts: list[str]) -> None:
    text = "".join(parts)
    if text.isascii() or max(text) <= "\xff":
        return  # Latin-1: not this path
    views = TextViews.of(text)
    assert (views.low, views.encoded, views.low_encoded) == _codec_views(text)
