"""Words and formats of mail in each language the desk writes: dates, the names of statuses,
priorities and targets, durations, and the kinds of removed secrets counted in words.

English is the base: a value missing here for a language is written as English would.
"""

from __future__ import annotations

import re
from datetime import datetime

# Day and month abbreviations, Monday and January first.
_DAYS = {
    "de": ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."),
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
    "es": ("lun.", "mar.", "mié.", "jue.", "vie.", "sáb.", "dom."),
    "nl": ("ma", "di", "wo", "do", "vr", "za", "zo"),
}
_MONTHS = {
    "fr": (
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ),
    "es": (
        "ene.",
        "feb.",
        "mar.",
        "abr.",
        "may.",
        "jun.",
        "jul.",
        "ago.",
        "sept.",
        "oct.",
        "nov.",
        "dic.",
    ),
    "nl": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
}
_DATE_PATTERNS = {
    "de": "{day} {d:%d.%m.%Y}, {d:%H:%M} UTC",
    "fr": "{day} {d.day} {month} {d.year}, {d:%H:%M} UTC",
    "es": "{day} {d.day} {month} {d.year}, {d:%H:%M} UTC",
    "nl": "{day} {d.day} {month} {d.year} {d:%H:%M} UTC",
}

# Names of statuses, priorities, SLA targets and the default categories.
_LABELS: dict[str, dict[str, str]] = {
    "de": {
        "open": "Offen",
        "in_progress": "In Bearbeitung",
        "waiting_on_customer": "Wartet auf Ihre Antwort",
        "escalated": "Eskaliert",
        "resolved": "Gelöst",
        "closed": "Geschlossen",
        "urgent": "Dringend",
        "high": "Hoch",
        "medium": "Mittel",
        "low": "Niedrig",
        "first_response": "Erste Antwort",
        "resolution": "Lösung",
        "account": "Konto",
        "billing": "Abrechnung",
        "technical": "Technik",
        "feature_request": "Verbesserungsvorschlag",
        "general": "Allgemein",
    },
    "fr": {
        "open": "Ouvert",
        "in_progress": "En cours de traitement",
        "waiting_on_customer": "En attente de votre réponse",
        "escalated": "Escaladé",
        "resolved": "Résolu",
        "closed": "Clôturé",
        "urgent": "Urgente",
        "high": "Haute",
        "medium": "Normale",
        "low": "Basse",
        "first_response": "Première réponse",
        "resolution": "Résolution",
        "account": "Compte",
        "billing": "Facturation",
        "technical": "Technique",
        "feature_request": "Suggestion d'amélioration",
        "general": "Général",
    },
    "es": {
        "open": "Abierto",
        "in_progress": "En curso",
        "waiting_on_customer": "Pendiente de su respuesta",
        "escalated": "Escalado",
        "resolved": "Resuelto",
        "closed": "Cerrado",
        "urgent": "Urgente",
        "high": "Alta",
        "medium": "Media",
        "low": "Baja",
        "first_response": "Primera respuesta",
        "resolution": "Resolución",
        "account": "Cuenta",
        "billing": "Facturación",
        "technical": "Técnica",
        "feature_request": "Sugerencia de mejora",
        "general": "General",
    },
    "nl": {
        "open": "Open",
        "in_progress": "In behandeling",
        "waiting_on_customer": "Wacht op uw reactie",
        "escalated": "Geëscaleerd",
        "resolved": "Opgelost",
        "closed": "Gesloten",
        "urgent": "Urgent",
        "high": "Hoog",
        "medium": "Normaal",
        "low": "Laag",
        "first_response": "Eerste reactie",
        "resolution": "Oplossing",
        "account": "Account",
        "billing": "Facturatie",
        "technical": "Technisch",
        "feature_request": "Verbetervoorstel",
        "general": "Algemeen",
    },
}

