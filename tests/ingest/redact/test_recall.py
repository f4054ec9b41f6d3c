"""Recall of the shapes customers really paste (issue 15), each next to its look-alikes.

Cards grouped irregularly or wrapped over quote markers, expiry and CVV near a card, one-time
codes and lists of backup codes, passwords in more languages and phrasings, lightly
labelled keys, session cookies, link tokens, tokens split by spaces or wrapped at 76
columns. Key-shaped values are assembled at run time so that no scanner mistakes this file
for a leak.
"""

from __future__ import annotations

import random
import string
import time

import pytest

from ingest.redact import redact_html, redact_text

_RNG = random.Random(15)
B62 = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def rand(size: int, alphabet: str = B62) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(size))


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def assert_removed(text: str, *values: str, kinds: set[str] | None = None) -> None:
    """Every value is gone from the redacted text (also with its spaces and line breaks
    taken out), and the findings are of the given kinds."""
    result = redact_text(text)
    flat = "".join(result.text.split()).replace(">", "")
    for value in values:
        assert value not in result.text, result.text
        assert "".join(value.split()).replace(">", "") not in flat, result.text
    if kinds is not None:
        assert set(result.counts()) == kinds, result.counts()


def assert_kept(text: str) -> None:
    result = redact_text(text)
    assert result.text == text
    assert not result.found


# --- cards -----------------------------------------------------------------------------

VISA = "4111111111111111"


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 11 111111 please",
        "4111-1111 1111 1111",
        "my card: 4111 1111-1111 1111.",
        "4111 1111 1111\n> 1111",
        "> my card is 4111 1111 1111\n> 1111 thanks",
        "Card number 4111 1111\r\n1111 1111",
        "Kreditkarte 41111111\n> > 11111111",
        "Discover 6011 0009 9013 9424",
        "Maestro 6759 6498 2643 8453",
        "Maestro 6799 9901 0000 0000 019",
        "Mastercard 2223 0031 2200 3222",
        "Mastercard 2720-9900 0000 0007 ok",
        "test card 4242 4242 4242 4242",
        "use 5555555555554444 for the renewal",
        "Amex 3782 822463\n> 10005",
    ],
)
def test_card_numbers_grouped_irregularly_or_wrapped(text: str) -> None:
    result = redact_text(text)
    assert "card" in result.counts(), result.text
    number = digits_of(text)
    assert number not in digits_of(result.text)
    assert not any(
        len(run) >= 8
        for run in "".join(
            ch if ch.isdigit() else " " for ch in result.text.replace("ending", "")
        ).split()
    )


@pytest.mark.parametrize(
    "text",
    [
        "IBAN FR76 3000 6000 0112 3456 7890 189",
        "FR76 3000 6000 0112 3456 7890 189",
        "Please pay to GB29 NWBK 6016 1331 9268 19",
        "loyalty number 8000 0000 0000 0009",
        "member 8123 4567 8901 2346",
        "Card: **** **** **** 4242",
        "card ending in 4242, exp **/**",
        "Call us at 0800 123 4567 or +44 20 7946 0958",
        "Order 2024-11-30, total 49.99, version 4.1.1",
        "Meeting 10:30\n4000 people attended",
        "order 4111 1111 1111 1111 shipped",
        "Ticket 4821\n> 1234\n> 5678",
        "Message-ID: <ffffffffffffffff-00000000-2222-2222-2222-111111111111-ffffff@mail.example>",
        "id 2222-2222-2222-1111-1111-abcd",
    ],
)
def test_card_look_alikes_stay(text: str) -> None:
    assert_kept(text)


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("Card 4111 1111 1111 1111 expiring 12/2029", ["12/2029"]),
        ("4111 1111 1111 1111 exp 3/25 cvv 123", ["3/25", "cvv 123"]),
        ("4111111111111111 11-30 the code on the back is 123", ["11-30", "is 123"]),
        ("card 4111 1111 1111 1111, 03 / 29, security code 4567", ["03 / 29", "4567"]),
        ("valid thru 1/28, card 4111111111111111", ["1/28"]),
        ("Card: 4111 1111 1111\n> 1111\n> Expires: 09/27\n> CVC: 321", ["09/27", "321"]),
        ("4111 1111 1111 1111\nThe 3 digits on the back are 987", []),
        ("Visa 4111 1111 1111 1111. Security number: 4321", ["4321"]),
        ("carta 4111 1111 1111 1111 scadenza 04/28 codice di sicurezza 777", ["04/28", "777"]),
        ("kaart 4111 1111 1111 1111 vervaldatum 05/27", ["05/27"]),
    ],
)
def test_expiry_and_cvv_near_a_card(text: str, values: list[str]) -> None:
    result = redact_text(text)
    assert "card" in result.counts()
    for value in values:
        assert value not in result.text, result.text


