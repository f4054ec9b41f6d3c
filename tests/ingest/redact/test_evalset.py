"""The labelled evaluation set of the secrets redactor (bench/redact_evalset.py) and its
scorer (bench/redact_scoring.py): deterministic, big and varied enough, labels that match
the text, a scorer that tells a perfect redactor from a useless one, and regression floors
for the redactor measured on the set.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest

BENCH = str(Path(__file__).resolve().parents[3] / "bench")
if BENCH not in sys.path:
    sys.path.append(BENCH)  # appended: bench/ingest.py must not shadow the ingest package

from redact_evalset import SHAPES, DecoyLabel, Mail, SecretLabel, build_evalset  # noqa: E402
from redact_evalset_decoys import DECOY_KINDS  # noqa: E402
from redact_scoring import Score, score, score_field, units, visible  # noqa: E402

from ingest.redact.model import REDACTION_KINDS  # noqa: E402

ALNUM = re.compile(r"[^A-Za-z0-9]")


@pytest.fixture(scope="module")
def mails() -> list[Mail]:
    return build_evalset()


@pytest.fixture(scope="module")
def result(mails: list[Mail]) -> Score:
    return score(mails)


def test_same_seed_same_mails_other_seed_other_mails() -> None:
    assert build_evalset(7, 120) == build_evalset(7, 120)
    assert build_evalset(7, 120) != build_evalset(8, 120)


def test_set_is_big_and_covers_every_kind_shape_and_decoy_kind(mails: list[Mail]) -> None:
    secrets = [s for m in mails for s in m.secrets]
    decoys = [d for m in mails for d in m.decoys]
    assert len(secrets) >= 1500
    assert len(decoys) >= 3000
    kinds = Counter(s.kind for s in secrets)
    assert set(kinds) == REDACTION_KINDS
    assert min(kinds.values()) >= 60, kinds
    shapes = Counter(s.shape for s in secrets)
    assert set(shapes) == set(SHAPES)
    assert min(shapes.values()) >= 40, shapes
    decoy_kinds = Counter(d.kind for d in decoys)
    assert set(decoy_kinds) == set(DECOY_KINDS)
    assert len(decoy_kinds) >= 25
    assert min(decoy_kinds.values()) >= 60, decoy_kinds
    assert sum(m.html for m in mails) >= 100
    varieties = {s.variety for s in secrets}
    for needed in (
        "passphrase",
        "changed_from_to",
        "curl",
        "wifi",
        "session_cookie",
        "url_token",
        "uuid_key",
        "mailchimp_key",
        "unlabelled_key",
        "list",
        "mastercard_2series",
        "maestro",
        "amex",
        "discover",
    ):
        assert needed in varieties, needed


def test_labels_match_the_text(mails: list[Mail]) -> None:
    for mail in mails:
        labels: list[SecretLabel | DecoyLabel] = [*mail.secrets, *mail.decoys]
        for label in labels:
            text = mail.subject if label.field == "subject" else mail.body
            assert text[label.start : label.end] == label.value
            assert label.value.strip() == label.value or label.kind == "recovery_code"
        for s in mail.secrets:
            html = mail.html and s.field == "body"
            assert ALNUM.sub("", visible(s.value, html)) == ALNUM.sub("", s.typed), s
        spans = sorted((s.field, s.start, s.end) for s in labels)
        for (f1, _, e1), (f2, s2, _) in pairwise(spans):
            assert f1 != f2 or e1 <= s2, f"overlapping labels in mail {mail.id}"


def test_split_wrapped_and_quoted_values_are_really_broken(mails: list[Mail]) -> None:
    secrets = [s for m in mails for s in m.secrets]
    assert all("\n" in s.value for s in secrets if s.shape == "wrapped")
    assert all(
        " " in s.value or "-" in s.value or "." in s.value for s in secrets if s.shape == "split"
    )
    assert any("\n> " in s.value for s in secrets if s.shape == "quoted")
    assert any("<" in s.value or "&nbsp;" in s.value for s in secrets if s.shape == "html")


def test_units_of_short_and_split_values() -> None:
    assert units("123") == ["123"]
    assert units("03 / 29") == ["03 / 29"]
    assert units("4111 1111\n> 1111 1111") == ["4111", "1111"]
    assert units("xoxb-1 234567 890123") == ["234567", "890123"]


def _perfect(text: str, labels: list[tuple[int, int]]) -> str:
    for start, end in sorted(labels, reverse=True):
        text = text[:start] + "[secret removed]" + text[end:]
    return text


def test_scorer_tells_a_perfect_redactor_from_a_useless_one(mails: list[Mail]) -> None:
    for mail in mails[:250]:
        for field, text, html in (("subject", mail.subject, False), ("body", mail.body, mail.html)):
            spans = [(s.start, s.end) for s in mail.secrets if s.field == field]
            caught, kept = score_field(mail, field, text, _perfect(text, spans), html)
            assert all(r.caught for r in caught), [r.label for r in caught if not r.caught]
            assert all(d.kept for d in kept)
            leaked, kept = score_field(mail, field, text, text, html)
            assert not any(r.caught for r in leaked)
            assert all(d.kept for d in kept)


def test_scorer_sees_a_half_removed_secret_and_a_damaged_decoy(mails: list[Mail]) -> None:
    mail = next(m for m in mails if any(s.shape == "wrapped" for s in m.secrets))
    secret = next(s for s in mail.secrets if s.shape == "wrapped")
    text = mail.subject if secret.field == "subject" else mail.body
    first_line_only = (
        text[: secret.start] + "[key removed]" + text[secret.value.index("\n") + secret.start :]
    )
    found, _ = score_field(mail, secret.field, text, first_line_only, mail.html)
    assert not next(r for r in found if r.label == secret).caught
    decoy = next(d for d in mail.decoys if d.field == "body")
    damaged = mail.body[: decoy.start] + "[card removed]" + mail.body[decoy.end :]
    _, kept = score_field(mail, "body", mail.body, damaged, mail.html)
    assert not next(d for d in kept if d.label == decoy).kept


# Issue 15's targets, which the redactor now meets on this set: recall >= 0.98 overall and
# >= 0.95 per kind, decoys kept >= 0.99. (The detectors were widened with this set in view:
# tests/ingest/redact/test_fresh_probes.py holds sentences written apart from it.)
RECALL_FLOOR = 0.98  # issue 15's target; measured 0.999 (0.568 when the set was written)
# Issue 15's target of 0.95 for every kind; measured 0.995 for api_key, 1.000 for the rest
# (when the set was written: 0.29-0.79 for most kinds).
KIND_FLOORS = {
    kind: 0.95
    for kind in (
        "api_key",
        "bearer_token",
        "card",
        "card_cvv",
        "card_expiry",
        "connection_string",
        "jwt",
        "otp_code",
        "password",
        "private_key",
        "recovery_code",
        "url_credentials",
    )
}
DECOYS_KEPT_FLOOR = 0.99  # measured 0.998 over 4,113 decoys
DECOY_KIND_FLOOR = 0.97  # measured 1.000 for every kind (EAN barcodes were 0.952)


def test_recall_and_decoys_kept_stay_above_the_regression_floors(result: Score) -> None:
    assert result.recall() >= RECALL_FLOOR
    recall = {kind: ok / total for kind, (ok, total) in result.recall_by(lambda s: s.kind).items()}
    assert set(recall) == set(KIND_FLOORS)
    low = {kind: round(value, 3) for kind, value in recall.items() if value < KIND_FLOORS[kind]}
    assert not low, low
    assert result.decoys_kept() >= DECOYS_KEPT_FLOOR
    kept = result.kept_by_kind()
    assert min(ok / total for ok, total in kept.values()) >= DECOY_KIND_FLOOR, kept
