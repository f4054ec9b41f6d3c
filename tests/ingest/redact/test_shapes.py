"""Secrets in the shapes mail clients and customers give them, next to their look-alikes.

Cards and tokens wrapped over `<br>` line breaks in HTML, a token ended by a full stop, a
Maestro's last digit alone, CVV and expiry written after a card without labels or with
labels in more languages, a CVV named as such with no card in the text. Key-shaped values
are assembled at run time so that no scanner mistakes this file for a leak.
"""

from __future__ import annotations

import base64
import json
import random
import string

import pytest

from ingest.redact import redact_html, redact_text

_RNG = random.Random(1515)
B62 = string.ascii_letters + string.digits


def rand(size: int, alphabet: str = B62) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(size))


def jwt() -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    head = part({"alg": "HS256", "typ": "JWT"})
    body = part({"sub": "38640418", "name": "glacier", "iat": 1676367279, "scope": "read"})
    return f"{head}.{body}.{rand(43, B62 + '-_')}"


def wrap(value: str, first: int, width: int, sep: str) -> str:
    """value broken after `first` characters and then every `width`, joined by sep."""
    pieces = [value[:first]] + [value[i : i + width] for i in range(first, len(value), width)]
    return sep.join(pieces)


def assert_kept(text: str) -> None:
    result = redact_text(text)
    assert result.text == text
    assert not result.found


# --- tokens wrapped at 76 columns, ended by a full stop ---------------------------------


@pytest.mark.parametrize("sep", ["\n", "\n> ", "\r\n> > "])
@pytest.mark.parametrize("first", [12, 30, 47])
def test_wrapped_jwt_followed_by_a_full_stop(sep: str, first: int) -> None:
    token = jwt()
    lead = "the token I get back is "
    text = lead + wrap(token, first + (76 - len(lead) - first), 72, sep) + ". Thanks"
    result = redact_text(text)
    assert result.counts() == {"jwt": 1}, result.text
    for piece in token.split("."):
        for chunk in (piece[i : i + 10] for i in range(0, len(piece), 10)):
            if len(chunk) >= 6:
                assert chunk not in result.text.replace("\n", "").replace("> ", "")
    assert result.text.endswith(". Thanks")


def test_html_jwt_wrapped_with_br_and_newline() -> None:
    token = jwt()
    html = "<p>token z odpowiedzi: " + wrap(token, 50, 70, "<br>\n") + ".</p>"
    result = redact_html(html)
    assert "jwt" in result.counts()
    for line in wrap(token, 50, 70, "\n").split("\n"):
        assert line not in result.text


def test_a_dotted_word_after_a_token_stays() -> None:
    token = jwt()
    result = redact_text(f"bearer {token}. Version 2.4.1 of the app.")
    assert token not in result.text
    assert "Version 2.4.1 of the app." in result.text


# --- cards over <br>, a last digit alone ------------------------------------------------


@pytest.mark.parametrize(
    ("html", "pieces"),
    [
        (
            "<p>Kreditkarte: 6011 0009 9013<br>\n9424 gültig bis 07/2028.</p>",
            ["6011", "9013<br>", "07/2028"],
        ),
        ("<p>Card: 4111 1111<br>\n  1111 1111<br></p>", ["4111 1111"]),
        ("<p>carte: 5555 5555 5555<br>\r\n4444 exp 1/29</p>", ["5555 5555", "5555<br>", "1/29"]),
    ],
)
def test_card_wrapped_at_a_br_line_break(html: str, pieces: list[str]) -> None:
    result = redact_html(html)
    assert "card" in result.counts(), result.text
    for piece in pieces:
        assert piece not in result.text


@pytest.mark.parametrize(
    "text",
    [
        "please charge 6304 0000 0000 0000 0 instead",  # 17 digits, 4-4-4-4-1
        "please charge 6304 0000 0000\n0000 0 instead",  # wrapped, then a digit alone
    ],
)
def test_maestro_with_its_last_digit_alone(text: str) -> None:
    digits = "63040000000000000"
    assert _luhn(digits)
    result = redact_text(text)
    assert result.counts().get("card") == 1, result.text
    assert "0000 0 instead" not in result.text


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