@pytest.mark.parametrize(
    "text",
    [
        "the plan expires 12/26; CVV checks are on for 3 stores",
        "The offer is valid thru 1/28 for all customers",
    ],
)
def test_expiry_and_cvv_without_a_card_stay(text: str) -> None:
    assert_kept(text)


# --- one-time codes and recovery codes ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("the code I received was 123456", "123456"),
        ("The code I got by SMS is 482913.", "482913"),
        ("SMS code 51 22 09", "51 22 09"),
        ("verification code: 123 456", "123 456"),
        ("Your verification code is 4821 9937", "4821 9937"),
        ("The code is 48219937", "48219937"),
        ("the code you sent me: 774411", "774411"),
        ("code from the app: 551 288", "551 288"),
        ("Il codice di verifica è 123456", "123456"),
        ("mijn verificatiecode is 654321", "654321"),
        ("o código de verificação é 112233", "112233"),
        ("Min engångskod är 908172", "908172"),
        ("kod weryfikacyjny: 445566", "445566"),
        ("Der Code, den ich bekommen habe: 123456", "123456"),
    ],
)
def test_one_time_codes(text: str, code: str) -> None:
    result = redact_text(text)
    assert code not in result.text, result.text
    assert result.counts() == {"otp_code": 1}


@pytest.mark.parametrize(
    "text",
    [
        "error code 123456 on export",
        "postal code: 101150",
        "promo code is 123456",
        "discount code: 552211",
        "The code is in the attachment",
        "product code 123456",
        "the code I received was wrong",
        "order code: 20241130",
        "see the code on line 123456",
    ],
)
def test_code_look_alikes_stay(text: str) -> None:
    assert_kept(text)


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        (
            "Here are my backup codes, please keep them safe:\n1234 5678\n9012 3456\n7777 8888\n",
            ["1234 5678", "9012 3456", "7777 8888"],
        ),
        (
            "My 2FA backup codes: ABCD-EFGH-JK12, QWER-TYUI-OP34, ZXCV-BNMA-SD56",
            ["ABCD-EFGH-JK12", "QWER-TYUI-OP34", "ZXCV-BNMA-SD56"],
        ),
        (
            "recovery codes\na1b2c-3d4e5   f6g7h-8i9j0\nk1l2m-3n4o5   p6q7r-8s9t0\n\nThanks",
            ["a1b2c-3d4e5", "f6g7h-8i9j0", "k1l2m-3n4o5", "p6q7r-8s9t0"],
        ),
        (
            "These are the 2FA codes I saved: 12345678 23456789 34567890 45678901",
            ["12345678", "45678901"],
        ),
        (
            "Backup-Codes (bitte sicher aufbewahren):\n"
            + "\n".join(
                f"{a:04d} {b:04d}    {c:04d} {d:04d}"
                for a, b, c, d in [(1111, 2222, 3333, 4444), (5555, 6666, 7777, 8888)] * 4
            ),
            ["1111 2222", "7777 8888"],
        ),
        ("codici di backup: 11aa22bb, 33cc44dd, 55ee66ff", ["11aa22bb", "55ee66ff"]),
        ("herstelcodes:\n- 1a2b3c4d\n- 5e6f7g8h\n- 9i0j1k2l", ["1a2b3c4d", "9i0j1k2l"]),
        ("kody zapasowe: 1234-5678, 2345-6789, 3456-7890", ["1234-5678", "3456-7890"]),
    ],
)
def test_recovery_code_lists_are_removed_whole(text: str, codes: list[str]) -> None:
    result = redact_text(text)
    for code in codes:
        assert code not in result.text, result.text
    assert set(result.counts()) <= {"recovery_code", "card"}
    assert "recovery_code" in result.counts()


