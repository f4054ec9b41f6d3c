"""Corpus tests for ingest.classify.kind: rates over the shared email corpus.

sisimai-bounces/expected.json labels 591 real mails (bounce, feedback-report, auto-reply,
delivery-success-report, not-bounce); dos/ and mac/ hold CRLF and CR-only copies of
bounces. The thresholds are the measured rates rounded down; a drop means a regression.
Every other folder is run to prove classification never falls into its safety net, and
the folders of ordinary mail must come out as a person's mail.
"""

from __future__ import annotations

import email
import email.policy
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.classify.kind import Classification, MessageKind, classify

OWN = frozenset({"support@example.com"})
SAFETY_NET_MARKER = "could be read"
METADATA = {"LICENSE", "NOTICE", "README.md", "PROVENANCE.md", "FILES.tsv", "expected.json"}

# kind in expected.json -> the kinds we accept for it
ACCEPTED = {
    "bounce": {MessageKind.BOUNCE},
    "feedback-report": {MessageKind.BOUNCE, MessageKind.AUTO_REPLY},
    "auto-reply": {MessageKind.AUTO_REPLY},
    "delivery-success-report": {MessageKind.AUTO_REPLY},
    "not-bounce": {MessageKind.PERSON},
}
# minimum share of each expected kind classified as accepted (measured, rounded down)
MIN_RATE = {
    "bounce": 0.99,  # 558/563: 4 misses are sisimai-only (fml list notices, post_master "Re:"),
    # 1 is a person forwarding a bounce ("Fwd: Returned mail"), which we keep as PERSON
    "feedback-report": 1.0,
    "auto-reply": 1.0,
    "delivery-success-report": 1.0,
    "not-bounce": 1.0,
}


@dataclass(frozen=True, slots=True)
class Labelled:
    """One corpus mail, its expected kind and expected number of bounced recipients."""

    path: Path
    kind: str
    recipient_count: int


def classify_file(path: Path) -> Classification:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
    return classify(message, own_addresses=OWN)


@pytest.fixture(scope="module")
def sisimai(corpus_dir: Path) -> Path:
    return corpus_dir / "sisimai-bounces"


@pytest.fixture(scope="module")
def labelled(sisimai: Path) -> list[Labelled]:
    entries = json.loads((sisimai / "expected.json").read_text(encoding="utf-8"))["entries"]
    return [
        Labelled(sisimai / entry["file"], entry["kind"], len(entry["recipients"]))
        for entry in entries
    ]


@pytest.fixture(scope="module")
def verdicts(labelled: list[Labelled]) -> dict[Path, Classification]:
    return {item.path: classify_file(item.path) for item in labelled}


def test_expected_json_covers_every_kind(labelled: list[Labelled]) -> None:
    kinds = Counter(item.kind for item in labelled)
    assert set(kinds) == set(ACCEPTED)
    assert kinds["bounce"] > 500


@pytest.mark.parametrize("kind", sorted(ACCEPTED))
def test_sisimai_rate_per_kind(
    kind: str, labelled: list[Labelled], verdicts: dict[Path, Classification]
) -> None:
    items = [item for item in labelled if item.kind == kind]
    misses = [item.path.name for item in items if verdicts[item.path].kind not in ACCEPTED[kind]]
    rate = 1 - len(misses) / len(items)
    print(f"sisimai {kind}: {len(items) - len(misses)}/{len(items)} = {rate:.3f}")
    assert rate >= MIN_RATE[kind], f"{kind}: {rate:.3f} < {MIN_RATE[kind]}; misses: {misses}"


def test_sisimai_bounce_recipients(
    labelled: list[Labelled], verdicts: dict[Path, Classification]
) -> None:
    """Failed recipients found for bounces, compared with sisimai's per-recipient records.

    Delay warnings are left out: by design they mark nobody as bouncing.
    """
    failures = [
        item
        for item in labelled
        if item.kind == "bounce"
        and verdicts[item.path].kind is MessageKind.BOUNCE
        and "delay" not in verdicts[item.path].reason
    ]
    found = sum(1 for item in failures if verdicts[item.path].bounced_recipients)
    exact = sum(
        1
        for item in failures
        if len(verdicts[item.path].bounced_recipients) == item.recipient_count
    )
    with_id = sum(1 for item in failures if verdicts[item.path].original_message_id)
    print(
        f"sisimai bounce recipients: some found {found}/{len(failures)}, "
        f"count equal to sisimai {exact}/{len(failures)}, original Message-ID {with_id}"
    )
    assert found / len(failures) >= 0.97
    assert exact / len(failures) >= 0.97
    assert with_id / len(failures) >= 0.88


