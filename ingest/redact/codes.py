"""One-time and recovery codes in the sentences people write, beyond "verification code: X".

What `secrets.handle_code` does not read: a code named by how it came or how it failed ("I
got the code 123 456", "recebi o código 718493", "le code reçu par SMS est 00 35 49",
"Code 826082 expired before I could enter it"), a code shown by an app ("the authenticator
shows 20 46 26", "I typed 835 819 from the authenticator app", "it sent me 878613 by text"),
the code in an SMS pasted whole ("G-406548 is your Google verification code", "123456 est
votre code"), the definite and compound forms of the Nordic languages ("engångskoden är X"),
and the rest of a list of backup codes whose later items carry no digit ("- pfjbvdckhh").
Every read is anchored at the keyword and bounded.
"""

from __future__ import annotations

import re

from ingest.redact.model import Span
from ingest.redact.secrets import handle_code

# The shapes of a one-time code: 6 or 8 digits, grouped 3+3, 2+2+2 or 4+4 by a space, a
# no-break space or a dash; nothing digit-like may follow.
_CODE = (
    r"(\d{4}[ \-\u00a0]\d{4}|\d{2}[ \-\u00a0]\d{2}[ \-\u00a0]\d{2}|\d{3}[ \-\u00a0]?\d{3}|\d{8})"
    r"(?![\d/.:,\-]\d|\d|[ \-\u00a0]\d)"
)
_CODE_AT = re.compile(_CODE)
# Where the words say it is a code (received, shown by an app), four and five digits too,
# but no year.
_SHORT_CODE_AT = re.compile(r"(?!(?:19|20)\d\d(?!\d))(\d{4,5})(?![\d/.:,\-]\d|\d|[ \-\u00a0]\d)")
_FILLER = (
    r"(?:\s*(?:is|was|ist|war|est|es|era|fue|foi|fu|var|è|é|är|er|on|je|jest|to|lautet|"
    r":|=|-|#|,)){0,2}\s*"
)
# "I got the code", "me llegó el código", "recebi o código", "j'ai reçu le code": a
# received-verb right before the code word (read backwards over a short window).
_GOT_BEFORE = re.compile(
    r"(?:received|got|get|tried|entered|typed|used|input|recebi|llegó|recibí|reçu|ricevuto|erhalten|bekommen|ontvangen|"
    r"kreeg|ontving|fick|fikk|fik|dostałem|dostałam|otrzymałem|otrzymałam|obdržel|obdržela)"
    r"(?:\s+(?:the|a|my|your|new|another|o|el|un|le|il|den|die|das|de|het|en|ett|nový|"
    r"this|that|sms|text|one-time|login|verification|nuevo|novo|nouveau|nuovo)){0,3}\s+\Z"
)
# "code reçu par SMS est X", "code received by text: X": a participle after the code word.
_GOT_AFTER = re.compile(
    r"s?(?:\s+(?:de|di|da|do|del)\s+[a-zà-ÿ]{4,16})?,?\s+(?:(?:that\s+|which\s+)?(?:i|we)\s+(?:just\s+)?(?:got|received|was\s+sent)"
    # "que me llegó", "que recebi", "che ho ricevuto", "die ik kreeg", "jag fick", "który dostałem"
    r"|(?:(?:que|qu'|che|die|dat|som|który|którego|den|das)\s*)?(?:me\s+llegó|recibí|recebi|"
    r"j'ai\s+reçu|ho\s+ricevuto|ik\s+(?:kreeg|ontving|heb\s+gekregen)|jag\s+fick|"
    r"jeg\s+fi(?:kk|k)|dostałem|dostałam|otrzymałem|otrzymałam|ich\s+bekommen\s+habe|"
    r"ich\s+erhalten\s+habe)"
    # "Code aus der SMS", "code from the app", "code de l'appli"
    r"|(?:aus\s+der|from\s+the|from|de\s+la|du|del|dal|dalla|da|uit\s+de|van\s+de|från|fra|z)"
    r"\s+(?:sms|app|appli|e-?mail|mail|authenticator|text)"
    r"|reçu|received|recebido|recibido|ricevuto|erhalten|ontvangen|mottagen|mottatt|"
    r"modtaget|sent|envoyé|enviado|inviato|gesendet|verstuurd|skickad|wysłany)"
    r"(?:\s+(?:par|by|via|per|por|in|on|to|à|a|me|au|en|op)){0,2}"
    r"(?:\s+(?:sms|text|e-?mail|mail|phone|téléphone|telefone|teléfono|telefono|my\s+phone|"
    r"mon\s+téléphone|app))?,?" + _FILLER
)
# "le code à 6 chiffres 123456", "the code with 6 digits: 123456".
_DIGITS_NAMED = re.compile(
    r"\s+(?:à|with|mit|de|con|di|met|med|z|of|o)\s+\d\s+(?:chiffres|digits|ziffern|dígitos|"
    r"cifre|cijfers|siffror|cifre|cyfr|cyframi|číslic)"
)
# "Code 826082 expired before I could enter it": the code, then how it failed.
_FAILED_AFTER = re.compile(
    r"\s+(?:has\s+|had\s+|already\s+|just\s+)?(?:expired|doesn't|does\s+not|didn't|did\s+not|"
    r"won't|isn't|is\s+not|wasn't|was\s+not|was\s+rejected|is\s+rejected|is\s+invalid|"
    r"keeps|never|ist\s+abgelaufen|ist\s+ungültig|funktioniert|a\s+expiré|ne\s+(?:marche|"
    r"fonctionne)|est\s+invalide|ha\s+caducado|no\s+funciona|ha\s+expirado|è\s+scaduto|"
    r"non\s+funziona|expirou|não\s+funciona|is\s+verlopen|werkt\s+niet|har\s+gått\s+ut|"
    r"fungerar\s+inte|wygasł|nie\s+działa)"
)
_PLAIN_CODE_WORDS = frozenset({"code", "código", "codigo", "codice", "kod", "koden", "kode"})