@pytest.mark.parametrize(
    "text",
    [
        "the recovery code feature is missing",
        "Where do I find my backup codes? The page 12 of the manual is empty.",
        "backup codes were generated on 2024-01-05",
    ],
)
def test_recovery_words_without_codes_stay(text: str) -> None:
    assert_kept(text)


# --- passwords ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values"),
    [
        (
            "I could not log in, so I reset my password. I reset it to violet harbor canyon "
            "pencil.",
            ["violet harbor canyon pencil"],
        ),
        ("the password is now violet harbor canyon pencil", ["violet harbor canyon pencil"]),
        ("password is violet harbor canyon", ["violet harbor canyon"]),
        ("Mein Passwort: sonne wolke regen.", ["sonne wolke regen"]),
        ("My new passphrase: amber-kettle-orbit-meadow, thanks", ["amber-kettle-orbit-meadow"]),
        (
            "My password stopped working. I changed it from Sunny2023 to Rainy2024!",
            ["Sunny2023", "Rainy2024!"],
        ),
        ("I changed my password from Sunny2023 to Rainy2024! yesterday", ["Sunny2023", "Rainy"]),
        ("login failed, I reset it to Blue-Sky-77 thanks", ["Blue-Sky-77"]),
        ("curl -u admin:S3cretPass https://api.example.com/v1/items", ["S3cretPass"]),
        ("curl --user 'deploy:hunter2!x' https://example.com", ["hunter2!x"]),
        ("curl -X POST \\\n  -u bob:Tr0ub4dor https://api.example.com", ["Tr0ub4dor"]),
        ("--\nAnna\nWiFi: Guest / pw: blueberry42", ["blueberry42"]),
        ("WLAN: Buero-Gast / Sonnenblume2024", ["Sonnenblume2024"]),
        ("La password è Gatto2024", ["Gatto2024"]),
        ("la mia password è: Roma!1987", ["Roma!1987"]),
        ("Het wachtwoord is Fiets123", ["Fiets123"]),
        ("mijn wachtwoord: Tulp#2024", ["Tulp#2024"]),
        ("A senha é Casa2024", ["Casa2024"]),
        ("minha senha: Praia2023!", ["Praia2023!"]),
        ("Lösenordet är Sommar2024", ["Sommar2024"]),
        ("mitt lösenord: Midsommar!9", ["Midsommar!9"]),
        ("Hasło: Kwiatek99", ["Kwiatek99"]),
        ("moje hasło to Warszawa2024", ["Warszawa2024"]),
    ],
)
def test_passwords_in_sentences_and_languages(text: str, values: list[str]) -> None:
    assert_removed(text, *values, kinds={"password"})


@pytest.mark.parametrize(
    "text",
    [
        "the password was changed from the admin page to the user page",
        "We updated the app from 1.2.3 to 1.2.4 and the password field is gone.",
        "I set the password to expire in 90 days as the policy says.",
        "I changed it from Monday to Tuesday.",
        "I reset it to the default settings and it works now.",
        "La password è sbagliata",
        "Het wachtwoord is verlopen.",
        "A senha é incorreta",
        "Lösenordet är fel",
        "Hasło jest nieprawidłowe",
        "the password is case sensitive here.",
        "my password is still blocked today.",
        "the password is wrong again",
        "curl https://example.com/status -o out.txt",
        "WiFi: available in all rooms",
    ],
)
def test_sentences_about_passwords_stay(text: str) -> None:
    assert_kept(text)


# --- keys, cookies and link tokens ---------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "the key from our dashboard is {v}",
        "The API key in our settings is {v}",
        "Here is the secret that you gave us: {v}",
        "api key (from the portal): {v}",
    ],
)
def test_lightly_labelled_keys(template: str) -> None:
    value = rand(36)
    assert_removed(template.format(v=value), value, kinds={"api_key"})


def test_uuid_after_an_api_key_label_is_a_key_but_not_as_an_id() -> None:
    key = "3f2b1c9e-8d7a-4e6f-9b0c-1a2d3e4f5a6b"
    assert_removed(f"X-API-Key: {key}", key, kinds={"api_key"})
    assert_removed(f"api_key={key}", key, kinds={"api_key"})
    assert_kept(f"order id {key}")
    assert_kept(f"Request-Id: {key}")


def test_mailchimp_key() -> None:
    value = rand(32, HEX) + "-us21"
    assert_removed(f"our mailchimp key {value} stopped working", value, kinds={"api_key"})
    assert_kept(f"build {rand(32, HEX)} for the us market")


