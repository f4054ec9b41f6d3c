"""Values for the redaction evaluation set: secrets in the formats providers document, and
the look-alike numbers and identifiers support mail is full of (decoys).

Every function takes the generator's `random.Random`, so a seed fixes every value. Secret
values are random (never real credentials); card numbers are Luhn-valid with real prefixes.
"""

from __future__ import annotations

import base64
import random
import string

B62 = string.ascii_letters + string.digits
URLSAFE = B62 + "-_"
HEX = "0123456789abcdef"
UPPER_DIGITS = string.ascii_uppercase + string.digits
WORDS = (  # noqa: SIM905
    "violet harbor canyon pencil maple rocket silver garden window thunder orange "
    "falcon river copper meadow lantern velvet planet cobalt willow marble anchor "
    "summer pepper basket walnut tiger ocean paper candle glacier hollow jasmine "
    "kettle lemon mirror nickel olive puzzle quartz saddle timber umbrella valley "
    "winter yellow zebra"
).split()


def rand(rng: random.Random, alphabet: str, size: int) -> str:
    """`size` characters drawn from `alphabet`."""
    return "".join(rng.choice(alphabet) for _ in range(size))


def luhn_digit(body: str) -> str:
    """The check digit that makes `body + digit` Luhn-valid."""
    total = 0
    for i, ch in enumerate(reversed(body + "0")):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def luhn_number(rng: random.Random, prefix: str, size: int) -> str:
    """A Luhn-valid number of `size` digits starting with `prefix`."""
    body = prefix + rand(rng, string.digits, size - len(prefix) - 1)
    return body + luhn_digit(body)


# network -> (prefixes, lengths)
CARD_NETWORKS: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "visa": (("4",), (16,)),
    "mastercard": (("51", "52", "53", "54", "55"), (16,)),
    "mastercard_2series": (("2221", "2300", "2420", "2598", "2720"), (16,)),
    "amex": (("34", "37"), (15,)),
    "discover": (("6011", "644", "65"), (16,)),
    "maestro": (("6759", "5018", "5020", "6304", "6761"), (16, 17, 18, 19)),
    "jcb": (("3528", "3589"), (16,)),
    "diners": (("36", "300"), (14,)),
}


def card_digits(rng: random.Random, network: str) -> str:
    """A Luhn-valid card number of the network."""
    prefixes, lengths = CARD_NETWORKS[network]
    return luhn_number(rng, rng.choice(prefixes), rng.choice(lengths))


def group(digits: str, sizes: list[int], seps: list[str]) -> str:
    """`digits` cut into groups of `sizes` (the rest in a last group), joined by `seps`."""
    out: list[str] = []
    pos = 0
    for size in sizes:
        if pos >= len(digits):
            break
        out.append(digits[pos : pos + size])
        pos += size
    if pos < len(digits):
        out.append(digits[pos:])
    text = out[0]
    for i, part in enumerate(out[1:]):
        text += seps[i % len(seps)] + part
    return text


def b64(rng: random.Random, size: int) -> str:
    """Base64 text of `size` random bytes (no padding stripped)."""
    return base64.b64encode(rng.randbytes(size)).decode()


def b64url(rng: random.Random, size: int) -> str:
    """Base64url text of `size` random bytes, without padding."""
    return base64.urlsafe_b64encode(rng.randbytes(size)).decode().rstrip("=")


def jwt(rng: random.Random) -> str:
    """A JWT: real-looking header and payload, random signature."""
    alg = rng.choice(["HS256", "RS256", "ES256"])
    header = f'{{"alg":"{alg}","typ":"JWT"}}'
    sub = rng.randint(10000, 99999999)
    payload = (
        f'{{"sub":"{sub}","name":"{rng.choice(WORDS)}","iat":{rng.randint(1600000000, 1800000000)}'
        f',"exp":{rng.randint(1800000000, 1900000000)},"scope":"{rng.choice(["read", "admin"])}"}}'
    )

    def enc(s: str) -> str:
        return base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")

    return f"{enc(header)}.{enc(payload)}.{b64url(rng, rng.choice([32, 64]))}"


def password(rng: random.Random) -> str:
    """A password as people choose them: word+digits+symbol, or random characters."""
    style = rng.randrange(5)
    if style == 0:
        return rng.choice(WORDS).capitalize() + str(rng.randint(10, 9999)) + rng.choice("!?#$%*")
    if style == 1:
        return rand(rng, B62 + "!#%&*+-.?@", rng.randint(10, 18))
    if style == 2:
        return (
            rng.choice(WORDS)
            + rng.choice(["_", ".", "-", ""])
            + rng.choice(WORDS)
            + str(rng.randint(1, 99))
        )
    if style == 3:
        w = rng.choice(WORDS)
        return w[0].upper() + w[1:].replace("a", "@").replace("o", "0") + str(rng.randint(1, 2030))
    return rand(rng, B62, rng.randint(8, 14))


def passphrase(rng: random.Random, words: int = 4) -> str:
    """Plain words separated by spaces (or dashes), XKCD style."""
    sep = rng.choice([" ", " ", " ", "-", "."])
    return sep.join(rng.sample(WORDS, words))