# Eight digits that read as a date ("the code from the email is 20240312 dated").
_DATE = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


def _code_after(text: str, pos: int) -> list[Span]:
    m = _CODE_AT.match(text, pos) or _SHORT_CODE_AT.match(text, pos)
    if m is None or _DATE.fullmatch(m.group(1)):
        return []
    return [Span.of(m.start(1), m.end(1), "otp_code", "one-time code")]


_PLURAL_FILLER = re.compile(r"s?" + _FILLER)
_FILLER_AT = re.compile(_FILLER)
_WRAPPED_FILLER = re.compile(
    r"s?[ \t\u00a0]*(?:(?:is|was|ist|war|est|es|era|è|é|är|er|on|je|jest|to|lautet|:|=)"
    r"[ \t\u00a0]*){0,2}\r?\n(?:[ \t]*>)+[ \t\u00a0]*"
)
_DIGIT_AHEAD = re.compile(r"\D{0,60}\d")


def _plain_code(text: str, low: str, start: int, end: int) -> list[Span]:
    """An unqualified "code" read by the words around it."""
    if _GOT_BEFORE.search(low, max(0, start - 40), start):
        filler = _PLURAL_FILLER.match(low, end)
        return _code_after(text, filler.end() if filler else end)
    got = _GOT_AFTER.match(low, end)
    if got is not None and (found := _code_after(text, got.end())):
        return found
    wrapped = _WRAPPED_FILLER.match(low, end)  # "code is\n> 482 913" in a quoted mail
    if wrapped is not None and (found := _code_after(text, wrapped.end())):
        return found
    named = _DIGITS_NAMED.match(low, end)
    if named is not None:
        end = named.end()
    m = _CODE_AT.match(text, end + 1) if low[end : end + 1] in (" ", "\u00a0", ":") else None
    if m is not None and _FAILED_AFTER.match(low, m.end()):
        return [Span.of(m.start(1), m.end(1), "otp_code", "one-time code")]
    return []


