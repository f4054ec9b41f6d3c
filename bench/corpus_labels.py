"""Report postdesk's parser against the labelled corpus set, per project and per field.

Usage: .venv/bin/python bench/corpus_labels.py [--corpus DIR] [--mismatches] [--update-expected]

Prints, per corpus project and overall, the share of labelled mails read fully right and
the share right per field (from_email, from_name, subject, first_line, attachments).
`--mismatches` lists every wrong field with expected and got values; `--update-expected`
rewrites `expected_failures` in tests/fixtures/corpus_labels.json to today's failures.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from ingest.parse.message import UnparseableMessage, parse_message  # noqa: E402
from tests.ingest.parse.corpus_labels import (  # noqa: E402
    FIELDS,
    LABELS_PATH,
    load_labels,
    mismatched_fields,
    observed,
    project_of,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--mismatches", action="store_true")
    parser.add_argument("--update-expected", action="store_true")
    args = parser.parse_args()
    labels = load_labels()
    total: Counter[str] = Counter()
    right: Counter[str] = Counter()
    field_right: Counter[tuple[str, str]] = Counter()
    failures: dict[str, list[str]] = {}
    for rel, label in labels.entries.items():
        try:
            got = observed(parse_message((args.corpus / rel).read_bytes()))
        except UnparseableMessage:
            got = observed(None)
        wrong = mismatched_fields(label, got)
        for project in (project_of(rel), "ALL"):
            total[project] += 1
            right[project] += not wrong
            for field in FIELDS:
                field_right[project, field] += field not in wrong
        if wrong:
            failures[rel] = wrong
            if args.mismatches:
                for field in wrong:
                    print(f"{rel}\t{field}\texpected={label[field]!r}\tgot={got[field]!r}")
    print(f"{'project':32} {'mails':>5} {'fully':>6} " + " ".join(f"{f:>11}" for f in FIELDS))
    for project in sorted(total, key=lambda p: (p == "ALL", p)):
        n = total[project]
        cells = " ".join(f"{100 * field_right[project, f] / n:10.1f}%" for f in FIELDS)
        print(f"{project:32} {n:5} {100 * right[project] / n:5.1f}% {cells}")
    if args.update_expected:
        data = json.loads(LABELS_PATH.read_text(encoding="utf-8"))
        data["expected_failures"] = dict(sorted(failures.items()))
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        LABELS_PATH.write_text(text, encoding="utf-8")
        print(f"expected_failures: {len(failures)} entries written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
