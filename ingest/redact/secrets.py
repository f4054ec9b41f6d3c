"""Keys, tokens and codes introduced by a word: "api key: ...", "token=...", "Authorization:",
"Bearer ...", "verification code 482913", "recovery codes: ...".

Generic values must look random (length, character classes, entropy) so that "key: SUP-1042"
or "token: expired" stay. Handlers read the lower-cased text (same offsets as the original).
"""

from __future__ import annotations

import re

from ingest.redact.model import Span
from ingest.redact.values import generic_value, is_marker_at, looks_like_key

_CLAUSE = (
    r"(?:\s+(?:for|für|pour|para|of|de|del|du|on|von|vom|zum|zur|from|in|at|aus|im|dans|en|"
    r"that|which|we|you|i)\s+[^\n:=!?]{1,40}?)?"
)
_AFTER_SECRET = re.compile(
    r"(?P<tail>[a-z0-9_\-.]{0,40}?)"
    r"(?:[ \t\u00a0]+(?:id|key|token|secret|value|string|api|d'api|de\s+api|d[ao]\s+api|"
    r"della\s+api|dell'api|van\s+de\s+api|till\s+api:?et|do\s+api|til\s+api'?en))?"
    r"(?:[ \t\u00a0]*\([^)\n]{0,30}\))?"
    rf"(?:(?P<sep>{_CLAUSE}\s*[\"'`]?\s*(?::=|=>|[:=]|：)\s*)"
    rf"|(?P<verb>{_CLAUSE}\s+(?:is|was|ist|war|lautet|est|es|era|é|è|är|jest|er|wordt|"
    r"would\s+be)(?:\s*:)?\s+)"
    r"|(?P<bare>[ \t\u00a0]+))"
)
_API = re.compile(r"api[\s_\-]?(?:key|token|secret)|apikey")


def _label(keyword: str, tail: str) -> str:
    words = keyword + tail
    if "token" in words or "jeton" in words:
        return "token"
    if "secret" in words or "geheim" in words:
        return "secret"
    return "api key"


def handle_secret(text: str, low: str, start: int, end: int) -> list[Span]:
    """A random-looking value after key, token, secret, api key, auth ... (prose or config)."""
    keyword = low[start:end]
    if keyword == "api":
        api = _API.match(low, start)
        if api is None:
            return []
        end = api.end()
    m = _AFTER_SECRET.match(low, end)
    if m is None:
        return []
    how = m.lastgroup or "bare"
    if how == "bare" and m.group("tail"):
        return []
    found = generic_value(text, m.end())  # None where a marker ("[... removed]") starts
    if found is None:
        return []
    value = text[found[0] : found[1]]
    if not looks_like_key(value, strict=how == "bare"):
        return []
    return [Span.of(found[0], found[1], "api_key", _label(keyword, m.group("tail")))]


_AUTH = re.compile(
    r"[\"'`]?\s*[:=]\s*[\"'`]?"
    r"(?:(?P<scheme>bearer|basic|token|digest|bot|apikey|api-key|key|ssws|negotiate|ntlm|"
    r"aws4-hmac-sha256|hmac|oauth|sharedkey)[ \t\u00a0]+)?"
)
_AUTH_VALUE = re.compile(r"[A-Za-z0-9\-._~+/=:]{8,4096}")
_AUTH_LONG = re.compile(r"[^\r\n\"']{8,4096}")
_BEARER_VALUE = re.compile(r"[ \t\u00a0]+([A-Za-z0-9\-._~+/]{16,4096}=*)")


def handle_authorization(text: str, low: str, start: int, end: int) -> list[Span]:
    """The credential of an `Authorization:` header (any scheme)."""
    m = _AUTH.match(low, end)
    if m is None or is_marker_at(text, m.end()):
        return []
    scheme = m.group("scheme") or ""
    regex = _AUTH_LONG if scheme in ("digest", "aws4-hmac-sha256", "oauth", "hmac") else _AUTH_VALUE
    v = regex.match(text, m.end())
    if v is None:
        return []
    value_end = v.end()
    while value_end > v.start() and text[value_end - 1] in ".,;:":
        value_end -= 1
    return [Span.of(v.start(), value_end, "bearer_token", "authorization")]


