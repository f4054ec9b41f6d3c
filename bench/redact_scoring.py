"""Scores the secrets redactor on the labelled evaluation set (bench/redact_evalset.py).

Each mail's subject goes through `redact_text`; its body through `redact_text`, or
`redact_html` when the body is HTML. The redacted output is compared with the labels by
content, not by offsets (the redactor's markers change the lengths):

* Compared text. For an HTML body both the input and the output are reduced to their
  visible text first (tags dropped, block tags as line breaks, cells as spaces, entities
  decoded), so a value split by `<span>`, `<wbr>` or `&nbsp;` reads as the reader sees it.
  In the output, every marker `[... removed]` is replaced by one NUL character (so the last
  four digits a card marker shows never count as a leak, and text on either side of a
  marker never joins).
* Units of a secret. The alphanumeric runs ([A-Za-z0-9]+) of its value that are at least
  4 characters long, minus public prefixes that carry no secret (`xoxb`, `whsec`, `AKIA`,
  `BEGIN`, `PRIVATE`, ... see PUBLIC_RUNS). When the value has fewer than 8 alphanumeric
  characters in all, or no such run, its one unit is the whole value as written (a CVV
  `123`, an expiry `03 / 29`, a code `51 22 09`, a short password). A value split by
  spaces, line breaks or a quote marker `> ` thus has one unit per piece.
* Survival of a unit. Occurrences are counted where the unit is not glued to other
  alphanumerics (`123` does not occur in `41234`). A unit survives when the output holds
  more occurrences than the input holds outside every labelled secret of the same field
  (the input with all secret spans blanked). So a piece that also occurs legitimately
  elsewhere (a ticket number, a word of prose) is not a miss as long as only those
  occurrences remain; a piece shared by two secrets of one mail counts against both when
  either leaks (the generator makes such collisions rare).
* Secrets only in attribute values (an `href` with a token) are not in the set: the
  visible-text comparison would not see them.
* A secret is caught when none of its units survives. A decoy is kept when its value
  (visible text) occurs in the output at least as often as in the input outside secrets.
"""

from __future__ import annotations

import html as htmllib
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from redact_evalset import DecoyLabel, Mail, SecretLabel

from ingest.redact import redact_html, redact_text

MIN_RUN = 4
MIN_ALNUM = 8
PUBLIC_RUNS = frozenset(
    (  # noqa: SIM905
        "xoxb xoxp xoxa xoxe xapp whsec AKIA ASIA BEGIN PRIVATE OPENSSH ENCRYPTED live test "
        "proj api03 github glpat"
    ).split()
)
_MARKER = re.compile(r"\[[^\[\]\n]{1,80}? removed\]")
_RUN = re.compile(r"[A-Za-z0-9]+")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)[^>]*>")
_BLOCK = frozenset(
    "br p div tr li ul ol table blockquote pre h1 h2 h3 h4 h5 h6 body html".split()  # noqa: SIM905
)


def visible(text: str, html: bool) -> str:
    """The text a reader sees: markup dropped and entities decoded in HTML, else as is."""
    if not html:
        return text

    def tag(m: re.Match[str]) -> str:
        name = m.group(2).lower()
        if name in _BLOCK:
            return "\n"
        return " " if name in ("td", "th") else ""

    return htmllib.unescape(_TAG.sub(tag, text))


