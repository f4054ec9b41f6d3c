"""Synthetic support mail for the redaction benchmark: realistic prose, rare secrets.

Messages in English, German, French and Spanish with the numbers support mail is full of
(tickets, invoices, orders, tracking, phones, dates, prices, IPs, versions, UUIDs, commit
hashes), quoted history, signatures, log and JSON snippets, and now and then a secret.
Also the adversarial inputs: long digit runs, long base64, repeated keywords.
"""

from __future__ import annotations

import base64
import random
import string

_NAMES = ["Anna Schmidt", "Bob Miller", "Chloé Martin", "Diego García", "Eva Novak", "Farid Haddad"]
_OPENERS = [
    "Hi support team,",
    "Hello,",
    "Hallo zusammen,",
    "Guten Tag,",
    "Bonjour,",
    "Hola,",
    "Dear {name},",
    "Sehr geehrte Damen und Herren,",
    "Buenos días,",
]
_SENTENCES = [
    "Since {date} our call recordings are not exported anymore; the export job {uuid} stays in "
    "state pending.",
    "Ticket {ticket} is still open and nobody answered since {date} at {time}.",
    "Invoice {invoice} shows {price} but our plan should cost less, could you check?",
    "Our order {order} was shipped with tracking number {tracking}, it has not arrived.",
    "Please call me back on {phone} between {time} and 17:00.",
    "After the update to version {version} the transcripts are empty for agent {name}.",
    "The API returns 502 from {ip} for about {n} percent of the requests.",
    "I requested a password reset link three times but the email never arrived.",
    "Ich habe die Rechnung {invoice} über {price} erhalten, bitte um Korrektur.",
    "Seit dem {date} funktioniert der Export der Anrufliste nicht mehr (Ticket {ticket}).",
    "Bitte senden Sie mir einen Link zum Zurücksetzen des Passworts.",
    "Nous avons reçu la facture {invoice} d'un montant de {price}, merci de vérifier.",
    "Depuis la version {version}, les enregistrements ne sont plus disponibles.",
    "Mi pedido {order} no ha llegado, el número de seguimiento es {tracking}.",
    "La factura {invoice} tiene un importe de {price}, creo que es incorrecto.",
    "We deployed commit {commit} yesterday and the webhook stopped working.",
    "Two-factor authentication is enabled for all admins since {date}.",
    "The key takeaway is that the token expired after {n} minutes.",
    "Our account number is {account} and the contract started on {date}.",
]
_SIGNATURES = [
    "Best regards,\n{name}\nAcme GmbH | Tel. {phone}\nwww.acme.example",
    "Mit freundlichen Grüßen\n{name}\n{phone}",
    "Cordialement,\n{name}",
    "Saludos,\n{name}\nTel: {phone}",
    "--\n{name}\nSent from my iPhone",
]
_LOG = (
    "{date}T{time}:12.345Z ERROR export-worker[{n}] job={uuid} peer={ip}:443 "
    "status=502 trace={commit}"
)
_JSON = '{{"id": "{uuid}", "ticket": "{ticket}", "amount": "{price}", "created": "{date}"}}'


