"""Every mail of the shared corpus through the whole pipeline: none raises, each is recorded.

The desk runs the open policy (`unknown_senders = "create"`) without flood limits, so that
the full path (parse, classify, strip, redact, thread, create or comment) runs for every
person's mail, and bounce/auto-reply classification is checked against sisimai's labels.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ingest.model import Outcome, RawMessage
from store.schema import InboundMessageRow
from tests.helpers import make_app

NOT_MAIL_SUFFIXES = {".xml", ".json", ".tsv", ".md", ".out", ".bin", ".html", ".txt~"}
NOT_MAIL_NAMES = {"LICENSE", "NOTICE", "FILES.tsv", "PROVENANCE.md", "README.md"}
BODY_ONLY_FOLDERS = ("willdurand-email-reply-parser", "zapier-email-reply-parser", "signature")


def corpus_mails(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name in NOT_MAIL_NAMES or path.suffix in NOT_MAIL_SUFFIXES:
            continue
        if (
            "_decoded" in path.name
            or path.name.endswith("_reply_text")
            or any(part in BODY_ONLY_FOLDERS for part in path.parts)
        ):
            continue
        found.append(path)
    return found


def test_every_corpus_mail_gets_a_recorded_outcome(
    corpus_dir: Path, tmp_path: Path, sqlite_url: str
) -> None:
    app = make_app(
        tmp_path,
        sqlite_url,
        desk={"unknown_senders": "create"},
        ingest={"sender_rate_limit": "off", "domain_rate_limit": "off"},
    )
    mails = corpus_mails(corpus_dir)
    assert len(mails) > 1000
    outcomes: Counter[str] = Counter()
    per_path: dict[str, str] = {}
    for path in mails:
        result = app.intake.ingest(RawMessage(data=path.read_bytes(), source="corpus"))
        outcomes[result.outcome.value] += 1
        per_path[str(path.relative_to(corpus_dir))] = result.outcome.value
    with app.db.transaction() as session:
        recorded = session.scalar(select(func.count()).select_from(InboundMessageRow))
    app.close()
    assert sum(outcomes.values()) == len(mails)
    print("corpus outcomes:", dict(outcomes), "decision rows:", recorded)
    # Every message has a decision row, except duplicates (same Message-ID or bytes). A copy
    # of an already quarantined message is decided afresh and replaces that row.
    assert len(mails) - outcomes["duplicate"] - 5 <= recorded <= len(mails) - outcomes["duplicate"]
    # Quarantined: no usable sender (MIME fragments of parser test suites) or not a mail.
    assert outcomes["quarantined"] <= 60, outcomes

    expected = json.loads((corpus_dir / "sisimai-bounces" / "expected.json").read_text())
    checked = ignored = 0
    for entry in expected["entries"]:
        kind = entry["kind"]
        key = f"sisimai-bounces/{entry['file']}"
        if key not in per_path:
            continue
        if kind in ("bounce", "feedback-report", "auto-reply", "delivery-success-report"):
            checked += 1
            ignored += per_path[key] in (Outcome.IGNORED.value, Outcome.DUPLICATE.value)
    assert checked > 500
    rate = ignored / checked
    print(f"sisimai machine mail never ticketed: {ignored}/{checked} = {rate:.3f}")
    assert rate >= 0.98


@pytest.mark.parametrize("folder", ["talon/standard_replies", "django-helpdesk"])
def test_ordinary_mail_becomes_tickets(
    corpus_dir: Path, tmp_path: Path, sqlite_url: str, folder: str
) -> None:
    app = make_app(tmp_path, sqlite_url, desk={"unknown_senders": "create"})
    results = [
        app.intake.ingest(RawMessage(data=p.read_bytes()))
        for p in corpus_mails(corpus_dir / folder)
    ]
    app.close()
    made = [r for r in results if r.outcome in (Outcome.CREATED, Outcome.COMMENTED)]
    assert len(made) >= len(results) - 1