# --- CVV and expiry ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("6011111111111117 11/2029 604. FYI", ["11/2029", "604"]),
        ("4111 1111 1111 1111 07/27 902!", ["07/27", "902"]),
        ("use the card 4111-1111 1111 1111 for the renewal (1/32).", ["1/32"]),
        ("Card 4111 1111 1111 1111\n(11/25) / cvv2=973.", ["11/25", "973"]),
        ("Card 4111 1111 1111 1111\n(04/31) / the 3 digits on the back: 861.", ["04/31", "861"]),
        ("karta: 4111 1111 1111 1111, data ważności 07/2032, kod CVV 4451.", ["07/2032", "4451"]),
        ("kort 4111 1111 1111 1111\ngiltigt till 05-29 / CVC-kod 9704!", ["05-29", "9704"]),
        ("Karte 4111 1111 1111 1111\n\nSicherheitscode: 188\nläuft ab 10/30", ["188", "10/30"]),
        ("4111111111111111\n" + "x " * 120 + "\nexp 04-32, CID 2306", ["04-32", "2306"]),
    ],
)
def test_cvv_and_expiry_around_a_card(text: str, values: list[str]) -> None:
    result = redact_text(text)
    assert "card" in result.counts(), result.text
    for value in values:
        assert value not in result.text, result.text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Oh and CVV 049.", "049"),
        ("> CVC-kod 957!", "957"),
        ("cvv2=692", "692"),
        ("mein Kartenprüfnummer lautet 321", "321"),
        ("le cryptogramme est 123", "123"),
        ("CVC2: 4321", "4321"),
    ],
)
def test_a_code_named_as_a_card_code_goes_without_a_card(text: str, value: str) -> None:
    result = redact_text(text)
    assert result.counts() == {"card_cvv": 1}, result.text
    assert value not in result.text


@pytest.mark.parametrize(
    "text",
    [
        "the plan expires 12/26; CVV checks are on for 3 stores",
        "The offer is valid thru 1/28 for all customers",
        "CID 2306 is the campaign id",  # CID alone is no card code without a card
        "the code on the back is 861 says the manual",
        "Card 4111 1111 1111 1111 was declined on 3/25/2024 at 10:30",
        "loyalty card 8122 0832 6833 3129",
        "barcode 5077773727873",
        "Zur Info: loyalty card 4111 1111 1111 1111",
    ],
)
def test_look_alikes_stay(text: str) -> None:
    result = redact_text(text)
    if "Card 4111" in text:
        assert result.counts() == {"card": 1}, result.text
        assert "3/25/2024 at 10:30" in result.text
    else:
        assert_kept(text)


def test_a_wide_window_stays_linear() -> None:
    """Many cards, each with a labelled code far away: one scan, whatever the count."""
    block = "card 4111 1111 1111 1111 " + "word " * 20 + "CVV 123 exp 01/30\n"
    result = redact_text(block * 2000)
    assert result.counts()["card"] == 2000
    assert result.counts()["card_cvv"] == 2000


# --- session cookies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "the cookie value is {v} (name: session)!",
        "_gh_sess={v}%2F{w}%3D%3D! please check",
        "Cookie-Wert ist {v}.",
        "rack.sess={v} from the browser",
    ],
)
def test_session_cookie_values(template: str) -> None:
    v, w = rand(32, B62 + "_-"), rand(24)
    result = redact_text(template.format(v=v, w=w))
    assert len(result.findings) == 1, result.text
    assert v not in result.text and w not in result.text


@pytest.mark.parametrize(
    "text",
    ["the cookie banner is annoying", "I cleared the cookies and the session was gone"],
)
def test_cookie_prose_stays(text: str) -> None:
    assert_kept(text)


