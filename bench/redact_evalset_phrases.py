"""How customers write secrets into support mail: one maker per family of secrets.

A maker returns a `Snippet`: a template with `{0}`, `{1}`, ... where the secrets go, the
secrets (value as written, kind, variety, shape tags) and the template's language. Values
are written the way people paste them: whole, grouped irregularly, split by spaces, broken
over lines (the builder wraps values tagged `wrapped` at the line width), in lists, in
headers, commands and config lines. Phrasings come from nine languages.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import redact_evalset_values as V


@dataclass(frozen=True)
class Sec:
    """One secret as written: `value` text, its kind (the redactor's names), a variety, tags."""

    value: str
    kind: str
    variety: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Snippet:
    """A template with `{i}` slots for `secrets`, in language `lang`."""

    template: str
    secrets: list[Sec]
    lang: str = "en"
    tags: tuple[str, ...] = field(default=())


def _pick(rng: random.Random, table: dict[str, list[str]], lang: str | None) -> tuple[str, str]:
    lang = lang if lang in table and lang is not None else rng.choice(list(table))
    return rng.choice(table[lang]), lang


def _lang(rng: random.Random, lang: str, keep: float = 0.8) -> str:
    """Mostly the mail's language; now and then English in a foreign mail, or the reverse."""
    if rng.random() < keep:
        return lang
    return "en" if lang != "en" else rng.choice(["de", "fr", "es", "it", "nl", "pt", "sv", "pl"])


def _user(rng: random.Random) -> str:
    return rng.choice(["admin", "bob", "anna.schmidt", "deploy", "api-user", "j.silva", "ops"])


# ---------------------------------------------------------------- cards, expiry, cvv
CARD_LEAD = {
    "en": [
        "my card number is {0}",
        "Card: {0}",
        "please charge {0} instead",
        "use the card {0} for the renewal",
        "Card number {0}",
        "CC# {0}",
        "the new card is {0}",
    ],
    "de": ["meine Kartennummer ist {0}", "Kreditkarte: {0}", "bitte buchen Sie von {0} ab"],
    "fr": ["mon numéro de carte est {0}", "carte bancaire : {0}"],
    "es": ["el número de mi tarjeta es {0}", "tarjeta: {0}"],
    "it": ["il numero della carta è {0}", "carta di credito: {0}"],
    "nl": ["mijn kaartnummer is {0}", "creditcard: {0}"],
    "pt": ["o número do cartão é {0}", "cartão: {0}"],
    "sv": ["mitt kortnummer är {0}", "kort: {0}"],
    "pl": ["numer karty to {0}", "karta: {0}"],
}
EXPIRY = {
    "en": [
        "expiring {0}",
        "exp {0}",
        "valid thru {0}",
        "expiry date {0}",
        "Exp: {0}",
        "expires {0}",
        "({0})",
        "exp. date {0}",
    ],
    "de": ["gültig bis {0}", "Ablaufdatum {0}"],
    "fr": ["date d'expiration {0}", "expire fin {0}"],
    "es": ["caducidad {0}", "vence {0}"],
    "it": ["scadenza {0}"],
    "nl": ["vervaldatum {0}"],
    "pt": ["validade {0}"],
    "sv": ["giltigt till {0}"],
    "pl": ["data ważności {0}"],
}
CVV = {
    "en": [
        "CVV {0}",
        "the code on the back is {0}",
        "security code {0}",
        "CVC: {0}",
        "cvv2={0}",
        "the 3 digits on the back: {0}",
        "CID {0}",
    ],
    "de": ["Prüfnummer {0}", "Sicherheitscode {0}"],
    "fr": ["cryptogramme {0}", "CVV : {0}"],
    "es": ["código de seguridad {0}", "CVV {0}"],
    "it": ["codice di sicurezza {0}"],
    "nl": ["beveiligingscode {0}"],
    "pt": ["código de segurança {0}"],
    "sv": ["CVC-kod {0}"],
    "pl": ["kod CVV {0}"],
}


def _card_text(rng: random.Random, network: str) -> tuple[str, tuple[str, ...]]:
    digits = V.card_digits(rng, network)
    form = rng.randrange(9)
    if network == "amex" and form < 5:
        return V.group(digits, [4, 6, 5], [rng.choice([" ", "-"])]), ()
    if form == 0:
        return digits, ()
    if form in (1, 2):
        return V.group(digits, [4, 4, 4, 4], [" "]), ()
    if form == 3:
        return V.group(digits, [4, 4, 4, 4], ["-"]), ()
    if form == 4:
        return V.group(digits, [4, 4, 2, 6], [" "]), ("split",)
    if form == 5:
        return V.group(digits, [4, 4, 4, 4], ["-", " ", " "]), ("split",)
    if form == 6:
        return V.group(digits, [4, 4, 4, 4], [rng.choice([".", "  ", " - "])]), ("split",)
    return V.group(digits, [4, 4, 4, 4], [" "]), ("wrapped",)


def _expiry(rng: random.Random) -> str:
    m, y = rng.randint(1, 12), rng.randint(2025, 2032)
    return rng.choice(
        [
            f"{m:02d}/{y}",
            f"{m}/{y % 100}",
            f"{m:02d}-{y % 100}",
            f"{m:02d} / {y % 100}",
            f"{m}/{y % 100:02d}",
            f"{m:02d}/{y % 100:02d}",
        ]
    )


def card_bundle(rng: random.Random, lang: str = "en") -> Snippet:
    """A card, often with its expiry and CVV, on one line or several."""
    network = rng.choice(list(V.CARD_NETWORKS))
    text, tags = _card_text(rng, network)
    lang = _lang(rng, lang)
    card = Sec(text, "card", network, tags)
    lead, lang = _pick(rng, CARD_LEAD, lang)
    style = rng.randrange(6)
    if style == 0:
        return Snippet(lead + ".", [card], lang)
    exp = Sec(_expiry(rng), "card_expiry", "expiry")
    cvv = Sec(V.rand(rng, V.string.digits, 4 if network == "amex" else 3), "card_cvv", "cvv")
    e_phrase, _ = _pick(rng, EXPIRY, lang if rng.random() < 0.7 else "en")
    c_phrase, _ = _pick(rng, CVV, lang if rng.random() < 0.7 else "en")
    e_phrase, c_phrase = e_phrase.replace("{0}", "{1}"), c_phrase.replace("{0}", "{2}")
    if style == 1:
        return Snippet(f"{lead}, {e_phrase}, {c_phrase}.", [card, exp, cvv], lang)
    if style == 2:
        return Snippet(f"Card number: {{0}}\nExpiry: {{1}}\n{c_phrase}", [card, exp, cvv], lang)
    if style == 3:
        return Snippet("{0} {1} {2}", [card, exp, cvv], lang)
    if style == 4:
        return Snippet(f"{lead} {e_phrase}.\nOh and {c_phrase}.", [card, exp, cvv], lang)
    return Snippet(f"{lead}\n{e_phrase} / {c_phrase}", [card, exp, cvv], lang)


# ---------------------------------------------------------------- passwords
PASSWORD = {
    "en": [
        "my password is {0}",
        "password: {0}",
        "pwd: {0}",
        "PW {0}",
        "Password = {0}",
        "the temp password they gave me is {0}",
        "I reset it to {0}",
        "new password: {0}",
        "login: {u} / {0}",
        "user {u} pass {0}",
        "you can log in with {u} and {0}",
        'the password for the shared mailbox is "{0}"',
        "Login details:\nusername: {u}\npassword: {0}",
        "It says wrong password but I'm sure it's {0} (with a capital letter)",
        "creds are {u}/{0}",
        "pass = {0}",
        "I've tried both {0} and the old one",
    ],
    "de": [
        "mein Passwort ist {0}",
        "Passwort: {0}",
        "Kennwort lautet {0}",
        "das neue Passwort lautet {0}",
        "Zugangsdaten: {u} / {0}",
    ],
    "fr": [
        "mon mot de passe est {0}",
        "mot de passe : {0}",
        "mdp : {0}",
        "le nouveau mot de passe est {0}",
    ],
    "es": ["mi contraseña es {0}", "contraseña: {0}", "clave: {0}", "la nueva contraseña es {0}"],
    "it": [
        "la mia password è {0}",
        "password: {0}",
        "la nuova password è {0}",
        "parola d'ordine: {0}",
    ],
    "nl": ["mijn wachtwoord is {0}", "wachtwoord: {0}", "het nieuwe wachtwoord is {0}"],
    "pt": ["minha senha é {0}", "senha: {0}", "a nova senha é {0}", "palavra-passe: {0}"],
    "sv": ["mitt lösenord är {0}", "lösenord: {0}", "det nya lösenordet är {0}"],
    "pl": ["moje hasło to {0}", "hasło: {0}", "nowe hasło to {0}"],
}
PASSPHRASE = {
    "en": [
        "I reset it to {0}",
        "my passphrase is {0}",
        "I set it to {0} (all lowercase)",
        "the new one is {0}",
        "now it's {0} but it still fails",
    ],
    "de": ["ich habe es auf {0} zurückgesetzt", "die Passphrase ist {0}"],
    "fr": ["je l'ai réinitialisé à {0}"],
    "es": ["la restablecí a {0}"],
    "it": ["l'ho reimpostata a {0}"],
    "nl": ["ik heb het gereset naar {0}"],
    "pt": ["redefini para {0}"],
    "sv": ["jag återställde det till {0}"],
    "pl": ["zresetowałem je na {0}"],
}
CHANGED = {
    "en": [
        "I changed it from {0} to {1}",
        "changed my password from {0} to {1} yesterday",
        "old password {0}, new password {1}",
    ],
    "de": ["ich habe es von {0} auf {1} geändert"],
    "fr": ["je l'ai changé de {0} à {1}"],
    "es": ["la cambié de {0} a {1}"],
    "it": ["l'ho cambiata da {0} a {1}"],
    "nl": ["ik heb het veranderd van {0} naar {1}"],
    "pt": ["mudei de {0} para {1}"],
    "sv": ["jag ändrade det från {0} till {1}"],
    "pl": ["zmieniłem je z {0} na {1}"],
}
CURL = [
    "curl -u {u}:{0} https://api.example.com/v2/exports",
    "curl -s -u '{u}:{0}' -X POST https://api.example.com/v1/tickets -d @body.json",
    "curl --user {u}:{0} https://example.com/api/status",
    '$ curl -v -u "{u}:{0}" https://api.example.com/v1/me',
]
WIFI = [
    "Guest Wi-Fi: AcmeGuest / {0}",
    "WLAN: Acme-Office, Passwort {0}",
    "WiFi password: {0}",
    "Wi-Fi: {u}-5G pw {0}",
    "Gäste-WLAN Kennwort: {0}",
]


def password(rng: random.Random, lang: str = "en") -> Snippet:
    """A password in prose, a passphrase, old and new, or in a curl command."""
    style = rng.randrange(9)
    user = _user(rng)
    if style <= 4:
        tpl, lang = _pick(rng, PASSWORD, _lang(rng, lang))
        return Snippet(
            tpl.replace("{u}", user), [Sec(V.password(rng), "password", "labelled")], lang
        )
    if style <= 6:
        tpl, lang = _pick(rng, PASSPHRASE, _lang(rng, lang))
        secret = Sec(V.passphrase(rng, rng.choice([3, 4, 5])), "password", "passphrase")
        return Snippet(tpl, [secret], lang)
    if style == 7:
        tpl, lang = _pick(rng, CHANGED, _lang(rng, lang))
        old = Sec(V.password(rng), "password", "changed_from_to")
        return Snippet(tpl, [old, Sec(V.password(rng), "password", "changed_from_to")], lang)
    if style == 8:
        tpl = rng.choice(CURL).replace("{u}", user)
    return Snippet(tpl, [Sec(V.password(rng), "password", "curl", ("code",))])


def wifi(rng: random.Random, lang: str = "en") -> Snippet:
    """A Wi-Fi password, as offices put it in their signatures."""
    tpl = rng.choice(WIFI).replace("{u}", _user(rng))
    return Snippet(tpl, [Sec(V.password(rng), "password", "wifi")])
