"""Properties of the redactor (hypothesis), linear time on hostile input, and real mail."""

from __future__ import annotations

import base64
import math
import time
from collections import Counter
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ingest.redact.cards import is_card_number
from ingest.redact.redactor import redact_html, redact_text

# (prefix, length) pairs of known networks
_NETWORKS = [
    ("4", 16),
    ("4", 13),
    ("4", 19),
    ("51", 16),
    ("55", 16),
    ("2221", 16),
    ("2720", 16),
    ("34", 15),
    ("37", 15),
    ("6011", 16),
    ("65", 16),
    ("3528", 16),
    ("36", 14),
    ("62", 16),
]
_LAYOUTS = {
    13: [(4, 4, 4, 1)],
    14: [(4, 6, 4)],
    15: [(4, 6, 5)],
    16: [(4, 4, 4, 4)],
    19: [(4, 4, 4, 4, 3)],
}


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body + "0")):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    prefix, size = draw(st.sampled_from(_NETWORKS))
    middle = draw(
        st.text("0123456789", min_size=size - len(prefix) - 1, max_size=size - len(prefix) - 1)
    )
    body = prefix + middle
    return body + _luhn_digit(body)


def _format(number: str, layout: tuple[int, ...], sep: str) -> str:
    parts, pos = [], 0
    for size in layout:
        parts.append(number[pos : pos + size])
        pos += size
    return sep.join(parts)


_CONTEXTS = [
    "{c}",
    "Card: {c}",
    "my card is {c}, thanks",
    "Karte {c}.",
    "carte ({c})",
    "tarjeta:{c}\n",
]


@settings(max_examples=300, deadline=None)
@given(card_numbers(), st.sampled_from(["", " ", "-", ".", "\u00a0"]), st.sampled_from(_CONTEXTS))
def test_any_valid_card_in_any_common_format_is_removed(
    number: str, sep: str, context: str
) -> None:
    assert is_card_number(number)
    layout = _LAYOUTS[len(number)][0] if sep else (len(number),)
    text = context.format(c=_format(number, layout, sep))
    result = redact_text(text)
    assert result.counts().get("card") == 1
    assert number[:-4] not in "".join(ch for ch in result.text if ch.isdigit())
    assert f"card ending {number[-4:]}" in result.text


@settings(max_examples=300, deadline=None)
@given(card_numbers(), st.integers(1, 9), st.sampled_from(["", " "]))
def test_luhn_invalid_digit_runs_are_kept(number: str, delta: int, sep: str) -> None:
    broken = number[:-1] + str((int(number[-1]) + delta) % 10)
    assume(not is_card_number(broken))
    text = "Card: " + (_format(broken, (4, 4, 4, 4), sep) if sep and len(broken) == 16 else broken)
    assert redact_text(text).text == text


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(
        [
            "+49 {a} {b}",
            "+1 ({a3}) {b3}-{c4}",
            "0{a} {b}",
            "+33 {a1} {b2} {c2} {d2} {e2}",
            "Tel. +49 (0){a} {b}-0",
        ]
    ),
    st.integers(10, 99),
    st.integers(100000, 99999999),
    st.integers(100, 999),
    st.integers(1000, 9999),
)
def test_phone_numbers_are_kept(fmt: str, a: int, b: int, a3: int, c4: int) -> None:
    text = "Call me: " + fmt.format(
        a=a, b=b, a3=a3, b3=a3 + 1, c4=c4, a1=a % 9 + 1, b2=a, c2=a, d2=a, e2=a
    )
    assert redact_text(text).text == text


@settings(max_examples=200, deadline=None)
@given(
    st.dates(),
    st.times(),
    st.sampled_from(["{d} {t}", "{d}T{t}Z", "on {dd} at {hm}", "{d:%d.%m.%Y}, {d:%m/%d/%y}"]),
)
def test_dates_and_times_are_kept(d, t, fmt: str) -> None:  # type: ignore[no-untyped-def]
    text = "Seen " + fmt.format(d=d, t=t, dd=d.isoformat(), hm=t.strftime("%H:%M"))
    assert redact_text(text).text == text


_KEYWORDS = [
    "api key: ",
    "API_KEY=",
    "token: ",
    "Token=",
    "secret: ",
    "client_secret = ",
    "access_token: ",
    '"apiKey": "',
    "X-Auth-Token: ",
    "Mein Token: ",
    "our secret is ",
    "key=",
    "auth_token=",
    "Schlüssel: ",
]


@settings(max_examples=300, deadline=None)
@given(
    st.binary(min_size=16, max_size=48),
    st.sampled_from(["hex", "b64", "b64url"]),
    st.sampled_from(_KEYWORDS),
)
def test_random_tokens_after_a_keyword_are_removed(raw: bytes, encoding: str, keyword: str) -> None:
    if encoding == "hex":
        token = raw.hex()
    elif encoding == "b64":
        token = base64.b64encode(raw).decode().rstrip("=")
    else:
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    counts = Counter(token)
    bits = -sum(c / len(token) * math.log2(c / len(token)) for c in counts.values())
    assume(bits >= 3.5)  # high entropy: what a random key looks like, not "0000...01"
    result = redact_text(f"Hello, {keyword}{token} thanks")
    assert token not in result.text
    assert result.found


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300))
def test_arbitrary_text_never_raises_and_is_stable(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once.text).text == once.text
    for f in once.findings:
        assert once.text[f.start : f.end].endswith(" removed]")
    redact_html(text)


_ADVERSARIAL = {
    "digit run": lambda n: "4" * n,
    "card-like groups": lambda n: ("4111 " * (n // 5 + 1))[:n],
    "digits and dashes": lambda n: ("4-" * (n // 2 + 1))[:n],
    "long base64": lambda n: (base64.b64encode(bytes(range(256)) * (n // 192 + 1)).decode())[:n],
    "keyword then base64": lambda n: "token: " + "aB3+" * (n // 4),
    "repeated password keyword": lambda n: ("password: " * (n // 10 + 1))[:n],
    "repeated keywords": lambda n: ("key token secret code login pw " * (n // 31 + 1))[:n],
    "unterminated pem": lambda n: "-----BEGIN PRIVATE KEY-----\n" + ("A" * 64 + "\n") * (n // 65),
    "url without host": lambda n: ("http://a:b" * (n // 10 + 1))[:n],
    "html unclosed": lambda n: ('<a href="' + "x" * 50) * (n // 59 + 1),
}


def test_adversarial_inputs_scale_linearly() -> None:
    """Four times the input may cost about four times the time, never sixteen."""
    for name, build in _ADVERSARIAL.items():
        small, large = build(250_000), build(1_000_000)
        redact_text(small[:1000])
        t0 = time.process_time()
        redact_text(small)
        t1 = time.process_time()
        redact_text(large)
        t2 = time.process_time()
        assert (t2 - t1) < max(10 * (t1 - t0), 2.0), name  # CPU time: 16x would be quadratic


def test_reply_bodies_from_the_corpus_have_no_false_positives(corpus_dir: Path) -> None:
    """Real customer replies (two reply-parser fixture sets) contain no secrets."""
    files = [
        p
        for folder in ("willdurand-email-reply-parser", "zapier-email-reply-parser", "talon")
        for p in sorted((corpus_dir / folder).rglob("*"))
        if p.is_file() and p.suffix not in (".json", ".md", ".tsv") and p.name != "LICENSE"
    ]
    assert len(files) > 40
    flagged = []
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        result = redact_html(text) if path.suffix == ".html" else redact_text(text)
        if result.found:
            flagged.append((path.name, result.counts()))
    assert flagged == []
