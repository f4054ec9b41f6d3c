"""Secrets out of text; findings without values. The only producer of `RedactedText`.

`redactor` is the public face (`redact_text`, `redact_html`); `engine` runs the detectors
(`cards`, `keywords`, `prose`, `phrases`, `secrets`, `tokens`, `values`, `web`, `wrapped`)
over the text's `views`; `html` redacts an HTML document, `parallel` splits large inputs
across processes, `model` holds the findings and kinds. Beyond body text: `headers` (names,
file names, Message-ID stand-ins), `attached` (forwarded mails), `textfile` (text
attachments by BOM and charset), `csv_columns`, `documents`, `archives` and `office` (text
inside files), `derived` (parts of redacted text that stay `RedactedText`)."""

from ingest.redact.redactor import (
    CARD_KINDS,
    CREDENTIAL_KINDS,
    REDACTION_KINDS,
    Finding,
    Redaction,
    is_text_like,
    redact_html,
    redact_text,
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