# The items of a list of recovery codes (what `secrets` reads, here to go on after it).
_ITEM = re.compile(
    r"((?:[ \t\u00a0]*[,;|/][ \t\u00a0]*|(?:[ \t\u00a0]*\r?\n(?:[ \t]*>)*){1,2}[ \t\u00a0]*"
    r"(?:[\-*•][ \t]|\d{1,2}[.)][ \t])?|[ \t\u00a0]+))"
    r"([A-Za-z0-9]{4,12}(?:-[A-Za-z0-9]{4,12}){0,3})(?![A-Za-z0-9])"
)
_FIRST_ITEM = re.compile(
    r"(?:[\s,;|>(]|[\-*•]\s|\d{1,2}[.)]\s){0,16}([A-Za-z0-9]{4,12}(?:-[A-Za-z0-9]{4,12}){0,3})"
    r"(?![A-Za-z0-9])"
)
_LEADING_ITEM = re.compile(r"[A-Za-z0-9]{4,12}(?:-[A-Za-z0-9]{4,12}){0,3}(?![A-Za-z0-9])")
_MAX_ITEMS = 48


def _shape(item: str) -> tuple[tuple[int, ...], bool, bool]:
    """What the codes of one list share: the lengths of the groups and the letter case."""
    groups = tuple(len(g) for g in item.split("-"))
    return groups, any(c.islower() for c in item), any(c.isupper() for c in item)


def _separator(sep: str) -> str:
    """A list's separator with the item number taken out ("\\n3. " reads as "\\n#. ")."""
    return re.sub(r"\d{1,2}", "#", sep.replace("\r", ""))


def _more_items(text: str, end: int, first_item: str, sep: str | None) -> int:
    """Where the list of codes that ends at `end` really ends: later items of the same shape
    (same group lengths, same letter case) and the same separator count, digits or not."""
    shape = _shape(first_item)
    for _ in range(_MAX_ITEMS):
        m = _ITEM.match(text, end)
        if m is None or _shape(m.group(2)) != shape:
            return end
        this_sep = _separator(m.group(1))
        if sep is not None and this_sep != sep:
            return end
        sep, end = this_sep, m.end()
    return end


# Codes of two groups of four digits split by a space ("9182 7364 / 5546 1209"): the space
# is inside the item, so the items are split by punctuation only.
_SPACED_CODE = re.compile(r"\d{4}[ \u00a0]\d{4}")
_NEXT_SPACED = re.compile(r"[ \t\u00a0]*[,;|/][ \t\u00a0]*\d{4}[ \u00a0]\d{4}(?![\dA-Za-z])")


def _extend_list(text: str, span: Span) -> Span:
    """The recovery-code span of `secrets`, with the later items it stopped at."""
    items = text[span.start : span.end]
    if _SPACED_CODE.fullmatch(items):
        end = span.end
        for _ in range(_MAX_ITEMS):
            m = _NEXT_SPACED.match(text, end)
            if m is None:
                break
            end = m.end()
        return Span(span.start, end, span.kind, span.label, span.priority)
    first_item = _LEADING_ITEM.match(items)
    if first_item is None:
        return span
    seps = [m.group(1) for m in _ITEM.finditer(items)]
    sep = _separator(seps[-1]) if seps else None
    end = _more_items(text, span.end, first_item.group(), sep)
    return Span(span.start, end, span.kind, span.label, span.priority) if end > span.end else span