@pytest.mark.parametrize(
    "template",
    [
        "Cookie: session={v}; theme=dark",
        "Cookie: _ga=GA1.2.3; PHPSESSID={v}",
        "PHPSESSID={v}",
        "connect.sid=s%3A{v}",
        "_session_id={v}",
        "Set-Cookie: sid={v}; Path=/; HttpOnly",
        "JSESSIONID={v}",
        "my session cookie is session={v}",
    ],
)
def test_session_cookies(template: str) -> None:
    value = rand(32)
    result = redact_text(template.format(v=value))
    assert value not in result.text
    assert result.counts() == {"bearer_token": 1}
    assert "dark" in result.text or "dark" not in template


@pytest.mark.parametrize(
    "text",
    [
        "Cookie: theme=dark; lang=en",
        "the session: 45 minutes",
        "session=expired",
        "sid=12",
    ],
)
def test_cookie_look_alikes_stay(text: str) -> None:
    assert_kept(text)


@pytest.mark.parametrize(
    "template",
    [
        "https://app.example.com/magic/{v}",
        "Click https://app.example.com/login/magic-link/{v} to log in",
        "https://example.com/reset?key={v}",
        "https://example.com/verify?token={v}&utm_source=mail",
        "https://example.com/cb?state=abc&access_token={v}",
        "https://example.com/oauth/callback?code={v}",
        "https://example.com/invite/{v}",
    ],
)
def test_link_tokens(template: str) -> None:
    value = rand(40, B62 + "_-")
    result = redact_text(template.format(v=value))
    assert value not in result.text
    assert "api_key" in result.counts()


@pytest.mark.parametrize(
    "text",
    [
        "https://example.com/docs/getting-started/installation-guide",
        "https://example.com/orders/123456789?page=2&sort=desc",
        "https://example.com/login/reset-your-password-instructions",
        "https://github.com/acme/app/commit/3f786850e387550fdab836ed7e6dc881de23001b",
    ],
)
def test_ordinary_links_stay(text: str) -> None:
    assert_kept(text)


@pytest.mark.parametrize(
    "template",
    [
        "http://t.mb.news.example/c/?t={v}",
        "http://www.shop.example/l/lt10VX3615QP370UC/{v}",
        "https://click.example.com/track?s={v}&k=1",
    ],
)
def test_newsletter_tracking_links_stay(template: str) -> None:
    assert_kept(template.format(v=rand(40, B62 + "_-")))


# --- split and wrapped tokens ------------------------------------------------------------

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ." + rand(
    43, B62 + "_-"
)


def wrap(text: str, width: int = 76, prefix: str = "") -> str:
    return "\n".join(prefix + text[i : i + width] for i in range(0, len(text), width))


@pytest.mark.parametrize("prefix", ["", "> ", "> > "])
def test_jwt_wrapped_at_76_columns(prefix: str) -> None:
    text = wrap("Here is the token from the log, it fails with a 401 status: " + JWT, 76, prefix)
    result = redact_text(text + "\n\nThanks, Anna")
    assert result.counts() == {"jwt": 1}
    assert JWT[-20:] not in "".join(result.text.split()).replace(">", "")
    assert result.text.endswith("\n\nThanks, Anna")


def test_anthropic_key_wrapped() -> None:
    key = "sk-ant-api03-" + rand(93, B62 + "_-") + "AA"
    text = wrap("Our key, please check whether it is still valid for us: " + key + " thanks")
    assert_removed(text, key, kinds={"api_key"})
    assert redact_text(text).text.endswith(" thanks")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("xoxb-1 234567 890123 {r24}\nThanks", "{r24}"),
        ("whsec _{g1} {g2} {g3} {g4} please check", "{g4}"),
        ("key id AKIA IOSF ODNN 7EXA MPLE for the bucket", "7EXA"),
        ("AKIAIOSF ODNN7EXA MPLE is ours", "ODNN7EXA"),
    ],
)
def test_keys_split_by_spaces(text: str, value: str) -> None:
    parts = {"r24": rand(24), **{f"g{i}": rand(5) for i in range(1, 5)}}
    text, value = text.format(**parts), value.format(**parts)
    result = redact_text(text)
    assert value not in result.text
    assert result.counts() == {"api_key": 1}
    assert any(word in result.text for word in ("Thanks", "please", "bucket", "ours"))


