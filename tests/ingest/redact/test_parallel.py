"""The redactor on two processes finds exactly what it finds on one, wherever the text is split.

The join of the two keyword scans is checked at every split of tricky and generated texts
in one process (the child's hits computed here); the fork itself, a failed child and a
failed fork are checked on a few texts, and the CLI on a text large enough to fork.
"""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.redact import parallel as redact_parallel
from ingest.redact.engine import find_spans
from ingest.redact.keywords import keyword_hits, keyword_words
from ingest.redact.redactor import redact_text
from ingest.redact.views import TextViews
from tests.ingest.redact.test_scans import _TEXTS, _TRICKY

REPO_ROOT = Path(__file__).resolve().parents[3]

# Keywords that straddle a split, values that run past it, hits that resume the scan.
_STRADDLING = [
    "Mot de passe: Sommer2024! and the mot de passe est hunter22 again",
    "api key: aB3+xY9zQw2LmN8pQ7rT5 api.key=aB3+xY9zQw2LmN8pQ7rT5 key-key-key- pass phrase x",
    "password password password: a1b2c3d4e5 " * 3,
    "sk_live_aB3xY9zQw2LmN8pQ7rT5 token=ghp_" + "a1B2" * 9 + " bearer x" * 2,
]


def _keyword_spans(text: str) -> list[object]:
    views = TextViews.of(text)
    return [span for _, found in keyword_hits(views, keyword_words(views), 0) for span in found]


def _joined(text: str, split: int, *, child_failed: bool = False) -> list[object]:
    views = TextViews.of(text)
    words = keyword_words(views)
    before, rest = redact_parallel.scan_until(views, words, split)
    later = None if child_failed else list(keyword_hits(views, words, split))
    return [*before, *redact_parallel.join_hits(rest, later)]


@pytest.mark.parametrize("text", _TRICKY + _STRADDLING)
def test_the_join_at_every_split_is_the_one_process_scan(text: str) -> None:
    expected = _keyword_spans(text)
    for split in range(len(text) + 2):
        assert _joined(text, split) == expected, split


@given(_TEXTS, st.integers(min_value=0, max_value=400))
def test_the_join_on_generated_text(text: str, split: int) -> None:
    assert _joined(text, split) == _keyword_spans(text)


def test_without_the_child_this_process_scans_to_the_end() -> None:
    text = _STRADDLING[1]
    assert _joined(text, len(text) // 2, child_failed=True) == _keyword_spans(text)


@pytest.mark.parametrize("text", _STRADDLING)
def test_the_forked_scan_finds_what_one_process_finds(text: str) -> None:
    for split in (0, len(text) // 3, len(text) // 2, len(text)):
        assert redact_parallel.find_spans_split(text, split) == find_spans(text)


def test_a_failed_child_or_fork_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "".join(_STRADDLING) + " 4242 4242 4242 4242 exp 12/29 "
    expected = find_spans(text)
    assert expected  # the text holds secrets of several detectors

    def fail(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("injected: the child cannot send its hits")

    with monkeypatch.context() as patch:
        patch.setattr(marshal, "dumps", fail)  # only the child marshals
        assert redact_parallel.find_spans_split(text, len(text) // 2) == expected

    def no_fork() -> int:
        raise OSError("injected: fork failed")

    monkeypatch.setattr(os, "fork", no_fork)
    assert redact_parallel.find_spans_split(text, len(text) // 2) == expected


def test_small_texts_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise AssertionError("forked for a small text")

    monkeypatch.setattr(os, "fork", no_fork)
    text = _STRADDLING[0]
    assert redact_parallel.redact_text_parallel(text) == redact_text(text)


@pytest.mark.skipif(not redact_parallel.can_fork(), reason="needs fork and two CPUs")
def test_postdesk_redact_on_a_large_text_prints_what_the_redactor_returns() -> None:
    # Rows as sparse as mail writes secrets (a credential dump packed tighter is removed
    # whole: see test_dense_keywords.py).
    prose = "The export of the call recordings stopped after the update, see the log below. " * 3
    rows = [
        f"row {n}: order {n:08d}, password: Sommer{n}!x and api key={n:04d}aB3+xY9zQw2LmN8pQ7rT5\n"
        + prose
        + "\n"
        for n in range(6_000)
    ]
    text = "".join(rows) + "card 4242 4242 4242 4242 cvv 123\n" + "".join(rows)
    assert len(text) > redact_parallel.MIN_PARALLEL_CHARS
    result = subprocess.run(
        [sys.executable, "-m", "postdesk", "redact"],
        input=text.encode(),
        capture_output=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.stdout.decode() == redact_text(text).text
    assert b"card: 1" in result.stderr and b"password: 12000" in result.stderr
