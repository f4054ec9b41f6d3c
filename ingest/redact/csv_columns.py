"""Secrets out of a table: a CSV or TSV column whose header names a secret is emptied whole.

An export with a `password` (or `Passwort`, `api_key`, `card number`, `CVV`, `PIN`, ...)
column holds a secret in every row, though no single cell looks like one to the text
detectors (`hunter2` has no keyword beside it). `redact_table` reads the table with the
stdlib `csv` module (the delimiter sniffed among `,;\t|`), finds such columns in the
header row, replaces each of their non-empty cells with a marker, writes the table back in
the same dialect and then runs the text redactor over the whole of it (the other columns
may hold secrets too). A table the `csv` module cannot read is redacted as plain text.
"""

from __future__ import annotations

import csv
import io
import re

from ingest.redact.model import Finding, Redaction, marker
from ingest.redact.redactor import redact_text
from store.redacted import RedactedText

__all__ = ["TABLE_CONTENT_TYPES", "TABLE_EXTENSIONS", "column_kind", "is_table", "redact_table"]

TABLE_EXTENSIONS = frozenset({"csv", "tsv", "tab", "psv"})
TABLE_CONTENT_TYPES = frozenset(
    {"text/csv", "text/tab-separated-values", "application/csv", "text/x-csv",
     "application/vnd.ms-excel.csv"}
)  # fmt: skip

# Header words (normalised: lower case, separators as single spaces) -> the finding's kind.
_PASSWORD = (
    "password", "passwort", "passwd", "pwd", "passphrase", "kennwort", "mot de passe",
    "mdp", "contrasena", "contraseña", "clave", "senha", "wachtwoord", "parola", "lösenord",
    "losenord", "salasana", "hasło", "haslo", "heslo", "jelszó", "пароль", "密码", "パスワード",
    "pin", "pin code", "pincode", "geheimzahl",
)  # fmt: skip
_KEY = (
    "token", "secret", "api key", "apikey", "api secret", "access key", "access token",
    "secret key", "private key", "client secret", "auth token", "refresh token", "bearer",
    "credential", "credentials", "geheim", "geheimnis", "secret access key", "app password",
    "session key", "session token", "webhook secret", "signing key",
)  # fmt: skip
_CARD = (
    "card", "card number", "card no", "card num", "cc number", "ccnum", "pan number",
    "credit card", "credit card number", "kreditkarte", "kreditkartennummer", "kartennummer",
    "numéro de carte", "numero de carte", "carte bancaire", "tarjeta", "numero de tarjeta",
    "cartão", "carta di credito",
)  # fmt: skip
_CVV = ("cvv", "cvv2", "cvc", "cvc2", "security code", "card security code",
        "prüfnummer", "prüfziffer", "kartenprüfnummer", "cryptogramme")  # fmt: skip
_OTP = ("otp", "totp", "2fa code", "mfa code", "one time code", "recovery code", "backup code")
_KINDS: dict[str, str] = {
    **dict.fromkeys(_PASSWORD, "password"),
    **dict.fromkeys(_KEY, "api_key"),
    **dict.fromkeys(_CARD, "card"),
    **dict.fromkeys(_CVV, "card_cvv"),
    **dict.fromkeys(_OTP, "otp_code"),
}
# A header with one of these words describes a secret without holding it.
_NOT_THE_SECRET = frozenset(
    {"hint", "type", "holder", "name", "expiry", "expires", "expiration", "changed", "reset",
     "policy", "length", "count", "date", "last", "brand", "question", "required", "set",
     "age", "updated", "created", "status", "issuer", "bank", "id", "url", "scope", "scopes",
     "valid", "until", "strength", "limit", "fee", "exp"}
)  # fmt: skip
_LABELS = {"card": "card", "card_cvv": "card security code", "otp_code": "code"}
_MARKERS = {
    kind: marker(_LABELS.get(kind, kind.replace("_", " "))) for kind in set(_KINDS.values())
}
# One private-use character per kind stands in for an emptied cell while the text redactor
# runs (a marker such as "[password removed]" would read to it as a keyword and value).
_PLACEHOLDERS = {kind: chr(0xE000 + i) for i, kind in enumerate(sorted(_MARKERS))}
_KIND_OF = {char: kind for kind, char in _PLACEHOLDERS.items()}
_PLACEHOLDER = re.compile("[" + "".join(_KIND_OF) + "]")
_SEPARATORS = re.compile(r"[\s_\-.:/()*#\[\]]+")
_MAX_PREFIX_WORDS = 3
_SNIFF_BYTES = 16384