# Kinds of removed secrets: (one, with its article; the plural, after a number).
_KINDS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "password": ("a password", "passwords"),
        "api_key": ("an API key", "API keys"),
        "private_key": ("a private key", "private keys"),
        "jwt": ("a JSON web token", "JSON web tokens"),
        "bearer_token": ("an access token", "access tokens"),
        "url_credentials": ("a password in a web address", "passwords in web addresses"),
        "connection_string": (
            "a database connection string",
            "database connection strings",
        ),
        "otp_code": ("a one-time code", "one-time codes"),
        "recovery_code": ("a recovery code", "recovery codes"),
        "card": ("a card number", "card numbers"),
        "card_cvv": ("a card security code", "card security codes"),
        "card_expiry": ("a card expiry date", "card expiry dates"),
    },
    "de": {
        "password": ("ein Passwort", "Passwörter"),
        "api_key": ("ein API-Schlüssel", "API-Schlüssel"),
        "private_key": ("ein privater Schlüssel", "private Schlüssel"),
        "jwt": ("ein JSON Web Token", "JSON Web Tokens"),
        "bearer_token": ("ein Zugriffstoken", "Zugriffstokens"),
        "url_credentials": ("ein Passwort in einer Webadresse", "Passwörter in Webadressen"),
        "connection_string": (
            "eine Verbindungszeichenfolge für eine Datenbank",
            "Verbindungszeichenfolgen für Datenbanken",
        ),
        "otp_code": ("ein Einmalcode", "Einmalcodes"),
        "recovery_code": ("ein Wiederherstellungscode", "Wiederherstellungscodes"),
        "card": ("eine Kartennummer", "Kartennummern"),
        "card_cvv": ("eine Kartenprüfnummer", "Kartenprüfnummern"),
        "card_expiry": ("ein Ablaufdatum einer Karte", "Ablaufdaten von Karten"),
    },
    "fr": {
        "password": ("un mot de passe", "mots de passe"),
        "api_key": ("une clé d'API", "clés d'API"),
        "private_key": ("une clé privée", "clés privées"),
        "jwt": ("un jeton JWT", "jetons JWT"),
        "bearer_token": ("un jeton d'accès", "jetons d'accès"),
        "url_credentials": (
            "un mot de passe dans une adresse web",
            "mots de passe dans des adresses web",
        ),
        "connection_string": (
            "une chaîne de connexion à une base de données",
            "chaînes de connexion à des bases de données",
        ),
        "otp_code": ("un code à usage unique", "codes à usage unique"),
        "recovery_code": ("un code de récupération", "codes de récupération"),
        "card": ("un numéro de carte bancaire", "numéros de carte bancaire"),
        "card_cvv": ("un cryptogramme de carte", "cryptogrammes de carte"),
        "card_expiry": ("une date d'expiration de carte", "dates d'expiration de carte"),
    },
    "es": {
        "password": ("una contraseña", "contraseñas"),
        "api_key": ("una clave de API", "claves de API"),
        "private_key": ("una clave privada", "claves privadas"),
        "jwt": ("un token JWT", "tokens JWT"),
        "bearer_token": ("un token de acceso", "tokens de acceso"),
        "url_credentials": (
            "una contraseña en una dirección web",
            "contraseñas en direcciones web",
        ),
        "connection_string": (
            "una cadena de conexión a una base de datos",
            "cadenas de conexión a bases de datos",
        ),
        "otp_code": ("un código de un solo uso", "códigos de un solo uso"),
        "recovery_code": ("un código de recuperación", "códigos de recuperación"),
        "card": ("un número de tarjeta", "números de tarjeta"),
        "card_cvv": ("un código de seguridad de tarjeta", "códigos de seguridad de tarjeta"),
        "card_expiry": ("una fecha de caducidad de tarjeta", "fechas de caducidad de tarjeta"),
    },
    "nl": {
        "password": ("een wachtwoord", "wachtwoorden"),
        "api_key": ("een API-sleutel", "API-sleutels"),
        "private_key": ("een privésleutel", "privésleutels"),
        "jwt": ("een JWT-token", "JWT-tokens"),
        "bearer_token": ("een toegangstoken", "toegangstokens"),
        "url_credentials": ("een wachtwoord in een webadres", "wachtwoorden in webadressen"),
        "connection_string": (
            "een verbindingsreeks voor een database",
            "verbindingsreeksen voor databases",
        ),
        "otp_code": ("een eenmalige code", "eenmalige codes"),
        "recovery_code": ("een herstelcode", "herstelcodes"),
        "card": ("een kaartnummer", "kaartnummers"),
        "card_cvv": ("een beveiligingscode van een kaart", "beveiligingscodes van kaarten"),
        "card_expiry": ("een vervaldatum van een kaart", "vervaldata van kaarten"),
    },
}

