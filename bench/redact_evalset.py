"""A labelled evaluation set for the secrets redactor: realistic support mails, seeded.

`build_evalset(seed, mails)` writes support mails (plain text and HTML bodies; greetings,
prose in nine languages, decoy numbers, secrets in the shapes customers paste them,
signatures, quoted history, subjects) and labels every secret (kind, variety, shape, exact
span) and every decoy (kind, exact span). Same seed, same mails, byte for byte.

Shapes (the primary one is the first that applies, in this order): html (in an HTML body),
quoted (in `> ` history), subject, signature, wrapped (broken over lines), split (grouped
or cut by spaces), list (a code list), code (a header, command or config line),
non_english (prose in another language), plain.

Usage: python bench/redact_evalset.py [--seed 15] [--mails 700] [--out set.json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

_BENCH = str(Path(__file__).resolve().parent)
if _BENCH not in sys.path:  # appended: bench/ingest.py must not shadow the ingest package
    sys.path.append(_BENCH)

import redact_evalset_codes as codes  # noqa: E402
import redact_evalset_phrases as phrases  # noqa: E402
import redact_evalset_prose as prose  # noqa: E402
import redact_evalset_tokens as tokens  # noqa: E402
from redact_evalset_builder import Builder, Mark, quote  # noqa: E402
from redact_evalset_decoys import DECOY_KINDS, make_decoy  # noqa: E402
from redact_evalset_phrases import Snippet  # noqa: E402

SHAPES = (
    "html",
    "quoted",
    "subject",
    "signature",
    "wrapped",
    "split",
    "list",
    "code",
    "non_english",
    "plain",
)
DEFAULT_SEED = 15
DEFAULT_MAILS = 700
MAKERS: list[tuple[Callable[[random.Random, str], Snippet], int]] = [
    (phrases.card_bundle, 14),
    (phrases.password, 16),
    (tokens.api_key, 18),
    (tokens.jwt, 6),
    (tokens.bearer, 10),
    (tokens.url_credentials, 5),
    (tokens.connection_string, 5),
    (tokens.private_key, 4),
    (codes.otp_code, 10),
    (codes.recovery_codes, 6),
]


@dataclass(frozen=True)
class SecretLabel:
    """A secret at mail.<field>[start:end] (`value` is exactly that text)."""

    field: str
    start: int
    end: int
    kind: str
    variety: str
    shape: str
    tags: tuple[str, ...]
    value: str
    typed: str  # the value as the customer typed it, before wrapping, quoting or markup


@dataclass(frozen=True)
class DecoyLabel:
    """A decoy at mail.<field>[start:end] that must survive redaction."""

    field: str
    start: int
    end: int
    kind: str
    value: str


@dataclass(frozen=True)
class Mail:
    """One support mail: subject, body (HTML when `html`), and its labels."""

    id: int
    subject: str
    body: str
    html: bool
    secrets: tuple[SecretLabel, ...]
    decoys: tuple[DecoyLabel, ...]


def _shape(tags: tuple[str, ...]) -> str:
    return next((s for s in SHAPES if s in tags), "plain")


def _labels(field: str, text: str, marks: list[Mark]) -> tuple[list[SecretLabel], list[DecoyLabel]]:
    secrets, decoys = [], []
    for m in marks:
        if m.sec is None:
            decoys.append(DecoyLabel(field, m.start, m.end, m.kind, text[m.start : m.end]))
            continue
        tags = tuple(dict.fromkeys(m.tags + (("non_english",) if m.lang != "en" else ())))
        secrets.append(
            SecretLabel(
                field,
                m.start,
                m.end,
                m.kind,
                m.sec.variety,
                _shape(tags),
                tags,
                text[m.start : m.end],
                m.sec.value,
            )
        )
    return secrets, decoys


class _MailWriter:
    """Writes one mail; `rng` decides everything."""

    def __init__(self, rng: random.Random, decoy_kinds: list[str]) -> None:
        self.rng = rng
        self.decoy_kinds = decoy_kinds
        self.lang = "en" if rng.random() < 0.55 else rng.choice(prose.LANGS[1:])
        self.name = rng.choice(prose.NAMES)

    def next_decoy(self, b: Builder, kinds: tuple[str, ...] = (), bare: bool = False) -> None:
        kind = self.rng.choice(kinds) if kinds else self.decoy_kinds.pop()
        template, value = make_decoy(self.rng, kind)
        template = "{v}" if bare else template
        head, _, tail = template.partition("{v}")
        b.text(head)
        b.decoy(kind, value)
        b.text(tail)

    def snippet(self) -> Snippet:
        maker = self.rng.choices([m for m, _ in MAKERS], [w for _, w in MAKERS])[0]
        return maker(self.rng, self.lang)

    def paragraph(self, b: Builder, secrets: int, decoys: int, tags: tuple[str, ...] = ()) -> None:
        rng = self.rng
        items = ["s"] * secrets + ["d"] * decoys + ["f"] * rng.randint(1, 3)
        rng.shuffle(items)
        b.raw("<p>" if b.html else "")
        for i, item in enumerate(items):
            if i:
                b.text(rng.choice([" ", " ", "\n"]))
            if item == "f":
                b.text(rng.choice(prose.FILLERS[self.lang]))
            elif item == "d":
                frame = rng.choice(prose.DECOY_FRAMES[self.lang])
                head, _, tail = frame.partition("{D}")
                b.text(head)
                self.next_decoy(b)
                b.text(tail)
            else:
                self.secret_sentence(b, tags)
        b.raw("</p>\n" if b.html else "\n\n")

    def secret_sentence(self, b: Builder, tags: tuple[str, ...]) -> None:
        snip = self.snippet()
        multiline = "\n" in snip.template or any("\n" in s.value for s in snip.secrets)
        if multiline and not b.html:
            b.text("\n")
        if b.html and snip.template.endswith(": {0}") and self.rng.random() < 0.4:
            b.raw("<table><tr><td>")
            b.text(snip.template[:-4])
            b.raw("</td><td>")
            b.secret(snip.secrets[0], tags + snip.tags, snip.lang)
            b.raw("</td></tr></table>")
            return
        b.snippet(snip, tags)
        if not snip.template.rstrip().endswith((".", "!", "?", ":")) and self.rng.random() < 0.8:
            b.text(self.rng.choice([".", ".", ".", "!"]))
        if multiline and not b.html:
            b.text("\n")

    def signature(self, b: Builder) -> None:
        rng = self.rng
        signed = rng.random() < 0.6
        b.text(rng.choice(prose.CLOSINGS[self.lang]) + "\n" + ("" if signed else self.name + "\n"))
        if signed:
            body = rng.choice(prose.SIGNATURES).replace("{name}", self.name)
            body = body.replace("{company}", rng.choice(prose.COMPANIES))
            head, _, tail = body.partition("{D}")
            b.text(head)
            if _:
                self.next_decoy(b, prose.SIGNATURE_DECOYS)
            b.text(tail + "\n")
        if rng.random() < 0.25:
            snip = phrases.wifi(rng) if rng.random() < 0.7 else phrases.password(rng, self.lang)
            b.snippet(snip, ("signature",))
            b.text("\n")

    def history(self, b: Builder) -> None:
        rng = self.rng
        attribution = rng.choice(prose.ATTRIBUTIONS[self.lang])
        attribution = (
            attribution.replace("{name}", rng.choice(prose.NAMES))
            .replace("{email}", "support@example.com")
            .replace("{date}", "12.03.2025")
        )
        b.text(attribution + "\n")
        inner = Builder(rng, b.html)
        for _ in range(rng.randint(1, 2)):
            self.paragraph(inner, rng.randint(0, 2), rng.randint(1, 3), ("quoted",))
        if b.html:
            b.raw('<blockquote type="cite">')
            b.extend(inner.body(), inner.marks, ())
            b.raw("</blockquote>")
            return
        if attribution.startswith("-----Original"):
            b.extend(inner.body(), inner.marks, ())
            return
        text, marks = quote(inner.body().rstrip("\n"), inner.marks, rng.choice([1, 1, 1, 2]))
        b.extend(text + "\n", marks, ("quoted",))

    def subject(self) -> tuple[str, list[Mark]]:
        rng = self.rng
        b = Builder(rng, html=False)
        roll = rng.random()
        if roll < 0.3:
            b.text(rng.choice(["[", "Re: [", "AW: "]))
            self.next_decoy(b, ("ticket", "order", "invoice", "booking_ref"), bare=True)
            b.text("] " if b.body().startswith(("[", "Re: [")) else " ")
        b.text(rng.choice(prose.SUBJECTS[self.lang]))
        if roll > 0.88:
            snip = rng.choice([codes.otp_code, phrases.password, tokens.api_key])(rng, self.lang)
            if "\n" not in snip.template and all("wrapped" not in s.tags for s in snip.secrets):
                b.text(" - ")
                b.snippet(snip, ("subject",))
        return b.body(), b.marks

    def write(self, mail_id: int) -> Mail:
        rng = self.rng
        subject, subject_marks = self.subject()
        b = Builder(rng, html=rng.random() < 0.25)
        b.raw('<html><body><div dir="ltr">' if b.html else "")
        b.text(rng.choice(prose.GREETINGS[self.lang]).replace("{name}", rng.choice(prose.NAMES)))
        b.raw("<br>\n<br>\n" if b.html else "\n\n")
        for _ in range(rng.randint(1, 3)):
            self.paragraph(b, rng.choice([0, 1, 1, 1, 2]), rng.randint(1, 3))
        self.signature(b)
        if rng.random() < 0.4:
            b.text("\n")
            self.history(b)
        b.raw("</div></body></html>\n" if b.html else "")
        body = b.body()
        s1, d1 = _labels("subject", subject, subject_marks)
        s2, d2 = _labels("body", body, b.marks)
        if b.html:
            s2 = [
                SecretLabel(**{**asdict(s), "shape": "html", "tags": (*s.tags, "html")}) for s in s2
            ]
        return Mail(mail_id, subject, body, b.html, tuple(s1 + s2), tuple(d1 + d2))


def build_evalset(seed: int = DEFAULT_SEED, mails: int = DEFAULT_MAILS) -> list[Mail]:
    """`mails` labelled support mails; the same seed gives the same mails."""
    rng = random.Random(seed)
    decoy_kinds: list[str] = []
    out = []
    for mail_id in range(mails):
        if len(decoy_kinds) < 20:
            refill = list(DECOY_KINDS) * 2
            rng.shuffle(refill)
            decoy_kinds[:0] = refill
        out.append(_MailWriter(rng, decoy_kinds).write(mail_id))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--mails", type=int, default=DEFAULT_MAILS)
    parser.add_argument("--out", type=Path, help="write the set as JSON here")
    args = parser.parse_args()
    mails = build_evalset(args.seed, args.mails)
    kinds = Counter(s.kind for m in mails for s in m.secrets)
    shapes = Counter(s.shape for m in mails for s in m.secrets)
    decoys = Counter(d.kind for m in mails for d in m.decoys)
    print(f"{len(mails)} mails, {sum(kinds.values())} secrets, {sum(decoys.values())} decoys")
    print("secrets per kind:", dict(sorted(kinds.items())))
    print("secrets per shape:", dict(sorted(shapes.items())))
    print("decoys per kind:", dict(sorted(decoys.items())))
    if args.out:
        args.out.write_text(json.dumps([asdict(m) for m in mails], ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
