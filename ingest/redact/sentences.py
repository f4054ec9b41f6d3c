"""Passwords told in a sentence with no password keyword, in the languages customers write.

"I reset it to Violet8362#", "I changed it from Winter1470 to o8pwWZ2cxrx", "the new one is
copper window silver", "now it's river.lemon.silver", "you can log in with deploy and
QkNHg2jNb5g", "je l'ai réinitialisé à ...", "la cambié de X a Y", "l'ho reimpostata a ...",
"mudei de X para Y", "ik heb het gereset naar ...", "ich habe es auf ... zurückgesetzt",
"jag ändrade det från X till Y", "zmieniłem je z X na Y" and their kin. The first word of
each sentence form is a keyword of the keyword scan; its handler matches the rest of the
form anchored there (bounded), then judges the value strictly: a password-like token that is
no version, size, locale, host or reference (`looks_like_told_password`), or a passphrase of
three to six plain words that name no setting.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ingest.redact.model import Span
from ingest.redact.phrases import passphrase_at
from ingest.redact.values import is_marker_at, looks_like_told_password, quoted_value

Handler = Callable[[str, str, int, int], list[Span]]

_OLD = r"(?P<old>\S{1,128})"
_TRAIL = ".,;:)]}>\"'`“”»’!?"
_TOLD_MAX = 160  # how far a value of a verb-last sentence may reach
# Each form: its first words (keywords of the scan), what follows up to the new value, and,
# for the languages that put the verb last ("ich habe es auf X zurückgesetzt"), the verbs
# that must follow the value.
# English verbs are common words: the keywords are the verb and its object ("set it"), so
# that the scan stops only where such a sentence may start.
_OBJECTS = ("it", "this", "that", "mine", "my", "the", "a")


def _with_objects(*verbs: str) -> tuple[str, ...]:
    return tuple(f"{verb} {thing}" for verb in verbs for thing in _OBJECTS)


_FORMS: tuple[tuple[tuple[str, ...], str, str | None], ...] = (
    (  # English: "I reset it to X", "changed my password from X to Y", "set it as X"
        _with_objects("reset", "re-set", "changed", "change", "set"),
        r"[a-z\-]{3,8}\s+(?:it|this|that|mine|my\s+password|the\s+password|the\s+new\s+one|"
        r"a\s+new\s+one|the\s+pw|my\s+pw)(?:\s+back)?(?:\s+from\s+" + _OLD + r")?"
        r"\s+(?:to|as)(?:\s+>)*\s+(?:be\s+)?",
        None,
    ),
    (
        _with_objects("updated", "update", "switched", "upgraded", "moved"),
        r"[a-z]{4,8}\s+(?:it|this|that|mine|my\s+password|the\s+password)"
        r"(?:\s+from\s+" + _OLD + r")?\s+(?:to|as)(?:\s+>)*\s+",
        None,
    ),
    (("new one",), r"new\s+one\s*(?:is|was|would\s+be|will\s+be|'s|’s|:)\s+", None),
    (("now it's", "now it’s", "now its", "now it is"), r"now\s+(?:it['’]s|it\s+is|its)\s+", None),
    (("it's now", "it’s now", "it is now"), r"it(?:['’]s|\s+is)\s+now\s+", None),
    (("tried both",), r"tried\s+both\s+", None),
    (  # French: "je l'ai réinitialisé à X", "je l'ai changé de X à Y"
        ("l'ai", "l’ai"),
        r"l['’]ai\s+(?:réinitialisé|reinitialisé|réinitialise|changé|modifié|remis|mis(?!\s+à\s+jour)|défini|"
        r"redéfini|reset|resetté)e?\s+(?:de\s+" + _OLD + r"\s+)?(?:à|a|en|pour|par)\s+",
        None,
    ),
    (  # Spanish: "la restablecí a X", "la cambié de X a Y"
        ("restablecí", "cambié", "reseteé", "reinicié", "modifiqué", "puse", "actualicé"),
        r"\w{4,12}\s+(?:(?:la|lo)\s+)?(?:de\s+" + _OLD + r"\s+)?(?:a|en|por|como)\s+",
        None,
    ),
    (  # Italian: "l'ho reimpostata a X", "l'ho cambiata da X a Y"
        ("l'ho", "l’ho"),
        r"l['’]ho\s+(?:reimpostat|cambiat|modificat|impostat|resettat|aggiornat)[ao]\s+"
        r"(?:da\s+" + _OLD + r"\s+)?(?:a|in|con)\s+",
        None,
    ),
    (  # Portuguese: "redefini para X", "mudei de X para Y", "alterei-a para X"
        ("redefini", "mudei", "alterei", "troquei", "defini", "resetei", "coloquei"),
        r"\w{5,9}(?:-[ao])?\s+(?:(?:a|o|ela|ele|a\s+senha)\s+)?(?:de\s+" + _OLD + r"\s+)?"
        r"(?:para|pra|por|como)\s+",
        None,
    ),
    (  # Dutch: "ik heb het gereset naar X", "ik heb het veranderd van X naar Y"
        ("heb het", "hebben het", "heb ik het"),
        r"(?:heb|hebben)\s+(?:ik\s+)?het\s+(?:wachtwoord\s+)?(?:gereset|veranderd|gewijzigd|"
        r"aangepast|ingesteld|teruggezet)\s+(?:van\s+" + _OLD + r"\s+)?(?:naar|in|op)\s+",
        None,
    ),
    (  # Dutch, verb last: "ik heb het naar X veranderd"
        ("heb het", "hebben het", "heb ik het"),
        r"(?:heb|hebben)\s+(?:ik\s+)?het\s+(?:wachtwoord\s+)?(?:van\s+" + _OLD + r"\s+)?"
        r"(?:naar|in|op)\s+",
        r"gereset|veranderd|gewijzigd|aangepast|ingesteld|teruggezet",
    ),
    (  # German, verb last: "ich habe es auf X zurückgesetzt", "von X auf Y geändert"
        ("habe es", "hab es", "habe ihn", "hab ihn", "haben es", "habe das", "hab's"),
        r"(?:habe|hab|haben)(?:\s+(?:es|ihn|das)|['’]s)\s+(?:jetzt\s+|nun\s+|gerade\s+)?"
        r"(?:von\s+" + _OLD + r"\s+)?(?:auf|in|zu)\s+",
        r"zurückgesetzt|zurückgestellt|gesetzt|geändert|abgeändert|umgestellt|geaendert",
    ),
    (  # Swedish, Danish, Norwegian: "jag återställde det till X", "ændrede den fra X til Y"
        (
            *("återställde", "ändrade", "bytte", "satte", "återställt", "ändrat", "bytt"),
            *("nulstillede", "nulstillet", "ændrede", "ændret", "skiftede", "skiftet"),
            *("tilbakestilte", "tilbakestilt", "endret", "endra", "byttet", "byttede"),
        ),
        r"\w{3,14}\s+(?:det|den|lösenordet|passordet|adgangskoden|koden)\s+"
        r"(?:(?:från|fra)\s+" + _OLD + r"\s+)?till?\s+",
        None,
    ),
    (  # Polish: "zresetowałem je na X", "zmieniłem je z X na Y"
        (
            *("zresetowałem", "zresetowałam", "zmieniłem", "zmieniłam", "ustawiłem"),
            "ustawiłam",
        ),
        r"\w{8,12}\s+(?:je|go|hasło)\s+(?:z\s+" + _OLD + r"\s+)?na\s+",
        None,
    ),
    (  # Czech: "změnil jsem ho z X na Y", "resetoval jsem heslo na X"
        ("změnil", "změnila", "resetoval", "resetovala", "nastavil", "nastavila"),
        r"\w{6,10}\s+(?:jsem\s+)?(?:ho|je|heslo)\s+(?:jsem\s+)?(?:z\s+" + _OLD + r"\s+)?na\s+",
        None,
    ),
)


def _token_end(text: str, pos: int) -> int:
    end = pos
    limit = min(len(text), pos + 128)
    while end < limit and not text[end].isspace():
        end += 1
    while end > pos and text[end - 1] in _TRAIL:
        end -= 1
    return end


def told_value(text: str, pos: int) -> tuple[int, int] | None:
    """The password a sentence names at `pos`: a quoted, password-like or passphrase value."""
    if is_marker_at(text, pos):
        return None
    quoted = quoted_value(text, pos)
    if quoted is not None:
        inner = text[quoted[0] : quoted[1]]
        if looks_like_told_password(inner) or passphrase_at(inner, 0, 3, told=True) > 0:
            return quoted
        return None
    end = passphrase_at(text, pos, 3, told=True)
    if end > 0:
        return pos, end
    end = _token_end(text, pos)
    return (pos, end) if end > pos and looks_like_told_password(text[pos:end]) else None


def _verb_last_value(
    text: str, low: str, pos: int, verbs: re.Pattern[str]
) -> tuple[int, int] | None:
    """The value between `pos` and the verb that ends the sentence ("auf X zurückgesetzt")."""
    verb = verbs.search(low, pos, min(len(low), pos + _TOLD_MAX))
    if verb is None:
        return None
    end = verb.start()
    while end > pos and text[end - 1].isspace():
        end -= 1
    value = text[pos:end]
    if not value or "\n" in value:
        return None
    if " " not in value.replace("\u00a0", " "):
        end = _token_end(text, pos)
        return (pos, end) if looks_like_told_password(text[pos:end]) else None
    phrase_end = passphrase_at(value + ".", 0, 3, told=True)
    return (pos, end) if phrase_end == len(value) else None


def _old_value(text: str, m: re.Match[str]) -> list[Span]:
    if "old" not in m.re.groupindex or m.group("old") is None:
        return []
    start = m.start("old")
    end = _token_end(text, start)
    if end > start and looks_like_told_password(text[start:end]):
        return [Span.of(start, end, "password", "password")]
    return []


# A product or its version ("switched it to Windows11", "the new one is iPhone15"): a name
# and one or two digits, after the words that name a product as often as a password.
_PRODUCT = re.compile(r"[A-Za-z]{2,12}\d{1,2}")
_PRODUCT_WORDS = frozenset(
    {"new one", *_with_objects("updated", "update", "switched", "upgraded", "moved")}
)


def _form_handler(
    lead: re.Pattern[str], verbs: re.Pattern[str] | None, *, products: bool
) -> Handler:
    def handle(text: str, low: str, start: int, end: int) -> list[Span]:
        m = lead.match(low, start)
        if m is None:
            return []
        if verbs is None:
            new = told_value(text, m.end())
        else:
            new = _verb_last_value(text, low, m.end(), verbs)
        if new is None or (products and _PRODUCT.fullmatch(text, new[0], new[1])):
            return []
        return [*_old_value(text, m), Span.of(new[0], new[1], "password", "password")]

    return handle


def chain(first: Handler, second: Handler) -> Handler:
    """A handler that asks `first`, then `second` when `first` found nothing."""

    def handle(text: str, low: str, start: int, end: int) -> list[Span]:
        return first(text, low, start, end) or second(text, low, start, end)

    return handle


_LOG_IN_WITH = re.compile(
    r"(?:log(?:ged)?[\s\-]?(?:in|on)|sign(?:ed)?[\s\-]?in|entrar|acceder|iniciar\s+sesión|"
    r"(?:me\s+|se\s+)?connecter|accedere|inloggen|logga\s+in|logge\s+(?:inn|ind))"
    r"\s+(?:with|com|con|avec|met|med)\s+(?:the\s+)?(?:user(?:name)?\s+|account\s+|login\s+)?"
    r"[\"'`]?[^\s\"'`/,;]{1,64}[\"'`]?(?:\s*[&+/,]|\s+(?:and|e|y|et|en|och|og|und))\s+"
    r"(?:(?:the\s+|o\s+|la\s+|le\s+)?(?:password|passwort|pw|pass|senha|contraseña|"
    r"mot\s+de\s+passe|wachtwoord|lösenord|passord)\s+)?"
)
LOG_IN_WITH_WORDS: tuple[str, ...] = (
    *("log in with", "login with", "log-in with", "logged in with", "log on with"),
    *("sign in with", "signed in with", "sign-in with", "entrar com", "entrar con"),
    *("acceder con", "iniciar sesión con", "connecter avec", "accedere con"),
    *("inloggen met", "logga in med", "logge inn med", "logge ind med"),
)


def handle_log_in_with(text: str, low: str, start: int, end: int) -> list[Span]:
    """ "you can log in with deploy and QkNHg2jNb5g" (a user name, then the password)."""
    m = _LOG_IN_WITH.match(low, start)
    if m is None:
        return []
    new = told_value(text, m.end())
    return [Span.of(new[0], new[1], "password", "password")] if new else []


def _handlers() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for words, lead, verbs in _FORMS:
        handler = _form_handler(
            re.compile(lead),
            re.compile(rf"\s(?:{verbs})\b") if verbs else None,
            products=bool(_PRODUCT_WORDS.intersection(words)),
        )
        for word in words:
            table[word] = chain(table[word], handler) if word in table else handler
    for word in LOG_IN_WITH_WORDS:
        table[word] = handle_log_in_with
    return table


TOLD_HANDLERS: dict[str, Handler] = _handlers()
"""Keyword -> handler of the sentence forms that start with it."""
