"""Secrets out of text; findings without values. The only producer of `RedactedText`.

`redactor` is the public face (`redact_text`, `redact_html`); `engine` runs the detectors
(`cards`, `keywords`, `prose`, `secrets`, `tokens`, `values`) over the text's `views`;
`html` redacts an HTML document, `parallel` splits large inputs across processes, `model`
holds the findings and kinds."""

__all__ = [
    "cards",
    "engine",
    "html",
    "keywords",
    "model",
    "parallel",
    "prose",
    "redactor",
    "secrets",
    "tokens",
    "values",
    "views",
]
