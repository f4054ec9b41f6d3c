"""Shared test fixtures: where the corpus is, and whether missing services fail or skip.

`POSTDESK_REQUIRE_SERVICES=1` (set by `.ci/run`) turns every "service or corpus is
missing" skip into a failure, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def services_required() -> bool:
    """True when a missing service or corpus must fail the test instead of skipping it."""
    return os.environ.get("POSTDESK_REQUIRE_SERVICES", "") not in ("", "0")


def skip_or_fail(reason: str) -> None:
    """Skip the test, or fail it under POSTDESK_REQUIRE_SERVICES=1."""
    if services_required():
        pytest.fail(f"{reason} (POSTDESK_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared email corpus: $POSTDESK_CORPUS, else ../shared/corpus beside the checkout."""
    configured = os.environ.get("POSTDESK_CORPUS")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "corpus"
    if not path.is_dir():
        skip_or_fail(
            f"email corpus not found at {path}; set POSTDESK_CORPUS to the shared/corpus folder"
        )
    return path


pytest_plugins = ["tests.db_fixtures"]