def _rand(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


def _luhn_complete(rng: random.Random, prefix: str, size: int) -> str:
    body = prefix + _rand(rng, string.digits, size - len(prefix) - 1)
    total = 0
    for i, ch in enumerate(reversed(body + "0")):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def _secret(rng: random.Random) -> str:
    b62 = string.ascii_letters + string.digits
    card = _luhn_complete(rng, rng.choice(["4", "51", "37", "6011"]), 16)
    if card.startswith("37"):
        card = _luhn_complete(rng, "37", 15)
    choices = [
        "My card is "
        + " ".join(card[i : i + 4] for i in range(0, len(card), 4))
        + ", exp 09/27, CVV 123.",
        f"my password is {_rand(rng, b62, 10)}!",
        f"Passwort: {_rand(rng, b62, 12)}",
        f"mon mot de passe est {_rand(rng, b62, 9)}",
        f"login: admin / {_rand(rng, b62, 8)}1",
        f"Here is our API key: sk_live_{_rand(rng, b62, 24)}",
        f"AWS_ACCESS_KEY_ID=AKIA{_rand(rng, string.ascii_uppercase + string.digits, 16)}",
        f"Authorization: Bearer {_rand(rng, b62, 40)}",
        f"DATABASE_URL=postgres://app:{_rand(rng, b62, 14)}@db.internal:5432/app",
        f"Your verification code is {_rand(rng, string.digits, 6)}.",
        "token: " + base64.urlsafe_b64encode(rng.randbytes(24)).decode(),
    ]
    return rng.choice(choices)


def _fill(rng: random.Random, template: str) -> str:
    year = rng.randint(2021, 2025)
    values = {
        "name": rng.choice(_NAMES),
        "date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "time": f"{rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}",
        "ticket": f"SUP-{rng.randint(1000, 99999)}",
        "invoice": f"INV-{year}-{rng.randint(1, 99999):05d}",
        "order": f"{rng.randint(10**9, 10**10 - 1)}",
        "tracking": f"1Z{_rand(rng, string.ascii_uppercase + string.digits, 16)}",
        "phone": f"+49 {rng.randint(30, 89)} {rng.randint(1000000, 9999999)}",
        "price": f"€{rng.randint(10, 4999)},{rng.randint(0, 99):02d}",
        "ip": ".".join(str(rng.randint(1, 254)) for _ in range(4)),
        "version": f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
        "uuid": "-".join(_rand(rng, "0123456789abcdef", k) for k in (8, 4, 4, 4, 12)),
        "commit": _rand(rng, "0123456789abcdef", 40),
        "account": f"{rng.randint(10**7, 10**8 - 1)}",
        "n": str(rng.randint(2, 90)),
    }
    return template.format(**values)


def message(rng: random.Random, secret_rate: float = 0.06) -> str:
    """One synthetic support mail body (with quoted history most of the time)."""
    lines = [_fill(rng, rng.choice(_OPENERS)), ""]
    body = [_fill(rng, rng.choice(_SENTENCES)) for _ in range(rng.randint(2, 7))]
    if rng.random() < secret_rate:
        body.insert(rng.randrange(len(body) + 1), _secret(rng))
    lines.append(" ".join(body))
    if rng.random() < 0.25:
        lines += ["", "Log excerpt:"] + [_fill(rng, _LOG) for _ in range(rng.randint(2, 8))]
    if rng.random() < 0.1:
        lines += ["", _fill(rng, _JSON)]
    lines += ["", _fill(rng, rng.choice(_SIGNATURES))]
    if rng.random() < 0.6:
        lines += ["", _fill(rng, "On {date} at {time}, Support <support@example.com> wrote:")]
        lines += ["> " + _fill(rng, rng.choice(_SENTENCES)) for _ in range(rng.randint(2, 6))]
    return "\n".join(lines) + "\n"


def corpus(size: int, seed: int = 42) -> list[str]:
    """Messages totalling about `size` characters."""
    rng = random.Random(seed)
    out: list[str] = []
    total = 0
    while total < size:
        msg = message(rng)
        out.append(msg)
        total += len(msg)
    return out


def adversarial(size: int) -> dict[str, str]:
    """Inputs built to make a backtracking matcher slow, each about `size` characters."""
    rng = random.Random(7)
    b64 = base64.b64encode(rng.randbytes(size * 3 // 4 + 3)).decode()[:size]
    return {
        "digit run": "4" * size,
        "card-like groups": ("4111 " * (size // 5 + 1))[:size],
        "digits and dashes": ("4-" * (size // 2 + 1))[:size],
        "long base64": b64,
        "base64 after keyword": "token: " + b64[: size - 7],
        "repeated password keyword": ("password: " * (size // 10 + 1))[:size],
        "repeated keywords": ("key token secret code login pw " * (size // 31 + 1))[:size],
        "keyword runs without spaces": ("key=token=secret=password=api_key=" * (size // 34 + 1))[
            :size
        ],
        "unterminated pem": "-----BEGIN PRIVATE KEY-----\n"
        + "\n".join(b64[i : i + 64] for i in range(0, size - 40, 64)),
        "url without host": ("http://a:b" * (size // 10 + 1))[:size],
        "jwt prefixes": ("eyJ" + "a" * 20 + "." * 2) * (size // 25 + 1),
        "html unclosed": ('<a href="' + "x" * 50) * (size // 59 + 1),
    }
