"""Passwords written in prose or config, in English, German, French, Spanish (and a few more).

"my password is hunter2", "pw: x", "Passwort: Sommer2024!", "mot de passe : azerty12",
"contraseña es Hola1234", "DB_PASSWORD=...", `"password": "..."`, "login: bob / hunter2",
"user/pass: bob/hunter2". The keyword trigger finds the keyword; these handlers read what
follows on the lower-cased text (same offsets) and take the value from the original text.
"""

from __future__ import annotations

import re

from ingest.redact.model import Span
from ingest.redact.password_words import ADJECTIVES_AFTER, PREDICATES
from ingest.redact.phrases import from_to, later_claim, later_password, passphrase_at
from ingest.redact.values import (
    STOPWORDS,
    is_marker_at,
    is_masked,
    is_url,
    looks_like_password,
    looks_like_told_password,
    quoted_value,
    token_value,
)

_ADJECTIVES_AFTER = "|".join(sorted(ADJECTIVES_AFTER, key=len, reverse=True))
_CLAUSE = (
    r"(?:\s+(?:for|für|pour|para|of|de|del|du|des|on|von|vom|zum|zur|des)\s+[^\n:=!?]{1,40}?"
    # a possessive after the noun: "passordet mitt er X", "adgangskoden min er X"
    r"|\s+(?:mitt|min|mit|mine|vårt|vår|vores|ditt|din)"
    # an adjective after the noun: "contraseña nueva es X", "mot de passe actuel = X"
    rf"|\s+(?:{_ADJECTIVES_AFTER})"
    # a relative clause: "the temp password they gave me is X"
    r"|(?:\s+(?:that|which))?\s+(?:they|you|he|she|i|we|it|support|the\s+[a-z]{2,12})\s+"
    r"(?:gave|sent|set|chose|picked|made|created|generated|assigned|provided|issued|emailed|"
    r"mailed|told|use|used|have|had)(?:\s+(?:me|us|him|her|them))?)?"
)
_VERBS = (  # the forms of several words first: "is now X" reads X, not "now"
    r"(?:is|was|has\s+been|had\s+been|got)\s+(?:changed|set|reset|updated|switched)"
    r"(?:\s+back)?\s+(?:to|as)|"
    r"should\s+be|must\s+be|has\s+to\s+be|needs\s+to\s+be|ought\s+to\s+be|"
    r"sollte\s+sein|soll\s+sein|devrait\s+être|debería\s+ser|dovrebbe\s+essere|"
    r"zou\s+moeten\s+zijn|deveria\s+ser|"
    r"(?:changed|set|reset|updated|switched)(?:\s+back)?\s+(?:to|as)|"
    r"is\s+still|ist\s+immer\s+noch|ist\s+noch|est\s+toujours|sigue\s+siendo|"
    r"is\s+now|now\s+is|ist\s+jetzt|ist\s+nun|est\s+maintenant|es\s+ahora|é\s+agora|"
    r"is\s+nu|är\s+nu|er\s+nu|er\s+nå|on\s+nyt|je\s+teď|would\s+be|will\s+be|"
    r"is|was|ist|war|lautet|est|était|es|era|será|sería|wird|sind|to|auf|à|a|"
    r"è|é|är|jest|wordt|werd|blev|fica|ficou|brzmi|er|on|je|zní|lyder|blir|bliver"
)
# The value may be on the next line, after quote markers ("is\n> X"), or after a blank line.
_LINE_BREAKS = r"(?:\r?\n(?:[ \t]*>)*[ \t\u00a0]*){1,2}"
_NEXT_LINES = f"(?:{_LINE_BREAKS})?"
_QUOTES = "\"'`„“«‘‚"
_AFTER_PASSWORD = re.compile(
    r"(?P<tail>(?:[_\-.][a-z0-9]{1,20}){0,3})"
    r"(?:\s*\([^)\n]{0,30}\))?"
    r"(?:(?P<xml>>)"
    rf"|(?P<sep>{_CLAUSE}\s*[\"'`]?\s*(?::=|=>|->|→|[:=]|：)[ \t\u00a0]*{_NEXT_LINES})"
    rf"|(?P<verb>{_CLAUSE}\s+(?:{_VERBS})(?:\s*:)?(?:[ \t\u00a0]+|[ \t\u00a0]*{_LINE_BREAKS}))"
    r"|(?P<dash>[ \t\u00a0]+[\-–—][ \t\u00a0]+)"
    # "changé mon mot de passe en X", "wachtwoord veranderd in X": the value it became
    r"|(?P<into>(?:\s+(?:veranderd|gewijzigd|geändert|changé|cambiado|cambiata|cambiato|"
    r"mudada|alterada|ändrat|zmienione|changed|reset|gereset|(?:jsem\s+)?(?:změnil|změnila|"
    r"nastavil|nastavila)))?\s+(?:en|in|naar|para|till|til|na|"
    r"op|into|a)[ \t\u00a0]+)"
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
_SPLIT_CODE = re.compile(
    r"(?:\d{4}[ \-\u00a0]\d{4}|\d{2}[ \-\u00a0]\d{2}[ \-\u00a0]\d{2}|\d{3}[ \-\u00a0]\d{3})(?![\d])"
)
_ONE_TIME_BEFORE = re.compile(r"(?:one[\s\-]?time|einmal|single[\s\-]use)[\s\-]?\Z")
_PAIR_BEFORE = re.compile(r"(?:user|login|username|benutzer|usuario|utilisateur|name)\s*/\s*\Z")


def _plain_word_password(text: str, found: tuple[int, int], value: str) -> bool:
    """A single plain word that ends the clause ("my password is banana.") is the password."""
    if len(value) < 4 or not value.isalpha() or value.lower() in PREDICATES:
        return False
    if value.lower() in STOPWORDS:
        return False
    after = text[found[1] : found[1] + 2]
    return after == "" or after[0] in "\n\r.,;!?)" or after == " -"


def _password_value(text: str, pos: int, how: str, sep_start: int) -> tuple[int, int] | None:
    quoted = quoted_value(text, pos)
    if quoted is not None:
        return quoted
    if how == "quote" or is_marker_at(text, pos):
        return None
    if how in ("sep", "verb") and (phrase_end := passphrase_at(text, pos, 3)) > 0:
        words = text[pos:phrase_end].lower().replace("-", " ").split()
        if (how == "sep" and len(words) >= 4) or not any(word in PREDICATES for word in words):
            return pos, phrase_end
    found = token_value(text, pos)
    if found is None:
        return None
    value = text[found[0] : found[1]]
    if value.lower() in _KEYWORD_VALUES:
        return None  # "password: password:" is a form label, not a password
    if how == "sep" and text.count("\n", sep_start, pos) >= 2:
        ok = looks_like_password(value)  # after a blank line: only what reads as a password
    elif how == "sep":
        ok = (
            len(value) >= 4
            and value.lower() not in STOPWORDS
            and not is_masked(value)
            and not is_url(value)
        )
    elif how == "verb":
        ok = looks_like_password(value) or _plain_word_password(text, found, value)
    elif how == "dash":
        ok = looks_like_password(value)
    elif how == "into":
        ok = looks_like_told_password(value)
    else:
        ok = len(value) >= 6 and looks_like_password(value) and any(c.isalpha() for c in value)
    return found if ok else None


def _pair_before(low: str, start: int) -> bool:
    """ "user/pass: bob/hunter2": the password after "pass" belongs to the login handler."""
    return _PAIR_BEFORE.search(low, max(0, start - 16), start) is not None


# Where a password keyword is followed by its value in another way: in parentheses ("the
# old password (Spring2023!)"), between commas ("my password, Garten#77, stopped working"),
# or after a colon later in the clause ("it's the same password as before: Zeta!4455").
_ASIDE = re.compile(r"(?:[ \t\u00a0]+\(|,[ \t\u00a0]+)(?P<value>[^\s(),]{4,64})(?:\)|,[ \t\u00a0])")
# Or in parentheses later in the clause: "the temporary password you sent me (Qw9!zzLm)",
# "le mot de passe provisoire que vous m'avez envoyé (Xk9!pq2L)": words, no sentence end.
# or between commas after such words: "la contraseña que me diste, Rio#2290, no va".
_LATER_PAREN = re.compile(
    r"[^\n.!?():=]{1,70}?(?:\((?P<value>[^\s()]{6,64})\)"
    r"|,[ \t\u00a0]+(?P<between>[^\s(),]{6,64}),[ \t\u00a0])"
)
# Or after "is" later in the clause: "the password the IT guy set up for me is Zebra#4410",
# "the password for root on the NAS is nasR00t!" (a verb of one meaning only: no "on", "to").
_LATER_IS = re.compile(
    r"[ \t\u00a0][^\n.!?:=()]{0,50}?[ \t\u00a0](?:is|was|ist|war|lautet|est|était|es|era|è|é|"
    r"är|jest|wordt)[ \t\u00a0]+"
)
# "my password manager (1Password)": the parentheses name a product, not the password.
_NAMES_A_TOOL = re.compile(r"(?i:manager|vault|generator|extension|plugin|app)\b")
# The words before that colon: a clause of lower-case words (no new sentence, no "key=").
_LATER_COLON = re.compile(r"[ \t\u00a0][^.!?\n:=A-Z]{0,50}?:[ \t\u00a0]+")


def _aside(text: str, end: int) -> list[Span]:
    """The password put aside after its keyword, when it reads as one without its keyword."""
    m = _ASIDE.match(text, end)
    if m is not None and looks_like_told_password(m.group("value")):
        return [Span.of(m.start("value"), m.end("value"), "password", "password")]
    if text.find("(", end, end + 72) >= 0 or text.find(",", end, end + 72) >= 0:
        m = _LATER_PAREN.match(text, end)
        value = m.lastgroup if m is not None else None
        if (
            m is not None
            and value is not None
            and _told_without_key(m.group(value))
            and _NAMES_A_TOOL.search(text, end, m.start(value)) is None
        ):
            return [Span.of(m.start(value), m.end(value), "password", "password")]
    for later in (_LATER_COLON, _LATER_IS):
        m = later.match(text, end)
        if m is None:
            continue
        found = quoted_value(text, m.end())
        if found is not None and found[1] - found[0] >= 4:
            return [Span.of(found[0], found[1], "password", "password")]
        found = token_value(text, m.end())
        if found is not None and _told_without_key(text[found[0] : found[1]]):
            return [Span.of(found[0], found[1], "password", "password")]
    return []


def _told_without_key(value: str) -> bool:
    return "=" not in value and looks_like_told_password(value)


def handle_password(text: str, low: str, start: int, end: int) -> list[Span]:
    """A password after a password keyword (any language, prose or config syntax)."""
    later = later_password(text, low, end)
    found = _labelled(text, low, start, end)
    if found or low[end : end + 1] in (":", "="):
        return found + later  # a labelled value: no sentence to read
    return _aside(text, end) + (later or later_claim(text, low, end))


def _labelled(text: str, low: str, start: int, end: int) -> list[Span]:
    """The value right after the keyword (after a separator, a verb, a quote or a space)."""
    m = _AFTER_PASSWORD.match(low, end)
    if m is None:
        return []
    how = m.lastgroup or "bare"
    if how == "bare" and (changed := from_to(text, low, end)):
        return changed
    if how == "bare" and m.group("tail"):
        return []
    if how == "xml":
        if start == 0 or low[start - 1] != "<":
            return []
        how = "sep"
    if low[start:end] == "passcode" and (code := _SPLIT_CODE.match(text, m.end())):
        return [Span.of(code.start(), code.end(), "otp_code", "one-time code")]
    if how in ("sep", "verb") and (code := _SPLIT_CODE.match(text, m.end())):
        # "the one time password is 847 301": a code split in groups is one value
        if _ONE_TIME_BEFORE.search(low, max(0, start - 12), start):
            return [Span.of(code.start(), code.end(), "otp_code", "one-time code")]
        return [Span.of(code.start(), code.end(), "password", "password")]
    if low[start:end] == "pin":
        pin = _PIN.match(text, m.end()) if how in ("sep", "verb") else None
        if pin is None or _pair_before(low, start):
            return []
        return [Span.of(pin.start(), pin.end(), "password", "pin")]
    found = _password_value(text, m.end(), how, end)
    if found is None or _pair_before(low, start):
        return []
    line_start = max(low.rfind("\n", max(0, start - 400), start) + 1, start - 400)
    if (
        how == "sep"
        and "=" in (m.group("sep") or "")
        and _CONN_CONTEXT.search(low, line_start, start)
    ):
        return [Span.of(found[0], found[1], "connection_string", "database password")]
    return [Span.of(found[0], found[1], "password", "password")]


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