def _glued(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _count(text: str, unit: str) -> int:
    """Occurrences of unit in text that are not glued to alphanumerics on either side."""
    found = 0
    head, tail = _glued(unit[:1]), _glued(unit[-1:])
    pos = text.find(unit)
    while pos >= 0:
        end = pos + len(unit)
        before = pos > 0 and head and _glued(text[pos - 1])
        after = end < len(text) and tail and _glued(text[end])
        if not (before or after):
            found += 1
            pos = text.find(unit, end)
        else:
            pos = text.find(unit, pos + 1)
    return found


def units(value: str) -> list[str]:
    """The pieces of a secret's (visible) value that must not survive (see module doc)."""
    runs = _RUN.findall(value)
    long_runs = [r for r in runs if len(r) >= MIN_RUN and r not in PUBLIC_RUNS]
    if sum(map(len, runs)) < MIN_ALNUM or not long_runs:
        return [value.strip()]
    return list(dict.fromkeys(long_runs))


@dataclass(frozen=True)
class SecretResult:
    """How one labelled secret fared: caught, or which of its units survived."""

    mail: Mail
    label: SecretLabel
    survived: tuple[str, ...]

    @property
    def caught(self) -> bool:
        """True when no unit of the secret is left in the output."""
        return not self.survived


@dataclass(frozen=True)
class DecoyResult:
    """How one labelled decoy fared."""

    mail: Mail
    label: DecoyLabel
    kept: bool


@dataclass(frozen=True)
class Score:
    """Per-secret and per-decoy results, and the redactor's time over the input bytes."""

    secrets: list[SecretResult]
    decoys: list[DecoyResult]
    seconds: float
    size: int

    def recall(self) -> float:
        """Share of secrets caught."""
        return sum(r.caught for r in self.secrets) / max(1, len(self.secrets))

    def decoys_kept(self) -> float:
        """Share of decoys kept."""
        return sum(r.kept for r in self.decoys) / max(1, len(self.decoys))

    def recall_by(self, key: Callable[[SecretLabel], str]) -> dict[str, tuple[int, int]]:
        """(caught, total) per value of key(label), sorted by key."""
        return _tally((key(r.label), r.caught) for r in self.secrets)

    def kept_by_kind(self) -> dict[str, tuple[int, int]]:
        """(kept, total) per decoy kind."""
        return _tally((r.label.kind, r.kept) for r in self.decoys)

    def mb_per_s(self) -> float:
        """Redactor throughput over the set's subjects and bodies (UTF-8 bytes)."""
        return self.size / 1e6 / self.seconds if self.seconds > 0 else float("inf")


def _tally(pairs: Iterable[tuple[str, bool]]) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, ok in pairs:
        counts[key][0] += ok
        counts[key][1] += 1
    return {key: (c[0], c[1]) for key, c in sorted(counts.items())}


def _blanked(text: str, labels: list[SecretLabel]) -> str:
    out, pos = [], 0
    for label in sorted(labels, key=lambda s: s.start):
        out.append(text[pos : label.start] + "\0")
        pos = max(pos, label.end)
    out.append(text[pos:])
    return "".join(out)


def score_field(
    mail: Mail, field: str, text: str, redacted: str, html: bool
) -> tuple[list[SecretResult], list[DecoyResult]]:
    """Results for the labels of one field, given its input and redacted output."""
    secrets = [s for s in mail.secrets if s.field == field]
    baseline = visible(_blanked(text, secrets), html)
    output = _MARKER.sub("\0", visible(redacted, html))
    results = []
    for label in secrets:
        left = tuple(
            u for u in units(visible(label.value, html)) if _count(output, u) > _count(baseline, u)
        )
        results.append(SecretResult(mail, label, left))
    kept = []
    for decoy in (d for d in mail.decoys if d.field == field):
        value = visible(decoy.value, html)
        kept.append(DecoyResult(mail, decoy, _count(output, value) >= _count(baseline, value)))
    return results, kept


def score(mails: list[Mail]) -> Score:
    """Run the redactor over every mail and score it against the labels."""
    secrets: list[SecretResult] = []
    decoys: list[DecoyResult] = []
    seconds = 0.0
    size = 0
    redact_text("warm-up: password hunter2, card 4111 1111 1111 1111")  # lazy set-up untimed
    redact_html("<p>warm-up</p>")
    for mail in mails:
        for field, text, html in (("subject", mail.subject, False), ("body", mail.body, mail.html)):
            size += len(text.encode("utf-8"))
            start = time.perf_counter()
            redacted = (redact_html(text) if html else redact_text(text)).text
            seconds += time.perf_counter() - start
            found, kept = score_field(mail, field, text, redacted, html)
            secrets.extend(found)
            decoys.extend(kept)
    return Score(secrets, decoys, seconds, size)
