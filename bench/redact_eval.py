"""Recall and decoys kept of the secrets redactor on the labelled evaluation set.

Usage: .venv/bin/python bench/redact_eval.py [--seed 15] [--mails 700] [--misses N]
                                             [--damaged N]

Prints recall per kind, per variety and per shape, decoys kept per kind, the overall
figures and the redactor's MB/s over the set (subjects and bodies, in-process). `--misses`
prints up to N missed secrets with the line(s) around them and the pieces that survived;
`--damaged` does the same for decoys that were not kept. The set is generated test data
(bench/redact_evalset.py), so printing it is fine. How a secret counts as caught:
bench/redact_scoring.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from redact_evalset import DEFAULT_MAILS, DEFAULT_SEED, Mail, build_evalset  # noqa: E402
from redact_scoring import Score, score  # noqa: E402

TARGET_RECALL, TARGET_KIND, TARGET_DECOYS = 0.98, 0.95, 0.99


def _table(title: str, rows: dict[str, tuple[int, int]], target: float | None) -> None:
    print(f"\n{title}")
    for key, (ok, total) in rows.items():
        flag = "  <" if target is not None and ok / total < target else ""
        print(f"  {key:22} {ok / total:6.3f}  ({ok}/{total}){flag}")


def _context(mail: Mail, field: str, start: int, end: int) -> str:
    text = mail.subject if field == "subject" else mail.body
    first = text.rfind("\n", 0, max(0, start - 1)) + 1
    last = text.find("\n", end)
    return text[first : last if last >= 0 else len(text)]


def report(result: Score, misses: int, damaged: int) -> None:
    """Print the tables, the overall figures and the examples asked for."""
    _table("recall per kind", result.recall_by(lambda s: s.kind), TARGET_KIND)
    _table("recall per variety", result.recall_by(lambda s: f"{s.kind}/{s.variety}"), None)
    _table("recall per shape", result.recall_by(lambda s: s.shape), None)
    _table("recall per tag (a secret may have several)", _by_tag(result), None)
    _table("decoys kept per kind", result.kept_by_kind(), TARGET_DECOYS)
    print(
        f"\noverall: recall {result.recall():.3f} ({len(result.secrets)} secrets), decoys kept "
        f"{result.decoys_kept():.3f} ({len(result.decoys)} decoys), redactor "
        f"{result.mb_per_s():.1f} MB/s over {result.size / 1e6:.2f} MB"
    )
    print(
        f"targets: recall >= {TARGET_RECALL}, >= {TARGET_KIND} per kind, "
        f"decoys kept >= {TARGET_DECOYS}"
    )
    for r in [r for r in result.secrets if not r.caught][:misses]:
        s = r.label
        print(
            f"\n--- missed {s.kind}/{s.variety} shape={s.shape} mail {r.mail.id} {s.field} "
            f"survived={list(r.survived)}"
        )
        print(_context(r.mail, s.field, s.start, s.end))
    for d in [d for d in result.decoys if not d.kept][:damaged]:
        print(f"\n--- damaged decoy {d.label.kind} {d.label.value!r} mail {d.mail.id}")
        print(_context(d.mail, d.label.field, d.label.start, d.label.end))


def _by_tag(result: Score) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = {}
    for r in result.secrets:
        for tag in r.label.tags or ("plain",):
            counts.setdefault(tag, [0, 0])
            counts[tag][0] += r.caught
            counts[tag][1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(counts.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--mails", type=int, default=DEFAULT_MAILS)
    parser.add_argument("--misses", type=int, default=0, metavar="N")
    parser.add_argument("--damaged", type=int, default=0, metavar="N")
    args = parser.parse_args()
    report(score(build_evalset(args.seed, args.mails)), args.misses, args.damaged)


if __name__ == "__main__":
    main()
