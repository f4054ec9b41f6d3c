"""Runs every detector over a text, merges overlapping candidates, and writes the markers.

Overlapping candidates form one region; the most specific detector (highest priority)
names it, and the region covers all of them, so a secret is never left half removed.
"""

from __future__ import annotations

from ingest.redact.cards import find_cards
from ingest.redact.keywords import find_keyword_secrets
from ingest.redact.model import Finding, Redaction, Span, marker
from ingest.redact.random_tokens import find_random_tokens
from ingest.redact.tokens import find_shaped
from ingest.redact.views import TextViews
from store.redacted import RedactedText


def find_spans(text: str) -> list[Span]:
    """Every secret in text as non-overlapping spans, in order."""
    if not text:
        return []
    views = TextViews.of(text)
    candidates = find_cards(views)
    candidates.extend(find_keyword_secrets(views))
    candidates.extend(find_shaped(views))
    candidates.extend(find_random_tokens(views))
    return merge(candidates)


def merge(candidates: list[Span]) -> list[Span]:
    """Overlapping candidates become one span named by the highest-priority candidate."""
    ordered = sorted((c for c in candidates if c.end > c.start), key=lambda c: (c.start, -c.end))
    merged: list[Span] = []
    for span in ordered:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            best = span if span.priority > last.priority else last
            merged[-1] = Span(
                last.start, max(last.end, span.end), best.kind, best.label, best.priority
            )
        else:
            merged.append(span)
    return merged


def apply(text: str, spans: list[Span]) -> Redaction:
    """Replace each span with its marker; findings point at the markers."""
    if not spans:
        return Redaction(RedactedText(text), ())
    parts: list[str] = []
    findings: list[Finding] = []
    pos = out = 0
    for span in spans:
        parts.append(text[pos : span.start])
        out += span.start - pos
        mark = marker(span.label)
        parts.append(mark)
        findings.append(Finding(span.kind, out, out + len(mark)))
        out += len(mark)
        pos = span.end
    parts.append(text[pos:])
    return Redaction(RedactedText("".join(parts)), tuple(findings))


def redact(text: str) -> Redaction:
    """Redacted text and findings for plain text."""
    return apply(text, find_spans(text))