def handle_bearer(text: str, low: str, start: int, end: int) -> list[Span]:
    """`Bearer <token>` anywhere (headers pasted in prose, curl commands, logs)."""
    m = _BEARER_VALUE.match(text, end)
    if m is None:
        return []
    value = m.group(1)
    if not any(c.isdigit() for c in value) or not any(c.isalpha() for c in value):
        return []
    return [Span.of(m.start(1), m.end(1), "bearer_token", "bearer token")]


_OTP_BEFORE = re.compile(
    r"(?:verification|verify|security|confirmation|one[\s\-]?time|single[\s\-]?use|2fa|mfa|"
    r"two[\s\-]?factor|otp|totp|sms|text|login|log[\s\-]?in|sign[\s\-]?in|auth|authentication|"
    r"authenticator|access|bestätigungs|sicherheits|anmelde|einmal|verifizierungs|"
    r"authentifizierungs|zugangs|bestätigungs-|sicherheits-|login-|verificatie|pass)"
    r"[\s\-]{0,2}\Z"
)
_OTP_AFTER = re.compile(
    r"s?\s+(?:de\s+|d'|di\s+)?(?:vérification|sécurité|confirmation|connexion|validation|"
    r"authentification|accès|verificación|seguridad|confirmación|acceso|autenticación|"
    r"verifica|sicurezza|un\s+solo\s+uso|usage\s+unique|verificação|segurança|confirmação|"
    r"autenticação|weryfikacyjny|jednorazowy|sms|autoryzacyjny|dostępu|"
    r"(?:par|per|por|via)\s+sms)(?![a-zà-ÿ])"
)
# "the code I received was 123456": a code named by how it came, not by a qualifier.
_RECEIVED = re.compile(
    r"s?(?:\s+(?:(?:that|which)\s+)?(?:(?:i|we)\s+(?:just\s+)?(?:received|got|get|entered|"
    r"typed|tried|used|was\s+sent|were\s+sent|was\s+given)|(?:you|they|the\s+app|your\s+app)"
    r"\s+(?:just\s+)?sent(?:\s+me)?|(?:that\s+)?(?:was\s+)?sent\s+to\s+(?:me|my\s+\w{3,10})|"
    r"from\s+(?:the|your|my)\s+(?:sms|text|e-?mail|app|authenticator))"
    r"(?:\s+(?:by|via|in|through|from|on|per)\s+(?:sms|text|e-?mail|the\s+app|my\s+phone|phone))?"
    r"|,?\s+(?:den|die|das)\s+ich\s+(?:bekommen|erhalten)(?:\s+habe)?"
    r"|\s+(?:que|qu')\s*(?:j'ai\s+reçu|recibí|he\s+recibido|recebi)"
    r"|\s+che\s+ho\s+ricevuto|\s+(?:die|dat)\s+ik\s+(?:kreeg|heb\s+ontvangen|ontving))"
)
# Words before "code" that name something else than a login code.
_NOT_OTP_BEFORE = re.compile(
    r"(?:error|postal|post|zip|area|country|product|article|item|status|http|exit|return|"
    r"promo|promotion|discount|coupon|voucher|gift|referral|invite|invitation|source|sort|"
    r"bank|swift|bic|tax|vat|hs|iso|colou?r|qr|bar|tracking|order|reference|ref|shipping|"
    r"airport|language|currency|dialing|dialling|region|reason|fault|response|cpt|icd)"
    r"[\s\-]{0,2}\Z"
)
_RECOVERY_BEFORE = re.compile(
    r"(?:recovery|backup|back-up|rescue|emergency|scratch|wiederherstellungs|notfall|sicherungs|"
    r"backup-|reserve|reserv|herstel|one[\s\-]?time\s+backup|single[\s\-]?use\s+backup)"
    r"[\s\-]{0,2}\Z"
)
_RECOVERY_AFTER = re.compile(
    r"s?\s+(?:de\s+|di\s+)?(?:récupération|secours|recuperación|respaldo|recuperação|"
    r"emergencia|backup|recupero|emergenza|riserva|zapasowe|odzyskiwania|awaryjne|reserva)"
)
_CODE_FILLER = re.compile(
    r"s?[ \t\u00a0]*(?:\([^)\n]{0,20}\)[ \t\u00a0]*)?"
    r"(?:(?:is|was|ist|war|lautet|est|était|es|era|are|sind|è|é|är|jest|to|"
    r"sont|son|would\s+be|:|=|-|#)[ \t\u00a0]*){0,2}(?:\r?\n[ \t\u00a0]*)?"
)
_OTP_VALUE = re.compile(
    r"(\d{4}[ \-\u00a0]\d{4}|\d{2}[ \-\u00a0]\d{2}[ \-\u00a0]\d{2}|\d{3}[ \-\u00a0]?\d{3}|\d{4,8})"
    r"(?![\d/.:,\-]\d|\d|[A-Za-z])"  # not the digits of a hash ("2fa47243723bfe...")
)
# An unqualified code ("your code is 123456"): only the six- and eight-digit shapes.
_PLAIN_OTP_VALUE = re.compile(
    r"(\d{4}[ \-\u00a0]\d{4}|\d{2}[ \-\u00a0]\d{2}[ \-\u00a0]\d{2}|\d{3}[ \-\u00a0]?\d{3}|\d{8})"
    r"(?![\d/.:,\-]\d|\d|[ \-\u00a0]\d|[A-Za-z])"
)
_RECOVERY_ITEM = re.compile(
    r"(?:[\s,;|>]|[\-*•]\s|\d{1,2}[.)]\s){0,16}"
    r"([A-Za-z0-9]{4,12}(?:-[A-Za-z0-9]{4,12}){0,3}|\d{4}[ \t\u00a0]\d{4})(?![A-Za-z0-9])"
)
# Words between "backup codes" and the list: "backup codes (keep them safe):", "2FA codes I
# saved:"; up to a colon or the end of the line, then the list.
_LIST_INTRO = re.compile(r"[^\n:]{0,100}(?::|\n)")
_MAX_CODES = 48