# Words that name a list of recovery codes, before the code word or after it.
_RECOVERY_BEFORE = re.compile(
    r"(?:recovery|backup|back-up|rescue|emergency|scratch|2fa|mfa|two-factor|reserve|reserv|"
    r"wiederherstellungs|notfall|sicherungs|herstel)[\s\-]{0,2}(?:up)?(?:codes?|koder|kody)\Z"
)
_RECOVERY_AFTER = re.compile(
    r"(?:codes?|códigos|codigos|codici|kody|koder)\s+(?:de\s+|di\s+)?(?:récupération|secours|"
    r"recuperación|respaldo|recuperação|backup|recupero|emergenza|zapasowe|odzyskiwania)"
)
# Words before "code" that name another code than a login code.
_OTHER_CODE_BEFORE = re.compile(
    r"(?:error|postal|post|zip|area|country|product|article|item|status|http|exit|return|"
    r"promo|discount|coupon|voucher|gift|referral|invite|source|sort|bank|swift|tax|vat|qr|"
    r"bar|tracking|order|reference|ref|shipping|airport|language|currency|fehler|rabatt|"
    r"gutschein|erreur|réduction|error|descuento|errore|sconto|fout|kortings)[\s\-]{0,2}\Z"
)


def _recovery_list(text: str, low: str, start: int, end: int) -> list[Span]:
    """A list after "backup codes" that `secrets` does not read: its first item has no digit
    ("ABCD-EFGH-JKLM, ...", a list of two or more of one shape), or the words name the list
    in a form `secrets` does not know ("back-upcodes:")."""
    named = (
        low[start:end] in _RECOVERY_COMPOUNDS
        or _RECOVERY_BEFORE.search(low[max(0, start - 24) : end])
        or _RECOVERY_AFTER.match(low, start)
    )
    if not named:
        return []
    intro = re.compile(r"[^\n:]{0,100}(?::|\n)").match(text, end)
    pos = intro.end() if intro else end
    m = _FIRST_ITEM.match(text, pos)
    if m is None:
        return []
    item = m.group(1)
    digits = any(c.isdigit() for c in item)
    if not digits and ("-" not in item or not (item.isupper() or item.islower())):
        return []
    list_end = _more_items(text, m.end(1), item, None)
    if list_end == m.end(1) and not digits:
        return []  # one dashed word is no list
    return [Span.of(m.start(1), list_end, "recovery_code", "recovery codes")]


# A login code word: "2fa", "otp", or "code" after a word that says which code ("SMS-Code",
# "the authenticator code", "login code").
_OTP_KEYWORDS = frozenset({"otp", "totp", "2fa", "mfa"})
_LOGIN_CODE_BEFORE = re.compile(
    r"(?:2fa|mfa|otp|totp|sms|text|login|log-in|sign-?in|verification|authenticator|"
    r"authentication|auth|one[\s\-]?time|app)[\s\-]{1,2}\Z"
)
# Where the code is said later in the clause: words (no digit, no sentence end), then "is",
# a colon or an arrow ("The 2FA code from Google Authenticator right now: 318 442", "the
# login code in the email is 55829104", "2fa code -> 118 440"), or right after the keyword in
# quotes or backticks ("my 2fa code `118204` is rejected").
_LATER_FILLER = re.compile(
    r"(?:[^\n.!?\d:=]{0,60}?(?:[ \t\u00a0](?:is|was|ist|war|est|es|era|è|é|är|er|jest|to|"
    r"lautet|wäre|would\s+be)(?![a-zà-ÿ])[ \t\u00a0]*:?|[ \t\u00a0]*(?::|=|->|→))"
    r"|s?[ \t\u00a0]*(?=[\"'`“„«(]))"
    r"[ \t\u00a0]*(?:\r?\n(?:[ \t]*>)*[ \t\u00a0]*)?(?P<quote>[\"'`“„«(])?"
)
# A clause after a plain "code" must name where the code came from.
_CODE_SOURCE = re.compile(
    r"(?<![a-z])(?:app|authenticator|authy|sms|text|e-?mail|phone|login|2fa|mfa)(?![a-z])"
)


