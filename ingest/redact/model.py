"""Value types of the secrets redactor: kinds, findings, the result, and candidate spans.

A `Span` is a candidate found by one detector over the input text (offsets into the input).
The engine merges spans and renders markers; a `Finding` is what survives into the result
(offsets of the marker in the redacted text). Neither ever carries the secret's value.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from store.redacted import RedactedText

CARD_KINDS: frozenset[str] = frozenset({"card", "card_cvv", "card_expiry"})
"""Kinds that are payment card data (not credentials)."""

CREDENTIAL_KINDS: frozenset[str] = frozenset(
    {
        "password",
        "api_key",
        "private_key",
        "jwt",
        "bearer_token",
        "url_credentials",
        "connection_string",
        "otp_code",
        "recovery_code",
    }
)
"""Kinds that mean an exposed credential: the sender should revoke and replace it."""

REDACTION_KINDS: frozenset[str] = CARD_KINDS | CREDENTIAL_KINDS
"""Every kind name a finding can carry (the documented names of `ingest --json`)."""

# When candidates overlap, the most specific detector names the merged region.
PRIORITY: dict[str, int] = {
    "private_key": 100,
    "jwt": 90,
    "connection_string": 80,
    "url_credentials": 78,
    "api_key": 70,
    "bearer_token": 65,
    "card": 60,
    "card_cvv": 55,
    "card_expiry": 55,
    "recovery_code": 50,
    "password": 45,
    "otp_code": 40,
}


@dataclass(frozen=True, slots=True)
class Span:
    """A candidate secret at text[start:end]; `label` names it in the marker."""

    start: int
    end: int
    kind: str
    label: str
    priority: int = 0

    @classmethod
    def of(cls, start: int, end: int, kind: str, label: str, bonus: int = 0) -> Span:
        """A span whose priority is the kind's priority plus `bonus` (specific formats)."""
        return cls(start, end, kind, label, PRIORITY[kind] + bonus)


def marker(label: str) -> str:
    """The text that replaces a secret: `[<label> removed]`."""
    return f"[{label} removed]"


@dataclass(frozen=True, slots=True)
class Finding:
    """One removed secret: its kind and the marker's offsets in the redacted text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Redaction:
    """Redacted text and what was removed from it (kinds and places, never values)."""

    text: RedactedText
    findings: tuple[Finding, ...]

    def counts(self) -> dict[str, int]:
        """Number of findings per kind, keys sorted by kind."""
        tally = Counter(f.kind for f in self.findings)
        return {kind: tally[kind] for kind in sorted(tally)}

    @property
    def found(self) -> bool:
        """True when at least one secret was removed."""
        return bool(self.findings)
