"""How customers paste one-time codes and recovery (backup) code lists. Makers return
`Snippet`s (see redact_evalset_phrases).
"""

from __future__ import annotations

import random

import redact_evalset_values as V
from redact_evalset_phrases import Sec, Snippet, _lang, _pick

OTP = {
    "en": [
        "the code I received was {0}",
        "SMS code {0}",
        "verification code: {0}",
        "Your code is {0}",
        "2FA code {0} is rejected",
        "I typed {0} from the authenticator app",
        "OTP: {0}",
        "the one-time code {0} doesn't work",
        "it sent me {0} by text",
        "> Your Acme verification code is {0}. Don't share it with anyone.",
        "G-{0} is your Google verification code",
        "the authenticator shows {0} right now",
        "Code {0} expired before I could enter it",
    ],
    "de": ["der Bestätigungscode war {0}", "SMS-Code {0}", "Einmalcode: {0}"],
    "fr": ["le code reçu par SMS est {0}", "code de vérification : {0}"],
    "es": ["el código de verificación es {0}", "me llegó el código {0}"],
    "it": ["il codice OTP è {0}", "codice di verifica: {0}"],
    "nl": ["de verificatiecode is {0}", "sms-code {0}"],
    "pt": ["o código de verificação é {0}", "recebi o código {0}"],
    "sv": ["engångskoden är {0}", "verifieringskod: {0}"],
    "pl": ["kod weryfikacyjny to {0}", "kod SMS: {0}"],
}


def otp_code(rng: random.Random, lang: str = "en") -> Snippet:
    """A 6 or 8 digit one-time code, whole or split by spaces."""
    size = rng.choice([6, 6, 6, 8])
    digits = V.otp(rng, size)
    form = rng.randrange(4)
    tags: tuple[str, ...] = ()
    if form == 1:
        half = len(digits) // 2
        digits, tags = f"{digits[:half]} {digits[half:]}", ("split",)
    elif form == 2 and len(digits) == 6:
        digits, tags = f"{digits[:2]} {digits[2:4]} {digits[4:]}", ("split",)
    elif form == 2:
        digits, tags = f"{digits[:4]}-{digits[4:]}", ("split",)
    tpl, lang = _pick(rng, OTP, _lang(rng, lang))
    return Snippet(tpl, [Sec(digits, "otp_code", f"otp{size}", tags)], lang)


LIST_LEAD = {
    "en": [
        "Here are my backup codes:",
        "recovery codes:",
        "My 2FA codes (printed when I set it up):",
        "These are the backup codes GitHub gave me:",
        "Scratch codes:",
        "I still have the recovery codes, in case you need them:",
    ],
    "de": ["Hier meine Backup-Codes:", "Wiederherstellungscodes:", "Notfallcodes:"],
    "fr": ["Voici mes codes de secours :", "codes de récupération :"],
    "es": ["Estos son mis códigos de respaldo:", "códigos de recuperación:"],
    "it": ["Ecco i miei codici di backup:"],
    "nl": ["Mijn herstelcodes:", "back-upcodes:"],
    "pt": ["Meus códigos de recuperação:"],
    "sv": ["Mina reservkoder:"],
    "pl": ["Moje kody zapasowe:"],
}


def _layout(rng: random.Random, codes: list[str]) -> str:
    style = rng.randrange(6)
    if style == 0:
        return "\n".join(codes)
    if style == 1:
        return ", ".join(codes)
    if style == 2:
        return " ".join(codes) if " " not in codes[0] else "   ".join(codes)
    if style == 3:
        width = max(len(c) for c in codes) + 4
        rows = [codes[i : i + 2] for i in range(0, len(codes), 2)]
        return "\n".join(r[0].ljust(width) + (r[1] if len(r) > 1 else "") for r in rows).rstrip()
    if style == 4:
        return "\n".join(f"{i}. {c}" for i, c in enumerate(codes, 1))
    return "\n".join(f"- {c}" for c in codes)


def recovery_codes(rng: random.Random, lang: str = "en") -> Snippet:
    """A list of 8-16 recovery codes after a line that names it."""
    tpl, lang = _pick(rng, LIST_LEAD, _lang(rng, lang))
    value = _layout(rng, V.recovery_codes(rng))
    return Snippet(tpl + "\n{0}", [Sec(value, "recovery_code", "list", ("list",))], lang)