def api_key(rng: random.Random, variety: str) -> str:
    """A provider key or token of the named variety, in the provider's documented format."""
    match variety:
        case "aws_key_id":
            return rng.choice(["AKIA", "ASIA"]) + rand(rng, UPPER_DIGITS.replace("0", ""), 16)
        case "aws_secret":
            return rand(rng, B62 + "/+", 40)
        case "github_token":
            return rng.choice(["ghp_", "gho_", "ghs_"]) + rand(rng, B62, 36)
        case "github_pat":
            return "github_pat_11" + rand(rng, UPPER_DIGITS, 20) + "_" + rand(rng, B62, 59)
        case "gitlab_token":
            return "glpat-" + rand(rng, URLSAFE, 20)
        case "stripe_key":
            return rng.choice(["sk_live_", "rk_live_", "sk_test_"]) + rand(
                rng, B62, rng.choice([24, 99])
            )
        case "slack_token":
            return (
                rng.choice(["xoxb-", "xoxp-"])
                + f"{rng.randint(10**10, 10**12)}-{rng.randint(10**10, 10**12)}-"
                + rand(rng, B62, 24)
            )
        case "google_key":
            return "AIza" + rand(rng, URLSAFE, 35)
        case "sendgrid_key":
            return "SG." + rand(rng, URLSAFE, 22) + "." + rand(rng, URLSAFE, 43)
        case "twilio_key":
            return "SK" + rand(rng, HEX, 32)
        case "twilio_token":
            return rand(rng, HEX, 32)
        case "openai_key":
            if rng.random() < 0.5:
                return "sk-proj-" + rand(rng, URLSAFE, 48) + "T3BlbkFJ" + rand(rng, URLSAFE, 48)
            return "sk-" + rand(rng, B62, 48)
        case "anthropic_key":
            return "sk-ant-api03-" + rand(rng, URLSAFE, 93) + "AA"
        case "mailchimp_key":
            return rand(rng, HEX, 32) + "-us" + str(rng.randint(1, 21))
        case "webhook_secret":
            return "whsec_" + rand(rng, B62, 32)
        case "npm_token":
            return "npm_" + rand(rng, B62, 36)
        case "hf_token":
            return "hf_" + rand(rng, B62, 34)
        case "unlabelled_key":
            return rand(rng, B62, rng.randint(32, 40))
        case "uuid_key":
            return uuid(rng)
        case "mailgun_key":
            return "key-" + rand(rng, HEX, 32)
        case "shopify_token":
            return "shpat_" + rand(rng, HEX, 32)
    raise ValueError(variety)


API_VARIETIES = (  # noqa: SIM905
    "aws_key_id aws_secret github_token github_pat gitlab_token stripe_key "
    "slack_token google_key sendgrid_key twilio_key twilio_token openai_key "
    "anthropic_key mailchimp_key webhook_secret npm_token hf_token unlabelled_key "
    "uuid_key mailgun_key shopify_token"
).split()

_PEM_STARTS = {
    "RSA PRIVATE KEY": "MIIEpAIBAAKCAQEA",
    "PRIVATE KEY": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ",
    "EC PRIVATE KEY": "MHcCAQEEI",
    "OPENSSH PRIVATE KEY": "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "ENCRYPTED PRIVATE KEY": "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI",
}


def pem(rng: random.Random, newline: str = "\n") -> str:
    """A PEM private key block with a random body in 64-column lines (70 for OpenSSH)."""
    label = rng.choice(list(_PEM_STARTS))
    width = 70 if label.startswith("OPENSSH") else 64
    body = _PEM_STARTS[label] + b64(rng, rng.randint(300, 700))
    lines = [body[i : i + width] for i in range(0, len(body), width)]
    return newline.join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])


def uuid(rng: random.Random) -> str:
    """A random (version 4 shaped) UUID."""
    h = rand(rng, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:]}"


def otp(rng: random.Random, digits: int) -> str:
    """A one-time code of `digits` digits (never all the same digit)."""
    code = "".join(rng.choice(string.digits) for _ in range(digits))
    return code if len(set(code)) > 2 else otp(rng, digits)


def recovery_codes(rng: random.Random) -> list[str]:
    """8-16 recovery codes of one form (GitHub, Google, authenticator apps, ...)."""
    count = rng.randint(8, 16)
    form = rng.randrange(6)
    codes = []
    for _ in range(count):
        if form == 0:
            codes.append(f"{rand(rng, string.digits, 4)} {rand(rng, string.digits, 4)}")
        elif form == 1:
            a = string.ascii_uppercase + "23456789"
            codes.append(f"{rand(rng, a, 4)}-{rand(rng, a, 4)}-{rand(rng, a, 4)}")
        elif form == 2:
            codes.append(f"{rand(rng, HEX, 5)}-{rand(rng, HEX, 5)}")
        elif form == 3:
            codes.append(rand(rng, string.digits, 8))
        elif form == 4:
            codes.append(rand(rng, string.ascii_lowercase + string.digits, 10))
        else:
            codes.append(f"{rand(rng, string.digits, 5)}-{rand(rng, string.digits, 5)}")
    return codes