# Durations: (one hour, N hours, one day, N days).
_UNITS = {
    "en": ("1 hour", "{n} hours", "1 day", "{n} days"),
    "de": ("1 Stunde", "{n} Stunden", "1 Tag", "{n} Tagen"),
    "fr": ("1 heure", "{n} heures", "1 jour", "{n} jours"),
    "es": ("1 hora", "{n} horas", "1 día", "{n} días"),
    "nl": ("1 uur", "{n} uur", "1 dag", "{n} dagen"),
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s+(hour|day)s?\s*$")
_DECIMAL_COMMA = frozenset({"de", "fr", "es", "nl"})


def english_label(value: object) -> str:
    """`waiting_on_customer` -> `Waiting on customer`."""
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def label(value: object, language: str) -> str:
    """The name of a status, priority, target or default category in `language`."""
    return _LABELS.get(language, {}).get(str(value)) or english_label(value)


def date_time(moment: datetime, language: str) -> str:
    """An instant (UTC) as people of `language` write it; English: `Tue 04 Jun 2024 14:05 UTC`."""
    pattern = _DATE_PATTERNS.get(language)
    if pattern is None:
        return moment.strftime("%a %d %b %Y %H:%M UTC")
    day = _DAYS[language][moment.weekday()]
    month = _MONTHS.get(language, _MONTHS["nl"])[moment.month - 1]
    return pattern.format(d=moment, day=day, month=month)


def counted(kind: object, count: object, language: str) -> str:
    """`password`, 1 -> `a password`; `card`, 2 -> `2 card numbers` (in `language`)."""
    words = _KINDS.get(language, _KINDS["en"]).get(str(kind)) or _KINDS["en"].get(str(kind))
    number = int(count) if isinstance(count, int | float | str) and str(count).isdigit() else 0
    if words is None:
        return f"{english_label(kind)}: {count}"
    return words[0] if number == 1 else f"{count} {words[1]}"


def duration(value: object, language: str) -> str:
    """`24 hours` (as the desk wrote it when the ticket opened), or a number of hours, in
    `language`: `24 Stunden`, `5 jours`. Anything else is shown as it is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        amount, unit = float(value), "hour"
    else:
        match = _DURATION.match(str(value))
        if match is None:
            return str(value)
        amount, unit = float(match.group(1)), match.group(2)
    one_hour, hours, one_day, days = _UNITS.get(language, _UNITS["en"])
    number = f"{amount:g}"
    if language in _DECIMAL_COMMA:
        number = number.replace(".", ",")
    if unit == "day":
        return one_day if amount == 1 else days.format(n=number)
    return one_hour if amount == 1 else hours.format(n=number)


# Why an attachment or a field line was not used, as ingest words it: (pattern, translations).
_REASONS: tuple[tuple[re.Pattern[str], dict[str, str]], ...] = (
    (
        re.compile(r"^blocked file type ?(?P<x>\.\S+)?$"),
        {
            "de": "Dateityp {x} ist nicht erlaubt",
            "fr": "type de fichier {x} non autorisé",
            "es": "tipo de archivo {x} no permitido",
            "nl": "bestandstype {x} is niet toegestaan",
        },
    ),
    (
        re.compile(r"^larger than (?P<x>.+)$"),
        {
            "de": "größer als {x}",
            "fr": "dépasse {x}",
            "es": "supera {x}",
            "nl": "groter dan {x}",
        },
    ),
    (
        re.compile(r"^the message's attachments exceed the size limit$"),
        {
            "de": "die Anhänge der Nachricht sind zusammen zu groß",
            "fr": "les pièces jointes du message dépassent la taille autorisée",
            "es": "los adjuntos del mensaje superan el tamaño permitido",
            "nl": "de bijlagen van het bericht zijn samen te groot",
        },
    ),
    (
        re.compile(r"^HTML with script$"),
        {
            "de": "HTML-Datei mit Skript",
            "fr": "fichier HTML contenant un script",
            "es": "archivo HTML con un script",
            "nl": "HTML-bestand met een script",
        },
    ),
    (
        re.compile(r"^attached mail unreadable$"),
        {
            "de": "angehängte E-Mail nicht lesbar",
            "fr": "e-mail joint illisible",
            "es": "correo adjunto ilegible",
            "nl": "bijgevoegde e-mail is onleesbaar",
        },
    ),
    (
        re.compile(r"^unknown value$"),
        {
            "de": "unbekannter Wert",
            "fr": "valeur inconnue",
            "es": "valor desconocido",
            "nl": "onbekende waarde",
        },
    ),
    (
        re.compile(r"^allowed values: (?P<x>.*)$"),
        {
            "de": "erlaubte Werte: {x}",
            "fr": "valeurs autorisées : {x}",
            "es": "valores permitidos: {x}",
            "nl": "toegestane waarden: {x}",
        },
    ),
    (re.compile(r"^empty$"), {"de": "leer", "fr": "vide", "es": "vacío", "nl": "leeg"}),
    (
        re.compile(r"^category must be one of (?P<x>.+)$"),
        {
            "de": "Kategorie muss eine von diesen sein: {x}",
            "fr": "la catégorie doit être l'une de celles-ci : {x}",
            "es": "la categoría debe ser una de estas: {x}",
            "nl": "categorie moet een van deze zijn: {x}",
        },
    ),
    (
        re.compile(r"^visibility must be private or organisation$"),
        {
            "de": "Sichtbarkeit muss private oder organisation sein",
            "fr": "la visibilité doit être private ou organisation",
            "es": "la visibilidad debe ser private u organisation",
            "nl": "zichtbaarheid moet private of organisation zijn",
        },
    ),
    (
        re.compile(r"^call reference must be a single word like (?P<x>\S+)$"),
        {
            "de": "Vorgangsnummer muss ein einzelnes Wort sein, zum Beispiel {x}",
            "fr": "la référence d'appel doit être un seul mot, par exemple {x}",
            "es": "la referencia de llamada debe ser una sola palabra, por ejemplo {x}",
            "nl": "het referentienummer moet één woord zijn, bijvoorbeeld {x}",
        },
    ),
    (
        re.compile(r"^compressed too highly to be checked \(a possible zip bomb\)$"),
        {
            "de": "zu stark komprimiert, um geprüft zu werden (möglicherweise eine Zip-Bombe)",
            "fr": "trop compressé pour être vérifié (possible bombe de décompression)",
            "es": "demasiado comprimido para poder revisarlo (posible bomba de descompresión)",
            "nl": "te sterk gecomprimeerd om te controleren (mogelijk een zipbom)",
        },
    ),
    (
        re.compile(r"^not an organisation you may open tickets for$"),
        {
            "de": "für diese Organisation dürfen Sie keine Tickets eröffnen",
            "fr": "vous ne pouvez pas ouvrir de tickets pour cette organisation",
            "es": "no puede abrir tickets para esta organización",
            "nl": "voor deze organisatie mag u geen tickets openen",
        },
    ),
    (
        re.compile(r"^priority must be urgent, high, medium or low$"),
        {
            "de": "Priorität muss urgent, high, medium oder low sein",
            "fr": "la priorité doit être urgent, high, medium ou low",
            "es": "la prioridad debe ser urgent, high, medium o low",
            "nl": "prioriteit moet urgent, high, medium of low zijn",
        },
    ),
)


# "contains a password and an API key": a document withheld for the secrets in it.
_CONTAINS = {
    "de": ("enthält {x}", " und "),
    "fr": ("contient {x}", " et "),
    "es": ("contiene {x}", " y "),
    "nl": ("bevat {x}", " en "),
}
_DOCUMENT_SECRETS = {
    "a password": "password",
    "an API key": "api_key",
    "a private key": "private_key",
    "an access token": "bearer_token",
    "a password in a link": "url_credentials",
    "a database password": "connection_string",
    "a one-time code": "otp_code",
    "recovery codes": "recovery_code",
    "a payment card number": "card",
    "a card security code": "card_cvv",
    "a card expiry date": "card_expiry",
}


# German objects of "enthält" where the accusative differs from the listed (nominative) form.
_ACCUSATIVE = {
    "de": {
        "api_key": "einen API-Schlüssel",
        "private_key": "einen privaten Schlüssel",
        "otp_code": "einen Einmalcode",
        "recovery_code": "einen Wiederherstellungscode",
    }
}


def _contains(value: str, language: str) -> str | None:
    """`contains a password and an API key` in `language`, or None if it is not such."""
    if not value.startswith("contains ") or language not in _CONTAINS:
        return None
    head, _, last = value.removeprefix("contains ").rpartition(" and ")
    phrases = [*(head.split(", ") if head else []), last]
    kinds = [_DOCUMENT_SECRETS.get(phrase) for phrase in phrases]
    if None in kinds:
        return None
    accusative = _ACCUSATIVE.get(language, {})
    words = [accusative.get(str(kind)) or _KINDS[language][str(kind)][0] for kind in kinds]
    pattern, conjunction = _CONTAINS[language]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + conjunction + words[-1]
    return pattern.format(x=listed)


def reason(text: object, language: str) -> str:
    """Why ingest did not keep an attachment or use a field line, in `language` where the
    wording is known (it is English otherwise)."""
    value = str(text)
    contains = _contains(value, language)
    if contains is not None:
        return contains
    for pattern, words in _REASONS:
        match = pattern.match(value)
        if match and language in words:
            found = {name: value or "" for name, value in match.groupdict().items()}
            return " ".join(words[language].format(**found).split())
    return value