# --- unlabelled random keys ----------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "I pasted {k} into the plugin settings",
        "it's {k} (copied from the integrations tab).",
        "this one: {k} -- does it look right?",
        "<p>the value in the dashboard says {k}<br>",
    ],
)
@pytest.mark.parametrize("size", [32, 36, 40])
def test_unlabelled_random_keys(template: str, size: int) -> None:
    key = rand(size - 4) + "aB3x"  # at least two of each class
    result = (
        redact_html(template.format(k=key))
        if "<p>" in template
        else redact_text(template.format(k=key))
    )
    assert key not in result.text, result.text
    assert "api_key" in result.counts()


@pytest.mark.parametrize(
    "text",
    [
        "commit 2fa47243723bfe173a4bb1642669fe2c675c1f83d944adffe3b2e2af847edade",  # "2fa"
        "request id 6661befc-5646-43fa-ad9d-9529b64940d1 failed",
        "tracking 1Z41V87E0WTXWJX3TB1Z41V87E0WTXWJX3TB",
        '<div id="AOLMsgPart_0_4d68a632-fe65-4f6d-ace2-292ac1b91f1f">',
        "see https://example.com/files/Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z/view",
        "mail me at Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z@example.com",
        "class AbstractSingletonProxyFactoryBean2 extends Base",
        "[image: data:image/png;base64,S8WkeLwVEr43ZVulb518Dp5Z1j61XtWuOAf8GEjB6wM6WX6SH]",
        'boundary="--_000_MN6PR12MB8566625839C42BCD2B16AC1B8FD6AMN6PR12MB8566namp_"',
    ],
)
def test_ids_hashes_and_encoded_data_stay(text: str) -> None:
    assert_kept(text)


def test_a_base64_block_stays() -> None:
    lines = [rand(60) for _ in range(4)] + [rand(30)]
    assert_kept("Content-Transfer-Encoding: base64\n\n" + "\n".join(lines) + "\n")


def test_random_tokens_scan_is_linear() -> None:
    """Long runs of token characters, and many short ones: one pass over the byte view."""
    for text in ("aB3" * 400_000, ("aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0e " * 40_000)):
        redact_text(text)  # finishes; the timing test in test_properties covers scaling


# --- split and wrapped tokens ended by punctuation, JWTs in narrow table cells -------------


def test_spaced_keys_before_a_full_stop() -> None:
    groups = [rand(4) for _ in range(8)]
    text = "the key is whsec _" + " ".join(groups) + ". FYI on 2/6/2024"
    result = redact_text(text)
    assert "api_key" in result.counts(), result.text
    for group in groups:
        assert group not in result.text
    assert result.text.endswith(". FYI on 2/6/2024")


def test_wrapped_jwt_before_a_full_stop_and_a_capitalised_word() -> None:
    token = jwt()
    lead = "> the token I get back is "
    text = lead + wrap(token, 76 - len(lead), 74, "\n> ") + ".\n> FYI SNE1C2WJP3W1I (serial)"
    result = redact_text(text)
    assert result.text.endswith(".\n> FYI SNE1C2WJP3W1I (serial)"), result.text
    assert token[-20:] not in result.text.replace("\n> ", "")


@pytest.mark.parametrize("first", [20, 37])
def test_jwt_cut_early_in_a_table_cell(first: int) -> None:
    token = jwt()
    html = (
        "<table><tr><td>here's the JWT:</td><td>"
        + wrap(token, first, 74, "<br>\n")
        + "</td></tr></table><p>voucher BLACKFRIDAY06</p>"
    )
    result = redact_html(html)
    assert result.counts() == {"jwt": 1}, result.text
    assert "BLACKFRIDAY06" in result.text


@pytest.mark.parametrize(
    "text",
    [
        "I walked by the ocean!\n4111 1111 1111 1111",  # "ean" inside a word is no EAN
        "Kreditkarte des Kunden: 4111 1111 1111 1111",
        "the preference: 4111 1111 1111 1111",  # "ref" inside a word
    ],
)
def test_reference_words_only_as_words(text: str) -> None:
    assert redact_text(text).counts().get("card") == 1


