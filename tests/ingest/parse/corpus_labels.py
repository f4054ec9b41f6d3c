"""The labelled corpus regression set: load the labels, read a parsed mail the same way,
compare field by field.

`tests/fixtures/corpus_labels.json` holds, per corpus-relative path, what a careful human
reader sees in the mail (not what postdesk outputs): `from_email`, `from_name`, `subject`,
`first_line` (the first non-empty line of the body text the sender wrote) and
`attachments` (file names). Entries checked against the raw mail by hand carry a `note`.
`expected_failures` lists the paths postdesk gets wrong today, each with the fields.

Normalisation before comparing (the same on both sides):
- every field: runs of whitespace folded to one space, stripped at both ends;
- `from_email`: compared case-insensitively; `from_name`: surrounding quotes dropped;
- `subject`: kept as is, prefixes (`Re:`, `Fwd:`, `WG:`) included;
- `first_line`: the first line of the body text that is not blank, stripped; "" when the
  mail has no body text at all;
- `attachments`: compared as a multiset (so the count counts too); an expected name may
  be a glob (`*.eml`, `*`) for a part that has no name in the mail, where the name is
  the reader's choice.

What counts as an attachment (the labels follow what a mail client lists): every part with
a filename or a non-text type, inline images included; an attached message
(message/rfc822) is ONE attachment (`*.eml` unless named), its own files stay inside it;
a file path as filename counts by its last component; uuencoded files in a text part are
attachments. Not attachments: the signature part of a multipart/signed mail
(signature.asc, smime.p7s), and message/delivery-status, which clients show as text.
The first line comes from the displayed text in order (in a multipart/alternative the
plain part, or the HTML when the plain part is empty); a mail with no text of its own but
an attached message reads as that message's first line (clients show it inline).
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path

from ingest.model import ParsedMessage

LABELS_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "corpus_labels.json"
FIELDS = ("from_email", "from_name", "subject", "first_line", "attachments")


@dataclass(frozen=True, slots=True)
class Labels:
    """The labelled entries (path to expected fields) and today's known failures."""

    entries: dict[str, dict[str, object]]
    expected_failures: dict[str, list[str]]


def load_labels(path: Path = LABELS_PATH) -> Labels:
    """Read the labels file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return Labels(entries=data["entries"], expected_failures=data.get("expected_failures", {}))


def fold(text: str) -> str:
    """Whitespace runs to one space, stripped."""
    return " ".join(text.split())


def first_line(text: str) -> str:
    """The first line of `text` that is not blank, folded; "" when there is none."""
    for line in text.splitlines():
        if line.strip():
            return fold(line)
    return ""


def observed(parsed: ParsedMessage | None) -> dict[str, object]:
    """The labelled fields as postdesk read them; None (unparseable) reads as all empty."""
    if parsed is None:
        return {f: "" for f in FIELDS[:-1]} | {"attachments": []}
    sender = parsed.sender
    return {
        "from_email": sender.email if sender else "",
        "from_name": sender.name if sender else "",
        "subject": parsed.subject,
        "first_line": first_line(parsed.text),
        "attachments": [a.filename for a in parsed.attachments],
    }


def _names_match(expected: list[str], got: list[str]) -> bool:
    if len(expected) != len(got):
        return False
    left = [fold(name) for name in got]
    # Exact names first (`[Guide].pdf` is a name, not a pattern, when a file has it), then
    # globs take what is left, the most specific first (a glob never steals an exact name,
    # `*` never steals what `*.eml` needs).
    patterns = []
    for name in expected:
        if fold(name) in left:
            left.remove(fold(name))
        else:
            patterns.append(name)
    for name in sorted(patterns, key=lambda n: -len(n.strip("*?"))):
        pattern = fold(name)
        hit = next((g for g in left if fnmatch.fnmatchcase(g, pattern)), None)
        if hit is None:
            return False
        left.remove(hit)
    return True


def field_matches(field: str, expected: object, got: object) -> bool:
    """One field compared under the normalisation rules of this module."""
    if field == "attachments":
        assert isinstance(expected, list) and isinstance(got, list)
        return _names_match([str(n) for n in expected], [str(n) for n in got])
    want, have = fold(str(expected)), fold(str(got))
    if field == "from_email":
        return want.lower() == have.lower()
    if field == "from_name":
        return want.strip('"') == have.strip('"')
    if field == "first_line":
        return first_line(want) == first_line(have)
    return want == have


def mismatched_fields(label: dict[str, object], got: dict[str, object]) -> list[str]:
    """The labelled fields where `got` differs from `label`."""
    return [f for f in FIELDS if f in label and not field_matches(f, label[f], got[f])]


def project_of(rel: str) -> str:
    """The corpus project (top folder) of a corpus-relative path."""
    return rel.split("/", 1)[0]
