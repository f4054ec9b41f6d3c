"""Passwords written in prose or config, in English, German, French, Spanish (and a few more).

"my password is hunter2", "pw: x", "Passwort: Sommer2024!", "mot de passe : azerty12",
"contraseña es Hola1234", "DB_PASSWORD=...", `"password": "..."`, "login: bob / hunter2",
"user/pass: bob/hunter2". The keyword trigger finds the keyword; these handlers read what
follows on the lower-cased text (same offsets) and take the value from the original text.
"""

from __future__ import annotations

import re

from ingest.redact.model import Span
from ingest.redact.phrases import from_to, later_claim, later_password, passphrase_at
from ingest.redact.values import (
    STOPWORDS,
    is_marker_at,
    is_masked,
    is_url,
    looks_like_password,
    quoted_value,
    token_value,
)

_CLAUSE = (
    r"(?:\s+(?:for|für|pour|para|of|de|del|du|des|on|von|vom|zum|zur|des)\s+[^\n:=!?]{1,40}?"
    # a relative clause: "the temp password they gave me is X"
    r"|(?:\s+(?:that|which))?\s+(?:they|you|he|she|i|we|it|support|the\s+[a-z]{2,12})\s+"
    r"(?:gave|sent|set|chose|picked|made|created|generated|assigned|provided|issued|emailed|"
    r"mailed|told|use|used|have|had)(?:\s+(?:me|us|him|her|them))?)?"
)
_VERBS = (  # the forms of two words first: "is now X" reads X, not "now"
    r"is\s+now|now\s+is|ist\s+jetzt|ist\s+nun|est\s+maintenant|es\s+ahora|é\s+agora|"
    r"is\s+nu|är\s+nu|would\s+be|will\s+be|"
    r"is|was|ist|war|lautet|est|était|es|era|será|sería|wird|sind|to|auf|à|a|"
    r"è|é|är|jest|wordt|werd|blev|fica|ficou|brzmi|er|on|je|zní|lyder|blir|bliver"
)
_QUOTES = "\"'`„“«‘‚"
_AFTER_PASSWORD = re.compile(
    r"(?P<tail>(?:[_\-.][a-z0-9]{1,20}){0,3})"
    r"(?:\s*\([^)\n]{0,30}\))?"
    r"(?:(?P<xml>>)"
    rf"|(?P<sep>{_CLAUSE}\s*[\"'`]?\s*(?::=|=>|[:=]|：)[ \t\u00a0]*(?:\r?\n[ \t\u00a0]*)?)"
    rf"|(?P<verb>{_CLAUSE}\s+(?:{_VERBS})(?:\s*:)?[ \t\u00a0]+)"
    rf"|(?P<quote>[ \t\u00a0]*(?=[{_QUOTES}]))"
    r"|(?P<bare>[ \t\u00a0]+))"
)
_CONN_CONTEXT = re.compile(
    r"(?:server|data source|host|database|initial catalog|uid|user id|endpoint|provider)\s*=[^\n]*;"
)
_KEYWORD_VALUES = frozenset(
    [
        "password",
        "passwort",
        "passwd",
        "pw",
        "pwd",
        "pass",
        "kennwort",
        "mdp",
        "contraseña",
        "clave",
        "login",
        "user",
        "username",
    ]
)
_PIN = re.compile(r"\d{4,8}(?!\d)")
_PAIR_BEFORE = re.compile(r"(?:user|login|username|benutzer|usuario|utilisateur|name)\s*/\s*\Z")