def handle_code(text: str, low: str, start: int, end: int) -> list[Span]:
    """One-time codes and recovery codes named as such, in several languages."""
    keyword = low[start:end]
    stem = (
        keyword.removesuffix("s").removesuffix("code")
        if keyword.endswith(("code", "codes"))
        else ""
    )
    before = low[max(0, start - 24) : start] + stem if keyword.endswith(("code", "codes")) else ""
    after = low[end : end + 50]
    compound = _COMPOUND_KINDS.get(keyword)
    plural = keyword.endswith(("codes", "codici", "códigos", "codigos", "koder", "kody"))
    value_regex = _OTP_VALUE
    if compound is not None:
        kind = compound
    elif low[start:end] in ("otp", "totp", "2fa", "mfa", "tan", "pin-code"):
        kind = "otp_code"
    elif _RECOVERY_BEFORE.search(before) or _RECOVERY_AFTER.match(after):
        kind = "recovery_code"
    elif _OTP_BEFORE.search(before) or _OTP_AFTER.match(after):
        kind = "recovery_code" if plural else "otp_code"
    elif keyword in ("code", "codice", "código", "codigo", "kod") and not _NOT_OTP_BEFORE.search(
        low, max(0, start - 24), start
    ):
        kind, value_regex = "otp_code", _PLAIN_OTP_VALUE
    else:
        kind = ""
    if not kind:
        return []
    extra = _OTP_AFTER.match(after) or _RECOVERY_AFTER.match(after)
    pos = end + (extra.end() if extra else 0)
    received = _RECEIVED.match(low, pos)
    if value_regex is _PLAIN_OTP_VALUE and received is None and not _PLAIN_FILLER.match(low, pos):
        return []
    pos = received.end() if received else pos
    filler = _CODE_FILLER.match(low, pos)
    pos = filler.end() if filler else pos
    if kind == "otp_code":
        m = value_regex.match(text, pos)
        return [Span.of(m.start(1), m.end(1), "otp_code", "one-time code")] if m else []
    found = _recovery_list(text, pos)
    if not found and (intro := _LIST_INTRO.match(text, pos)) is not None:
        found = _recovery_list(text, intro.end())
    return found


