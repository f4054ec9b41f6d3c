"""The code base stays clean: ruff's checks (configured in pyproject.toml) pass on every file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def _ruff() -> str:
    beside = Path(sys.executable).parent / "ruff"
    found = str(beside) if beside.exists() else shutil.which("ruff")
    assert found, "ruff is not installed: `make test` installs it with the dev extras"
    return found


def test_ruff_check_passes() -> None:
    result = subprocess.run(
        [_ruff(), "check", "--quiet", "."],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_mypy_strict_passes() -> None:
    """The packages type-check under mypy --strict (configured in pyproject.toml)."""
    mypy = Path(sys.executable).parent / "mypy"
    assert mypy.exists(), "mypy is not installed: `make test` installs it with the dev extras"
    result = subprocess.run(
        [str(mypy)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