def test_recipients_are_lowercase_addresses(verdicts: dict[Path, Classification]) -> None:
    for verdict in verdicts.values():
        for address in verdict.bounced_recipients:
            assert address == address.lower()
            assert "@" in address
            assert verdict.kind is MessageKind.BOUNCE


@pytest.mark.parametrize("variant", ["dos", "mac"])
def test_sisimai_line_ending_variants(sisimai: Path, variant: str) -> None:
    """CRLF and CR-only copies. They include rfc3834-01, a vacation reply, which is no bounce."""
    paths = sorted((sisimai / "maildir" / variant).iterdir())
    kinds = Counter(classify_file(path).kind for path in paths)
    bounce_rate = kinds[MessageKind.BOUNCE] / len(paths)
    machine_rate = 1 - kinds[MessageKind.PERSON] / len(paths)
    print(f"sisimai {variant}: {dict(kinds)}")
    assert len(paths) == 64
    assert bounce_rate >= 0.96
    assert machine_rate >= 0.98


def corpus_mail_files(corpus_dir: Path) -> Iterator[Path]:
    for path in sorted(corpus_dir.rglob("*")):
        if path.is_file() and path.name not in METADATA and "sisimai-bounces" not in path.parts:
            yield path


def test_every_corpus_file_classifies_without_the_safety_net(corpus_dir: Path) -> None:
    per_folder: dict[str, Counter[str]] = {}
    for path in corpus_mail_files(corpus_dir):
        verdict = classify_file(path)
        assert SAFETY_NET_MARKER not in verdict.reason, f"{path}: {verdict.reason}"
        folder = str(path.parent.relative_to(corpus_dir))
        per_folder.setdefault(folder, Counter())[verdict.kind.value] += 1
    for folder, kinds in sorted(per_folder.items()):
        print(f"{folder}: {dict(kinds)}")
    assert sum(sum(kinds.values()) for kinds in per_folder.values()) > 850


def _is_report(path: Path) -> bool:
    raw = path.read_bytes().lower()
    return b"multipart/report" in raw or b"message/delivery-status" in raw


# folder -> minimum share of PERSON among its non-report mails (measured, rounded down)
ORDINARY = {
    "talon/standard_replies": 1.0,
    "django-helpdesk": 1.0,
    "otobo-otrs-postmaster/PostMaster": 0.95,  # UTF8Filename.box carries Precedence: list
    "otobo-otrs-postmaster/EmailParser": 0.95,  # same file
    "request-tracker": 0.95,  # 8859-15 "dir" carries Precedence: bulk
    "ruby-mail/emails/plain_emails": 1.0,
    "ruby-mail/emails/attachment_emails": 1.0,
    "mime4j/testmsgs": 1.0,
}


@pytest.mark.parametrize("folder", sorted(ORDINARY))
def test_ordinary_mail_is_person(corpus_dir: Path, folder: str) -> None:
    paths = [
        path
        for path in sorted((corpus_dir / folder).rglob("*"))
        if path.is_file() and path.name not in METADATA and not _is_report(path)
    ]
    assert paths, f"no mail files under {folder}"
    verdicts = {path.name: classify_file(path) for path in paths}
    others = {name: v.reason for name, v in verdicts.items() if v.kind is not MessageKind.PERSON}
    rate = 1 - len(others) / len(paths)
    print(f"{folder}: person {len(paths) - len(others)}/{len(paths)} = {rate:.3f} {others}")
    assert rate >= ORDINARY[folder], others


def test_corpus_reports_outside_sisimai_are_bounces(corpus_dir: Path) -> None:
    """DSNs in the other folders (otobo, ruby-mail, cpython, RT, spamscope) are bounces."""
    reports = [path for path in corpus_mail_files(corpus_dir) if _is_report(path)]
    reports = [path for path in reports if path.suffix not in (".xml", ".out")]
    kinds = Counter(classify_file(path).kind for path in reports)
    print(f"reports outside sisimai: {dict(kinds)}")
    assert kinds[MessageKind.BOUNCE] / len(reports) >= 0.9