# Compound words of Swedish and Dutch that name the kind themselves.
_COMPOUND_KINDS = {
    "verifieringskod": "otp_code",
    "engångskod": "otp_code",
    "säkerhetskod": "otp_code",
    "inloggningskod": "otp_code",
    "reservkoder": "recovery_code",
    "backupkoder": "recovery_code",
    "herstelcodes": "recovery_code",
}

# After an unqualified "code": a separator or a verb must come before the value.
_PLAIN_FILLER = re.compile(
    r"s?[ \t\u00a0]*(?:\([^)\n]{0,20}\)[ \t\u00a0]*)?(?:is|was|:|=|lautet|est|es|è|é|är|\s*,)"
)


def _recovery_list(text: str, pos: int) -> list[Span]:
    first = last = -1
    for _ in range(_MAX_CODES):
        m = _RECOVERY_ITEM.match(text, pos)
        if m is None or not _code_like(m.group(1), first >= 0):
            break
        if first < 0:
            first = m.start(1)
        last, pos = m.end(1), m.end()
    if first < 0:
        return []
    return [Span.of(first, last, "recovery_code", "recovery codes")]


def _code_like(item: str, listed: bool) -> bool:
    """A recovery code has a digit; later in a list, letter groups joined by dashes
    (ABCD-EFGH-JKLM) count too."""
    if any(c.isdigit() for c in item):
        return True
    return listed and "-" in item and (item.isupper() or item.islower())


SECRET_WORDS: tuple[str, ...] = (
    "api",
    "apikey",
    "api key",
    "api-key",
    "api_key",
    "key",
    "keys",
    "secret",
    "secrets",
    "token",
    "tokens",
    "auth",
    "client_secret",
    "client secret",
    "access key",
    "access_key",
    "private key",
    "signature",
    "sig",
    "schlüssel",
    "clé",
    "clef",
    "llave",
    "jeton",
    "geheimnis",
    # "key" in Portuguese, Italian, Dutch, Swedish, Polish, Danish and Norwegian
    "chave",
    "chiave",
    "sleutel",
    "nyckel",
    "nyckeln",
    "klucz",
    "nøgle",
    "nøglen",
    "nøkkel",
    "nøkkelen",
)
"""Keywords after which a random-looking value is a key or token."""

_COMPOUND_STEMS = (
    "bestätigungs",
    "sicherheits",
    "anmelde",
    "einmal",
    "verifizierungs",
    "authentifizierungs",
    "zugangs",
    "wiederherstellungs",
    "notfall",
    "sicherungs",
    "backup",
    "verificatie",
    "sms",
)
CODE_WORDS: tuple[str, ...] = (
    "code",
    "codes",
    "otp",
    "totp",
    "2fa",
    "mfa",
    "tan",
    "código",
    "codigo",
    "codice",
    "códigos",
    "codigos",
    "codici",
    "kod",
    "kody",
    "koden",
    "koder",
    "herstelcodes",
    "verifieringskod",
    "engångskod",
    "säkerhetskod",
    "inloggningskod",
    "reservkoder",
    "backupkoder",
    *(stem + suffix for stem in _COMPOUND_STEMS for suffix in ("code", "codes")),
)
"""Keywords of one-time and recovery codes (qualifiers are checked around them)."""