# --- placement: HTML and quoted history ----------------------------------------------------


@pytest.mark.parametrize(
    ("html", "secret"),
    [
        ("<p>card 4111 1111<br>1111 1111</p>", "1111 1111"),
        ("<div>backup codes:<br>1234 5678<br>9012 3456</div>", "9012 3456"),
        ("<p>Your code: <b>482&nbsp;913</b></p>", "913"),
        ("<p>WiFi: Guest / pw: <span>blue</span>berry42</p>", "berry42"),
        ("<p>Cookie: PHPSESSID=<code>{v}</code></p>", "{v}"),
    ],
)
def test_the_same_shapes_in_html(html: str, secret: str) -> None:
    value = rand(32)
    html, secret = html.format(v=value), secret.format(v=value)
    result = redact_html(html)
    assert result.found
    assert secret not in result.text


def test_quoted_history_values_wrapped_across_quote_markers() -> None:
    text = (
        "On Mon, Anna wrote:\n"
        "> Please charge my card 4111 1111 1111\n"
        "> 1111, it expires 09/27 and the CVC is 321.\n"
        "> My password is Sommer2024! and the backup codes:\n"
        "> 1234 5678\n> 2345 6789\n"
    )
    result = redact_text(text)
    for value in ("4111", "09/27", "321", "Sommer2024", "1234 5678", "2345 6789"):
        assert value not in result.text, result.text


# --- linear time on hostile input for the new shapes ------------------------------------

_HOSTILE = {
    "keyword runs without spaces (issue 20)": lambda n: (
        "key=token=secret=password=api_key=" * (n // 34 + 1)
    )[:n],
    "wrapped lines of token characters": lambda n: ("eyJ" + "A" * 73 + "\n> ") * (n // 79 + 1),
    "quoted digit groups": lambda n: ("4111 1111 1111\n> " * (n // 17 + 1))[:n],
    "backup codes then codes": lambda n: "backup codes: " + "ab12-cd34 " * (n // 10),
    "code words": lambda n: ("the code I received was " * (n // 24 + 1))[:n],
    "password then reset it to": lambda n: ("password reset it to a " * (n // 23 + 1))[:n],
    "cookie pairs": lambda n: "Cookie: " + "a=b1c2d3e4f5g6h7; " * (n // 18),
    "spaced key groups": lambda n: "xoxb-1 " + "Ab1 " * (n // 4),
    "curl lines": lambda n: ("curl -u a:b \\\n" * (n // 14 + 1))[:n],
    "magic links": lambda n: "https://x.example/magic/" + "Ab1/" * (n // 4),
    "spaced key prefixes": lambda n: ("xoxb-1 " * (n // 7 + 1))[:n],
    "wrapped key prefixes": lambda n: ("sk-ant-" + "A" * 69 + "\n") * (n // 77 + 1),
}


def test_new_shapes_scale_linearly() -> None:
    """Four times the input may cost about four times the time, never sixteen (CPU time, as
    in test_redact_properties); the runs of issue 20 took 26 s for 50 kB before."""
    for name, build in _HOSTILE.items():
        small, large = build(100_000), build(400_000)
        redact_text(small[:1000])
        t0 = time.process_time()
        redact_text(small)
        t1 = time.process_time()
        redact_text(large)
        t2 = time.process_time()
        assert (t2 - t1) < max(10 * (t1 - t0), 2.0), name


@pytest.mark.parametrize(
    "sentence",
    [
        "a chave da API é {v}",
        "la chiave API è {v}",
        "de API-sleutel is {v}",
        "API-nyckeln är {v}",
        "klucz API: {v}",
    ],
)
def test_api_keys_named_in_other_languages(sentence: str) -> None:
    value = "50f084cd37ced69b4a4a06340375fcab"
    result = redact_text(sentence.format(v=value))
    assert value not in result.text and result.counts() == {"api_key": 1}


@pytest.mark.parametrize(
    "sentence",
    [
        "a chave do carro está na mesa 1234",
        "la chiave è sotto il tappeto",
        "de sleutel ligt bij de receptie, kamer 1234",
    ],
)
def test_keys_of_doors_and_cars_stay(sentence: str) -> None:
    assert redact_text(sentence).text == sentence