# Words that describe a password rather than being one ("my password is wrong").
_PREDICATES = frozenset(
    [
        "not",
        "no",
        "nicht",
        "kein",
        "pas",
        "ne",
        "wrong",
        "right",
        "correct",
        "ok",
        "okay",
        "fine",
        "same",
        "different",
        "new",
        "old",
        "empty",
        "blank",
        "missing",
        "locked",
        "blocked",
        "disabled",
        "weak",
        "strong",
        "short",
        "long",
        "too",
        "very",
        "still",
        "being",
        "now",
        "also",
        "the",
        "a",
        "an",
        "my",
        "your",
        "our",
        "this",
        "that",
        "one",
        "case",
        "sensitive",
        "changed",
        "compromised",
        "leaked",
        "known",
        "unknown",
        "stored",
        "saved",
        "set",
        "valid",
        "working",
        "broken",
        "falsch",
        "richtig",
        "korrekt",
        "gesperrt",
        "leer",
        "neu",
        "alt",
        "gleich",
        "schwach",
        "geändert",
        "faux",
        "bon",
        "bloqué",
        "vide",
        "nouveau",
        "ancien",
        "correcto",
        "correcta",
        "incorrecta",
        "bloqueado",
        "bloqueada",
        "vacío",
        "vacía",
        "nuevo",
        "nueva",
        "igual",
        "sbagliata",
        "errata",
        "scaduta",
        "corretta",
        "nuova",
        "vecchia",
        "fout",
        "verkeerd",
        "onjuist",
        "verlopen",
        "nieuw",
        "oud",
        "errada",
        "incorreta",
        "expirada",
        "nova",
        "antiga",
        "bloqueada",
        "fel",
        "felaktigt",
        "ogiltigt",
        "nytt",
        "gammalt",
        "utgånget",
        "błędne",
        "nieprawidłowe",
        "nowe",
        "stare",
        "zablokowane",
        "non",
        "niet",
        "não",
        "inte",
        "nie",
    ]
)


def _plain_word_password(text: str, found: tuple[int, int], value: str) -> bool:
    """A single plain word that ends the clause ("my password is banana.") is the password."""
    if len(value) < 4 or not value.isalpha() or value.lower() in _PREDICATES:
        return False
    if value.lower() in STOPWORDS:
        return False
    after = text[found[1] : found[1] + 2]
    return after == "" or after[0] in "\n\r.,;!?)" or after == " -"


def _password_value(text: str, pos: int, how: str) -> tuple[int, int] | None:
    quoted = quoted_value(text, pos)
    if quoted is not None:
        return quoted
    if how == "quote" or is_marker_at(text, pos):
        return None
    if how in ("sep", "verb") and (phrase_end := passphrase_at(text, pos, 3)) > 0:
        words = text[pos:phrase_end].lower().replace("-", " ").split()
        if not any(word in _PREDICATES for word in words):
            return pos, phrase_end
    found = token_value(text, pos)
    if found is None:
        return None
    value = text[found[0] : found[1]]
    if value.lower() in _KEYWORD_VALUES:
        return None  # "password: password:" is a form label, not a password
    if how == "sep":
        ok = (
            len(value) >= 4
            and value.lower() not in STOPWORDS
            and not is_masked(value)
            and not is_url(value)
        )
    elif how == "verb":
        ok = looks_like_password(value) or _plain_word_password(text, found, value)
    else:
        ok = len(value) >= 6 and looks_like_password(value) and any(c.isalpha() for c in value)
    return found if ok else None


def _pair_before(low: str, start: int) -> bool:
    """ "user/pass: bob/hunter2": the password after "pass" belongs to the login handler."""
    return _PAIR_BEFORE.search(low, max(0, start - 16), start) is not None


def handle_password(text: str, low: str, start: int, end: int) -> list[Span]:
    """A password after a password keyword (any language, prose or config syntax)."""
    later = later_password(text, low, end) or later_claim(text, low, end)
    m = _AFTER_PASSWORD.match(low, end)
    if m is None:
        return later
    how = m.lastgroup or "bare"
    if how == "bare" and (changed := from_to(text, low, end)):
        return changed + later
    if how == "bare" and m.group("tail"):
        return later
    if how == "xml":
        if start == 0 or low[start - 1] != "<":
            return later
        how = "sep"
    if low[start:end] == "pin":
        pin = _PIN.match(text, m.end()) if how in ("sep", "verb") else None
        if pin is None or _pair_before(low, start):
            return later
        return [Span.of(pin.start(), pin.end(), "password", "pin")]
    found = _password_value(text, m.end(), how)
    if found is None or _pair_before(low, start):
        return later
    line_start = max(low.rfind("\n", max(0, start - 400), start) + 1, start - 400)
    if (
        how == "sep"
        and "=" in (m.group("sep") or "")
        and _CONN_CONTEXT.search(low, line_start, start)
    ):
        return [Span.of(found[0], found[1], "connection_string", "database password")]
    return [Span.of(found[0], found[1], "password", "password"), *later]


