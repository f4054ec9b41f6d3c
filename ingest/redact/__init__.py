"""Secrets out of text; findings without values. The only producer of `RedactedText`.

`redactor` is the public face (`redact_text`, `redact_html`); `engine` runs the detectors
(`cards`, `keywords`, `prose`, `secrets`, `tokens`, `values`) over the text's `views`;
`html` redacts an HTML document, `parallel` splits large inputs across processes, `model`
holds the findings and kinds."""

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
