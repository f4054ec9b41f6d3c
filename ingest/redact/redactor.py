"""Secrets out of text: payment cards, passwords, keys, tokens, private keys, codes.

The public face of the redactor (docs/architecture.md, "Secrets", says what it removes).
`redact_text` and `redact_html` return the redacted content and findings (kind and marker
offsets, never the value); markers name the kind, e.g. `[card ending 4242 removed]`,
`[password removed]`, `[aws key removed]`. Detection is linear in the input: every pattern
is anchored on a literal or a keyword trie and has bounded repetitions (see `engine` and
the detector modules).
"""

from __future__ import annotations

from pathlib import PurePath

from ingest.redact.engine import redact as _redact
from ingest.redact.html import redact_html_document
from ingest.redact.model import (
    CARD_KINDS,
    CREDENTIAL_KINDS,
    REDACTION_KINDS,
    Finding,
    Redaction,
)

__all__ = [
    "CARD_KINDS",
    "CREDENTIAL_KINDS",
    "REDACTION_KINDS",
    "Finding",
    "Redaction",
    "is_text_like",
    "redact_html",
    "redact_text",
]

TEXT_EXTENSIONS: frozenset[str] = frozenset(
    [
        "txt",
        "text",
        "log",
        "csv",
        "tsv",
        "json",
        "jsonl",
        "ndjson",
        "geojson",
        "xml",
        "yaml",
        "yml",
        "ini",
        "cfg",
        "conf",
        "config",
        "cnf",
        "env",
        "properties",
        "toml",
        "md",
        "markdown",
        "rst",
        "html",
        "htm",
        "xhtml",
        "sql",
        "pem",
        "key",
        "crt",
        "cer",
        "csr",
        "pub",
        "ppk",
        "sh",
        "bash",
        "zsh",
        "ps1",
        "bat",
        "cmd",
        "py",
        "js",
        "ts",
        "rb",
        "php",
        "java",
        "go",
        "cs",
        "har",
        "eml",
        "msg",
        "vcf",
        "ics",
        "srt",
        "tf",
        "tfvars",
        "netrc",
        "npmrc",
        "pypirc",
        "htpasswd",
        "pgpass",
    ]
)
"""File name extensions whose content is redacted as text."""

TEXT_CONTENT_TYPES: frozenset[str] = frozenset(
    [
        "application/json",
        "application/ld+json",
        "application/x-ndjson",
        "application/xml",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/x-toml",
        "application/javascript",
        "application/x-sh",
        "application/sql",
        "application/x-pem-file",
        "application/x-x509-ca-cert",
        "application/pem-certificate-chain",
        "application/xhtml+xml",
        "application/csv",
        "application/x-www-form-urlencoded",
        "application/graphql",
        "message/delivery-status",
        "message/disposition-notification",
    ]
)
"""Non-text/* content types that carry text."""


def redact_text(text: str) -> Redaction:
    """Remove every secret from plain text; the result says which kinds and where."""
    return _redact(text)


def redact_html(html: str) -> Redaction:
    """Remove secrets from HTML; markers are escaped text, so the result stays valid HTML.

    Secrets split by inline tags or written as entities are found; a password in the table
    cell after "Password:" is found; attribute values (links) are redacted too.
    """
    return redact_html_document(html)


def is_text_like(filename: str | None, content_type: str | None) -> bool:
    """True when an attachment holds text that must be redacted (by type or by name).

    text/* and the structured-text types count, and so do names such as `debug.log`,
    `export.csv`, `.env`, `prod.env`, `.env.local` or `settings.yaml`.
    """
    if content_type:
        base = content_type.split(";", 1)[0].strip().lower()
        if base.startswith("text/") or base in TEXT_CONTENT_TYPES:
            return True
        if base.endswith(("+json", "+xml", "+yaml")):
            return True
    if not filename:
        return False
    name = PurePath(filename.replace("\\", "/")).name.lower().strip()
    if name in (".env", "env", ".netrc", ".npmrc", ".pypirc", ".pgpass", ".htpasswd"):
        return True
    if name.startswith(".env.") or ".env." in name:
        return True
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    return suffix in TEXT_EXTENSIONS