def is_table(filename: str, content_type: str) -> bool:
    """True for CSV and TSV attachments (by content type or name)."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    return content_type.lower() in TABLE_CONTENT_TYPES or extension in TABLE_EXTENSIONS


def column_kind(header: str) -> str | None:
    """The kind of secret a column with this header holds, or None."""
    words = _SEPARATORS.sub(" ", header.strip().lower()).split()
    if not words or len(words) > _MAX_PREFIX_WORDS + 3 or _NOT_THE_SECRET.intersection(words):
        return None
    for size in (3, 2, 1):  # the longest name first: "credit card number" over "card"
        for start in range(len(words) - size + 1):
            kind = _KINDS.get(" ".join(words[start : start + size]))
            if kind is not None:
                return kind
    return _KINDS.get("".join(words))  # "api_key" -> "apikey", "PassWord" written apart


def _dialect(text: str, filename: str) -> type[csv.Dialect] | csv.Dialect:
    sample = text[:_SNIFF_BYTES]
    if filename.lower().endswith((".tsv", ".tab")):
        return csv.excel_tab
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def redact_table(text: str, filename: str = "") -> Redaction:
    """The table with every cell of a secret-named column replaced, then text-redacted."""
    dialect = _dialect(text, filename)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error:
        return redact_text(text)
    header_at = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), None)
    if header_at is None:
        return redact_text(text)
    columns = {
        index: kind
        for index, cell in enumerate(rows[header_at])
        if (kind := column_kind(cell)) is not None
    }
    if not columns:
        return redact_text(text)
    if _PLACEHOLDER.search(text):
        text = _PLACEHOLDER.sub("", text)  # the placeholders must be ours alone
        rows = [[_PLACEHOLDER.sub("", cell) for cell in row] for row in rows]
    emptied = False
    for row in rows[header_at + 1 :]:
        for index, kind in columns.items():
            if index < len(row) and row[index].strip():
                row[index] = _PLACEHOLDERS[kind]
                emptied = True
    if not emptied:
        return redact_text(text)
    out = io.StringIO(newline="")
    writer = csv.writer(out, dialect, lineterminator="\r\n" if "\r\n" in text else "\n")
    writer.writerows(rows)
    return _with_markers(redact_text(out.getvalue()))


def _with_markers(result: Redaction) -> Redaction:
    """`result` with each column placeholder turned into its marker, and a finding for it
    (the text redactor's findings moved by the markers before them)."""
    pieces: list[str] = []
    findings: list[Finding] = []
    shift = 0
    last = 0
    pending = iter(result.findings)
    upcoming = next(pending, None)
    for found in _PLACEHOLDER.finditer(result.text):
        while upcoming is not None and upcoming.start < found.start():
            findings.append(Finding(upcoming.kind, upcoming.start + shift, upcoming.end + shift))
            upcoming = next(pending, None)
        kind = _KIND_OF[found.group()]
        text = _MARKERS[kind]
        pieces.append(result.text[last : found.start()])
        pieces.append(text)
        start = found.start() + shift
        findings.append(Finding(kind, start, start + len(text)))
        shift += len(text) - 1
        last = found.end()
    while upcoming is not None:
        findings.append(Finding(upcoming.kind, upcoming.start + shift, upcoming.end + shift))
        upcoming = next(pending, None)
    pieces.append(result.text[last:])
    return Redaction(RedactedText("".join(pieces)), tuple(findings))