def _code_later(text: str, low: str, start: int, end: int) -> list[Span]:
    """A login code said later in the clause of its code word (see _LATER_FILLER)."""
    keyword = low[start:end]
    named = keyword in _OTP_KEYWORDS or (
        keyword in _PLAIN_CODE_WORDS
        and _LOGIN_CODE_BEFORE.search(low, max(0, start - 16), start) is not None
    )
    m = _LATER_FILLER.match(low, end)
    if m is None:
        return []
    if not named and not (
        keyword in _PLAIN_CODE_WORDS
        and not _OTHER_CODE_BEFORE.search(low, max(0, start - 24), start)
        and _CODE_SOURCE.search(low, end, m.end())
    ):
        return []
    return _code_after(text, m.end())


def handle_code_words(text: str, low: str, start: int, end: int) -> list[Span]:
    """`secrets.handle_code`, then the sentence forms it does not read; recovery lists whole."""
    found = [
        s
        for s in handle_code(text, low, start, end)
        if s.kind != "otp_code" or not _DATE.fullmatch(text, s.start, s.end)
    ]
    if found:
        return [_extend_list(text, s) if s.kind == "recovery_code" else s for s in found]
    keyword = low[start:end]
    if (keyword in _OTP_KEYWORDS or keyword in _PLAIN_CODE_WORDS) and (
        later := _code_later(text, low, start, end)
    ):
        return later
    if keyword.endswith("s") or keyword in _RECOVERY_KEYWORDS:
        return _recovery_list(text, low, start, end)
    if keyword in _COMPOUND_OTP:
        filler = _FILLER_AT.match(low, end)
        return _code_after(text, filler.end() if filler else end)
    if (
        keyword in _PLAIN_CODE_WORDS
        and _DIGIT_AHEAD.match(low, end) is not None  # every form has the code in reach
        and not _OTHER_CODE_BEFORE.search(low, max(0, start - 24), start)
    ):
        return _plain_code(text, low, start, end)
    return []


# Nordic and Finnish one-time code words, definite and compound ("engångskoden är X").
_COMPOUND_OTP = frozenset(
    (
        *("engångskoden", "verifieringskoden", "inloggningskoden", "säkerhetskoden"),
        *("bekräftelsekod", "bekräftelsekoden", "sms-koden", "sms-kod", "sms-kode"),
        *("engangskode", "engangskoden", "bekræftelseskode", "bekræftelseskoden"),
        *("verifikationskode", "verifikationskoden", "bekreftelseskode", "bekreftelseskoden"),
        *("sikkerhetskode", "sikkerhetskoden", "sikkerhedskode", "vahvistuskoodi"),
        *("kertakäyttökoodi", "tunnistuskoodi", "varmistuskoodi", "ověřovací kód"),
        *("jednorázový kód", "doğrulama kodu", "onay kodu", "güvenlik kodu"),
        *("mtan", "sms-tan", "smstan", "pushtan", "einmalpasswort", "einmalkennwort"),
        *("engångslösenord", "engangspassord", "engangsadgangskode"),
    )
)
# Recovery code words of one piece, or of two where the first is no code word.
_RECOVERY_COMPOUNDS = frozenset(
    (
        *("gendannelseskoder", "reservekoder", "backupkoder", "backup-koder", "back-upcodes"),
        *("gjenopprettingskoder", "varakoodit", "palautuskoodit", "záložní kódy"),
        *("kódy pro obnovení", "yedek kodlar", "kurtarma kodları"),
        *("backupcodes", "reservkoder"),
    )
)
_RECOVERY_KEYWORDS = _RECOVERY_COMPOUNDS | {"koder", "kody", "codici", "códigos", "codigos"}
CODE_WORDS_MORE: tuple[str, ...] = (
    *sorted(_COMPOUND_OTP),
    *sorted(_RECOVERY_COMPOUNDS),
    "kode",
)
"""Keywords of one-time and recovery codes beyond `secrets.CODE_WORDS`."""