# --- UUID and hex keys named by where they came from ---------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "I pasted {v} into the plugin settings.",
        "the value in the dashboard says {v}!",
        "I copied this from the settings page: {v}.",
        "we're calling it with {v}. Thanks",
        "<p>it's {v} (copied from the integrations tab).<br>",
    ],
)
@pytest.mark.parametrize("shape", ["uuid", "hex32", "hex40"])
def test_keys_in_one_case_named_by_where_they_came_from(template: str, shape: str) -> None:
    hexdigits = "0123456789abcdef"
    if shape == "uuid":
        value = "-".join(rand(n, hexdigits) for n in (8, 4, 4, 4, 12))
    else:
        value = rand(32 if shape == "hex32" else 40, hexdigits)
    text = template.format(v=value)
    result = redact_html(text) if text.startswith("<p>") else redact_text(text)
    assert value not in result.text, result.text


@pytest.mark.parametrize(
    "text",
    [
        "request id 6661befc-5646-43fa-ad9d-9529b64940d1 fails in the dashboard",
        "I copied the md5 c8575c5b263782936297704031d66bc7 from the settings page",
        "file hash c8575c5b263782936297704031d66bc7, nobody can log in to the admin panel",
        "Tenant-ID: 3b65ccb6-f0a6-4207-a06f-0a498ae7391b (see the dashboard)",
        "commit 258b00ef2336c8575c5b263782936297704031d6 pasted into the changelog",
        "job 799e89dd-fa39-4bc8-ba05-ee5fdaf5059f is stuck",  # no place named at all
    ],
)
def test_ids_and_hashes_near_place_words_stay(text: str) -> None:
    assert_kept(text)


# --- spaced groups that read as words, keys cut in a cell, AWS secrets with + and / --------


def test_spaced_key_with_groups_that_read_as_words() -> None:
    text = "the key is whsec _2Gxx giMY wVSo XTkX Ruhh 0av4 0re7 nJUg We did not change it"
    result = redact_text(text)
    for group in ("2Gxx", "Ruhh", "0av4", "nJUg"):
        assert group not in result.text, result.text
    assert result.text.endswith(" We did not change it")


def test_prefixed_key_cut_early_in_html() -> None:
    key = "SG." + rand(22) + "." + rand(43)
    html = "<p>KEY=" + wrap(key, 30, 40, "<br>\n") + "</p><p>Thanks</p>"
    result = redact_html(html)
    assert result.counts() == {"api_key": 1}, result.text
    assert "Thanks" in result.text


@pytest.mark.parametrize(
    "template", ["it's {k} (copied from the integrations tab)", "we use {k} in production."]
)
def test_aws_secret_with_plus_and_slash(template: str) -> None:
    key = rand(18) + "+" + rand(12) + "/" + rand(8)
    assert len(key) == 40
    result = redact_text(template.format(k=key))
    assert key not in result.text and key[:18] not in result.text, result.text


@pytest.mark.parametrize(
    "text",
    [
        "src/main/java/com/Example2/FooBarBaz3.java and/or things",
        "see https://example.com/files/Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z/view",
        '<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk">',
    ],
)
def test_paths_and_base64_stay(text: str) -> None:
    assert_kept(text)


# --- keys cut where a short quoted line ends, fixed-length keys pasted in groups ----------


def test_slack_token_cut_after_a_dash_on_a_short_quoted_line() -> None:
    tail = rand(24)
    text = "> > xoxb-1234567890-1234567890123-\n> > " + tail + "\n> > cheers"
    result = redact_text(text)
    assert tail not in result.text, result.text
    assert result.text.endswith("> > cheers")


@pytest.mark.parametrize(
    ("key", "split"),
    [
        (
            "SG." + "Ab3dEf6hIj9kLm2nOp5qRs" + "." + "x" * 10 + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zC",
            3,
        ),
        ("npm_" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3d", 4),
    ],
)
def test_fixed_length_keys_pasted_in_groups(key: str, split: int) -> None:
    groups = [key[:split]] + [key[i : i + 8] for i in range(split, len(key), 8)]
    result = redact_text("the key is " + " ".join(groups) + " and it fails")
    assert result.text.endswith(" and it fails"), result.text
    for group in groups[1:]:
        assert group not in result.text