_PASS_WORDS = r"(?:password|passwort|pass|pwd|pw|kennwort|mdp|mot de passe|contraseña|clave)"  # noqa: S105
_AFTER_LOGIN = re.compile(
    rf"(?P<pair>\s*/\s*{_PASS_WORDS})?"
    r"(?:[_\-.][a-z0-9]{1,20})?"
    r"(?:\s*[\"'`]?\s*[:=]|\s+(?:are|is|were|was|sind|sont|son|são|zijn|är|er|sono)(?:\s*:)?)"
    r"[ \t\u00a0]*"
    r"(?P<user>[^\s/:|,;\"'`]{1,64})[ \t\u00a0]*[/|:][ \t\u00a0]*"
)


_LOG_IN_WORDS = frozenset({"login", "log-in", "logon"})


def handle_login(text: str, low: str, start: int, end: int) -> list[Span]:
    """ "login: bob / hunter2", "user/pass: bob/hunter2", "credentials: bob:hunter2"."""
    m = _AFTER_LOGIN.match(low, end)
    if m is None or m.group("user").isdigit():
        # "I could not log in, so I reset it to ...": after the login words only
        return later_password(text, low, end) if low[start:end] in _LOG_IN_WORDS else []
    pos = m.end()
    if pos < len(text) and text[pos] == "/":
        return []
    found = quoted_value(text, pos) or token_value(text, pos)
    if found is None or is_marker_at(text, pos):
        return []
    value = text[found[0] : found[1]]
    if value.endswith(":") or value.lower() in STOPWORDS or is_url(value):
        return []
    if m.group("pair") is None and not looks_like_password(value):
        return []
    return [Span.of(found[0], found[1], "password", "password")]


PASSWORD_WORDS: tuple[str, ...] = (
    "password",
    "passwords",
    "passwort",
    "passwörter",
    "passwd",
    "passphrase",
    "pass phrase",
    "passcode",
    "pass",
    "pwd",
    "pw",
    "pword",
    "kennwort",
    "mot de passe",
    "mdp",
    "contraseña",
    "contrasena",
    "clave",
    "senha",
    "wachtwoord",
    "hasło",
    "haslo",
    "parola",
    "lösenord",
    "lösenordet",
    "lösen",
    "passord",
    "passordet",
    "kodeord",
    "salasana",
    "heslo",
    "jelszó",
    "hasła",
    "hasłem",
    "wachtwoorden",
    "senhas",
    "adgangskode",
    "adgangskoden",
    "kodeordet",
    "parola d'ordine",
    "parola d’ordine",
    "palavra-passe",
    "palavra passe",
    "mot-de-passe",
    "salasanani",
    "salasanan",
    "hesla",
    "heslem",
    "şifre",
    "şifrem",
    "şifremi",
    "şifreyi",
    "şifreniz",
    "parolam",
    "parolamı",
    "parolayı",
    "pin",
)
"""Keywords that introduce a password."""

LOGIN_WORDS: tuple[str, ...] = (
    "login",
    "log-in",
    "logon",
    "user",
    "username",
    "user name",
    "benutzer",
    "benutzername",
    "nutzer",
    "nutzername",
    "anmeldung",
    "utilisateur",
    "identifiant",
    "identifiants",
    "usuario",
    "credentials",
    "creds",
    "zugangsdaten",
    "anmeldedaten",
    "credenciales",
    "account",
    "konto",
    "compte",
    "cuenta",
    "wifi",
    "wi-fi",
    "wlan",
    "ssid",
    "gebruiker",
    "gebruikersnaam",
    "utente",
    "usuário",
    "användare",
    "användarnamn",
    "użytkownik",
    "login-id",
)
"""Keywords that introduce a `user / password` pair."""
